"""What treatment adds to other apps' pages: the chart's plans, the consent's next step, the portal.

Each function answers a context for its template, or None when the reader has nothing to see there.
They are registered in TreatmentConfig.ready().
"""

from django.db.models import Prefetch
from django.utils import timezone

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.roles import Permission
from cellclinic.catalogue.registry import therapy_name, therapy_plain_name
from cellclinic.core import plugs
from cellclinic.treatment.models import PlanStep, TreatmentPlan
from cellclinic.treatment.schedule import next_index
from cellclinic.treatment.selectors import consultations_ready_for_plan, next_step_of, plans_for_patient


def chart_panel(request, patient) -> dict | None:
    """The patient's plans with their next step, and "Make a plan" where a consent is in force."""
    user = request.user
    if user.is_patient or not has_permission(user, Permission.PATIENT_VIEW, patient.site_id):
        return None
    today = timezone.localdate()
    entries = []
    for plan in plans_for_patient(patient):
        steps = list(plan.steps.all())
        upcoming = next_index([step.due_date for step in steps], today)
        active = plan.status == TreatmentPlan.Status.ACTIVE
        shown = steps[upcoming] if upcoming is not None and active else None
        entries.append((plan, therapy_name(plan.therapy_code), shown))
    can_create = has_permission(user, Permission.PLAN_CREATE, patient.site_id)
    ready = consultations_ready_for_plan(patient) if can_create else []
    return {
        "patient": patient,
        "entries": entries,
        "ready": [(consultation, therapy_name(consultation.therapy_code)) for consultation in ready],
    }


def consent_panel(request, consent) -> dict | None:
    """On a signed consent with no plan made on it yet, for those who may plan: the plan is next."""
    user = request.user
    if user.is_patient or not consent.in_force:
        return None
    if not has_permission(user, Permission.PLAN_CREATE, consent.site_id):
        return None
    if TreatmentPlan.objects.filter(consent_id=consent.pk).exists():
        return None
    return {"consent": consent}


def _portal_plans(request, patient) -> list[TreatmentPlan]:
    """The patient's plans with their steps, read once per request for the portal's panels."""
    return plugs.request_cached(
        request,
        "portal_plans",
        lambda: list(
            TreatmentPlan.objects.filter(patient=patient)
            .select_related("consultation")
            .prefetch_related(Prefetch("steps", queryset=PlanStep.objects.order_by("sequence")))
            .order_by("-created_at", "-id")
        ),
    )


def portal_panel(request, patient) -> dict:
    """The patient's plans, each as a timeline."""
    plans = _portal_plans(request, patient)
    return {"plans": [(plan, therapy_plain_name(plan.therapy_code)) for plan in plans]}


def portal_next(request, patient) -> dict | None:
    """The next step of an active plan, with what to expect from it."""
    step = next_step_of(_portal_plans(request, patient), timezone.localdate())
    return {"next_step": step} if step else None
