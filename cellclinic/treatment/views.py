"""Treatment plan pages: lay out a plan (with a preview first) and read it as a timeline."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cellclinic.accounts.access import require_permission
from cellclinic.accounts.roles import Permission
from cellclinic.audit.services import record_read
from cellclinic.catalogue.registry import therapy_name
from cellclinic.consents.selectors import consent_in_force
from cellclinic.core.errors import InvalidInput
from cellclinic.core.forms import add_service_errors
from cellclinic.treatment.forms import PlanForm
from cellclinic.treatment.selectors import consultation_get_for_planning, plan_get_for_staff
from cellclinic.treatment.services import plan_create, plan_preview, plan_therapy, processing_slot


@login_required
@require_http_methods(["GET", "POST"])
def plan_new(request, consultation_id: int):
    """Choose the harvest (or first treatment) date, see the timeline, then save the plan."""
    require_permission(request.user, Permission.PLAN_CREATE)
    consultation = consultation_get_for_planning(request.user, consultation_id)
    # The plan follows the protocol version the patient consented to, not whatever is current.
    therapy = plan_therapy(consultation, consent_in_force(consultation))
    form = PlanForm(request.POST or None, autologous=therapy.autologous if therapy else None)
    preview, status = None, 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            dates = {
                "harvest_date": form.cleaned_data.get("harvest_date"),
                "start_date": form.cleaned_data.get("start_date"),
            }
            try:
                if request.POST.get("action") == "save":
                    plan = plan_create(consultation=consultation, actor=request.user, **dates)
                else:
                    preview = plan_preview(consultation=consultation, **dates)
                    status = 200
            except InvalidInput as error:
                add_service_errors(form, error)
            else:
                if preview is None:
                    messages.success(request, "The treatment plan is saved.")
                    return redirect("treatment:detail", plan_id=plan.pk)
    # Booking a harvest: the first day the clinic's lab could start growing the cells.
    earliest_slot = None
    if therapy is not None:
        earliest_slot = processing_slot(site=consultation.site, therapy=therapy, wanted=timezone.localdate())
    context = {
        "nav_active": "patients",
        "consultation": consultation,
        "patient": consultation.patient,
        "therapy": therapy,
        "therapy_name": therapy_name(consultation.therapy_code),
        "form": form,
        "preview": preview,
        "earliest_slot": earliest_slot,
    }
    return render(request, "treatment/new.html", context, status=status)


@login_required
def plan_detail(request, plan_id: int):
    """The plan's timeline: phases, dates and windows, the main result visit, what comes next."""
    require_permission(request.user, Permission.PATIENT_VIEW)
    plan = plan_get_for_staff(request.user, plan_id)
    record_read(request, plan)
    context = {
        "nav_active": "patients",
        "plan": plan,
        "patient": plan.patient,
        "therapy_name": therapy_name(plan.therapy_code),
    }
    return render(request, "treatment/detail.html", context)
