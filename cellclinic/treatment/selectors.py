"""Reads of treatment plans, always scoped to what the user may see."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404

from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.catalogue.registry import get_catalogue, therapy_plain_name
from cellclinic.consents.models import Consent
from cellclinic.consultations.models import Consultation
from cellclinic.patients.models import Patient
from cellclinic.treatment.models import PlanStep, TreatmentPlan
from cellclinic.treatment.schedule import what_to_expect
from cellclinic.treatment.timeline import patient_label


def _with_steps(plans: QuerySet[TreatmentPlan]) -> QuerySet[TreatmentPlan]:
    return plans.select_related("patient", "site").prefetch_related(
        Prefetch("steps", queryset=PlanStep.objects.order_by("sequence"))
    )


def plan_get_for_staff(user: User, plan_id: int) -> TreatmentPlan:
    """A plan with its steps for a staff page or endpoint; 404 for portal users, missing or elsewhere."""
    if not user.is_authenticated or user.is_patient:
        raise Http404("Not found")
    plan = _with_steps(TreatmentPlan.objects.visible_to(user)).filter(pk=plan_id).first()
    if plan is None:
        raise Http404("Not found")
    return plan


def plans_for_patient(patient: Patient) -> list[TreatmentPlan]:
    """A patient's plans, newest first, each with its steps (two queries however many there are)."""
    return list(_with_steps(TreatmentPlan.objects.filter(patient=patient)).order_by("-created_at", "-id"))


def plans_for_staff_list(user: User, patient_id: int | None = None) -> QuerySet[TreatmentPlan]:
    """Plans a staff user may see, optionally of one patient, newest first."""
    plans = (
        TreatmentPlan.objects.visible_to(user)
        .select_related("patient", "site")
        .order_by("-created_at", "-id")
    )
    if patient_id is not None:
        plans = plans.filter(patient_id=patient_id)
    return plans


def consultations_ready_for_plan(patient: Patient) -> list[Consultation]:
    """Decided "proceed" consultations with a signed consent for the therapy and no active plan."""
    signed = Consent.objects.filter(
        consultation=OuterRef("pk"), therapy_code=OuterRef("therapy_code"), status=Consent.Status.SIGNED
    )
    planned = TreatmentPlan.objects.filter(consultation=OuterRef("pk"), status=TreatmentPlan.Status.ACTIVE)
    return list(
        Consultation.objects.filter(
            patient=patient,
            status=Consultation.Status.DECIDED,
            decision=Consultation.Decision.PROCEED,
        )
        .filter(Exists(signed))
        .exclude(Exists(planned))
        .order_by("-decided_at", "-id")
    )


def consultation_get_for_planning(user: User, consultation_id: int) -> Consultation:
    """A consultation at a site where USER may make plans; 404 otherwise, missing or elsewhere."""
    consultation = (
        Consultation.objects.visible_to(user, Permission.PLAN_CREATE)
        .select_related("patient", "site")
        .filter(pk=consultation_id)
        .first()
    )
    if consultation is None:
        raise Http404("Not found")
    return consultation


@dataclass(frozen=True)
class NextStep:
    """The next thing that happens in a patient's active plan, and what to expect from it."""

    plan: TreatmentPlan
    step: PlanStep
    therapy_name: str
    expect: list[str]

    @property
    def label(self) -> str:
        """The step's label in the patient's words."""
        return patient_label(self.step.kind, self.step.label)


def next_step_of(plans: list[TreatmentPlan], today: date) -> NextStep | None:
    """The earliest step due today or later over the active plans (their steps already fetched)."""
    upcoming = [
        (step.due_date, plan.pk, step.sequence, plan, step)
        for plan in plans
        if plan.status == TreatmentPlan.Status.ACTIVE
        for step in plan.steps.all()
        if step.due_date >= today
    ]
    if not upcoming:
        return None
    *_, plan, step = min(upcoming, key=lambda item: item[:3])
    # What to expect comes from the protocol version the plan was laid out from.
    therapy = get_catalogue().therapy(plan.therapy_code, plan.therapy_version)
    indication = plan.consultation.indication or None
    expect = what_to_expect(therapy, step.kind, indication) if therapy else []
    # Read by the patient: the therapy's plain name.
    return NextStep(plan, step, therapy_plain_name(plan.therapy_code), expect)
