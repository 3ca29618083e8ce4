"""Consultation pages, section by section, and its photographs: gate, call the service, answer."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from cellclinic.accounts.access import has_permission, require_permission
from cellclinic.accounts.roles import Permission
from cellclinic.accounts.throttle import with_password_entry
from cellclinic.audit.selectors import signatures_of
from cellclinic.audit.services import record_read
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.catalogue.vocabulary import INDICATIONS
from cellclinic.consultations import services
from cellclinic.consultations.forms import (
    AlternativesForm,
    CandidacyForm,
    DecisionForm,
    FindingsForm,
    GoalsForm,
)
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.selectors import consultation_earlier_answers, consultation_get_for_user
from cellclinic.core import plugs
from cellclinic.core.errors import InvalidInput
from cellclinic.core.forms import add_service_errors
from cellclinic.core.limits import accepts_upload
from cellclinic.patients.selectors import patient_get_for_user
from cellclinic.photos import services as photo_services
from cellclinic.photos.forms import PhotoForm
from cellclinic.photos.selectors import photos_of

SIGNATURES_SHOWN = 20


def _staff_only(request) -> None:
    if request.user.is_patient:
        raise Http404("Not found")


def _run(request, consultation_id: int) -> Consultation:
    """A consultation the user may work on (CONSULTATION_RUN at its clinic), else 404."""
    _staff_only(request)
    require_permission(request.user, Permission.CONSULTATION_RUN)
    return consultation_get_for_user(request.user, consultation_id, permission=Permission.CONSULTATION_RUN)


# Consultation ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def consultation_start_view(request, pk: int):
    """Confirm, then open a consultation for the patient (optionally from an enquiry)."""
    _staff_only(request)
    require_permission(request.user, Permission.CONSULTATION_RUN)
    patient = patient_get_for_user(request.user, pk)
    if not has_permission(request.user, Permission.CONSULTATION_RUN, patient.site_id):
        raise Http404("Not found")
    enquiry = None
    enquiry_id = request.POST.get("enquiry") or request.GET.get("enquiry")
    if enquiry_id:
        from cellclinic.candidacy.models import Enquiry

        if not str(enquiry_id).isdigit():
            raise Http404("Not found")
        enquiry = Enquiry.objects.filter(pk=int(enquiry_id), site_id=patient.site_id).first()
        if enquiry is None:
            raise Http404("Not found")
    errors = None
    if request.method == "POST":
        try:
            consultation = services.consultation_start(patient=patient, actor=request.user, enquiry=enquiry)
        except InvalidInput as error:
            errors = error
        else:
            messages.success(request, f"Consultation started for {patient.full_name}.")
            return redirect("consultations:detail", consultation_id=consultation.pk)
    context = {"nav_active": "patients", "patient": patient, "enquiry": enquiry, "errors": errors}
    return render(request, "consultations/start.html", context, status=422 if errors else 200)


def _answers_for(consultation: Consultation) -> dict:
    """The candidacy questions prefilled from the chart and, where it is silent, the patient's own answers."""
    from cellclinic.candidacy.services import chart_answers

    earlier = consultation_earlier_answers(consultation)
    concerns = [consultation.indication or consultation.patient.presenting_concern]
    return chart_answers(
        consultation.patient,
        concerns=[c for c in concerns if c],
        area=earlier.get("area") or "face",
        expectation=earlier.get("expectation") or "gradual_improvement",
        earlier=earlier,
    )


def _detail_context(request, consultation: Consultation, **forms) -> dict:
    user = request.user
    can_run = consultation.status == Consultation.Status.OPEN and has_permission(
        user, Permission.CONSULTATION_RUN, consultation.site_id
    )
    alternatives = services.alternatives_for_indication(consultation.indication)
    therapies = services.therapies_for_indication(consultation.indication)
    catalogue = get_catalogue()
    assessment = consultation.assessment
    context = {
        "nav_active": "patients",
        "consultation": consultation,
        "patient": consultation.patient,
        "can_run": can_run,
        "can_upload": has_permission(user, Permission.PHOTO_UPLOAD, consultation.site_id),
        "indication_label": INDICATIONS.get(consultation.indication, ""),
        "assessment": assessment,
        "result": assessment.result if assessment else None,
        "expectations": (assessment.result or {}).get("expectations") if assessment else None,
        "alternatives": alternatives,
        "alternatives_discussed": [
            catalogue.alternatives[c].name
            for c in consultation.alternatives_discussed
            if c in catalogue.alternatives
        ],
        # The protocol as decided on; before a decision, the current one.
        "therapy": catalogue.therapy(consultation.therapy_code, consultation.therapy_version)
        or catalogue.therapies.get(consultation.therapy_code),
        "alternative": catalogue.alternatives.get(consultation.alternative_code),
        "photos": photos_of(consultation),
        "signatures": signatures_of("consultation", consultation.pk, limit=SIGNATURES_SHOWN),
        # What later stages add to the page (consent, once the decision is to proceed).
        "panels": plugs.render_panels("consultation", request, consultation),
    }
    if can_run:
        context.update(
            goals_form=forms.get("goals_form")
            or GoalsForm(
                initial={"goals": consultation.goals, "target_areas": "\n".join(consultation.target_areas)}
            ),
            findings_form=forms.get("findings_form") or FindingsForm(consultation=consultation),
            candidacy_form=forms.get("candidacy_form") or CandidacyForm(answers=_answers_for(consultation)),
            alternatives_form=forms.get("alternatives_form")
            or AlternativesForm(
                alternatives=alternatives,
                initial={"alternatives_discussed": consultation.alternatives_discussed},
            ),
            decision_form=forms.get("decision_form")
            or DecisionForm(therapies=therapies, alternatives=alternatives),
            expectations_error=forms.get("expectations_error"),
        )
    return context


@login_required
def consultation_detail(request, consultation_id: int):
    """The consultation, section by section, from the goals to the signed decision."""
    _staff_only(request)
    require_permission(request.user, Permission.PATIENT_VIEW)
    consultation = consultation_get_for_user(request.user, consultation_id)
    record_read(request, consultation)
    return render(request, "consultations/detail.html", _detail_context(request, consultation))


def _section_failed(request, consultation, **forms):
    consultation.refresh_from_db()
    return render(
        request, "consultations/detail.html", _detail_context(request, consultation, **forms), status=422
    )


def _back(consultation: Consultation, anchor: str):
    return redirect(reverse("consultations:detail", args=[consultation.pk]) + f"#{anchor}")


def _section(request, consultation: Consultation, form, *, name: str, anchor: str, saved: str, save):
    """One section's form: valid input goes to SAVE (a service call); its errors come back on the form."""
    if form.is_valid():
        try:
            save(form.cleaned_data)
        except InvalidInput as error:
            add_service_errors(form, error)
        else:
            messages.success(request, saved)
            return _back(consultation, anchor)
    return _section_failed(request, consultation, **{name: form})


@login_required
@require_POST
def consultation_goals(request, consultation_id: int):
    consultation = _run(request, consultation_id)
    form = GoalsForm(request.POST)
    return _section(
        request,
        consultation,
        form,
        name="goals_form",
        anchor="goals",
        saved="The goals are saved.",
        save=lambda _data: services.consultation_update(
            consultation=consultation, actor=request.user, data=form.service_data()
        ),
    )


@login_required
@require_POST
def consultation_findings(request, consultation_id: int):
    """The findings: each item of the chosen scale is checked by the service, its error next to it."""
    consultation = _run(request, consultation_id)
    form = FindingsForm(request.POST, consultation=consultation)
    if form.is_valid():
        try:
            services.consultation_update(
                consultation=consultation, actor=request.user, data=form.service_data()
            )
        except InvalidInput as error:
            form.add_service_errors(error)
        else:
            messages.success(request, "The findings are saved.")
            return _back(consultation, "findings")
    return _section_failed(request, consultation, findings_form=form)


@login_required
@require_POST
def consultation_candidacy(request, consultation_id: int):
    consultation = _run(request, consultation_id)
    form = CandidacyForm(request.POST)
    return _section(
        request,
        consultation,
        form,
        name="candidacy_form",
        anchor="candidacy",
        saved="The candidacy assessment is recorded with your answers.",
        save=lambda _data: services.consultation_assessment_run(
            consultation=consultation, actor=request.user, answers=form.answers()
        ),
    )


@login_required
@require_POST
def consultation_expectations(request, consultation_id: int):
    consultation = _run(request, consultation_id)
    try:
        services.consultation_expectations_discussed(consultation=consultation, actor=request.user)
    except InvalidInput as error:
        return _section_failed(request, consultation, expectations_error=error.errors[0].message)
    messages.success(request, "Recorded: the expectation sheet was discussed with the patient.")
    return _back(consultation, "expectations")


@login_required
@require_POST
def consultation_alternatives(request, consultation_id: int):
    consultation = _run(request, consultation_id)
    alternatives = services.alternatives_for_indication(consultation.indication)
    form = AlternativesForm(request.POST, alternatives=alternatives)
    return _section(
        request,
        consultation,
        form,
        name="alternatives_form",
        anchor="alternatives",
        saved="The alternatives discussed are saved.",
        save=lambda data: services.consultation_alternatives_set(
            consultation=consultation, actor=request.user, codes=data["alternatives_discussed"]
        ),
    )


@login_required
@require_POST
def consultation_decision(request, consultation_id: int):
    consultation = _run(request, consultation_id)
    form = DecisionForm(
        request.POST,
        therapies=services.therapies_for_indication(consultation.indication),
        alternatives=services.alternatives_for_indication(consultation.indication),
    )
    data = form.cleaned_data if form.is_valid() else {}
    done, status = with_password_entry(
        request,
        form,
        lambda: services.consultation_decide(
            consultation=consultation,
            actor=request.user,
            password=data["password"],
            decision=data["decision"],
            therapy_code=data["therapy_code"],
            alternative_code=data["alternative_code"],
            notes=data["decision_notes"],
        ),
    )
    if done:
        messages.success(request, "The decision is signed.")
        return _back(consultation, "decision")
    consultation.refresh_from_db()
    context = _detail_context(request, consultation, decision_form=form)
    return render(request, "consultations/detail.html", context, status=status)


@accepts_upload(lambda: settings.PHOTO_MAX_BYTES)
@login_required
@require_http_methods(["GET", "POST"])
def consultation_photos(request, consultation_id: int):
    """Baseline photographs in standard views: the list and the upload form."""
    _staff_only(request)
    require_permission(request.user, Permission.PHOTO_UPLOAD)
    consultation = consultation_get_for_user(
        request.user, consultation_id, permission=Permission.PHOTO_UPLOAD
    )
    form = PhotoForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            # One byte more than allowed is enough to tell that a file is too large.
            data = form.cleaned_data["image"].read(settings.PHOTO_MAX_BYTES + 1)
            try:
                photo_services.photo_upload(
                    consultation=consultation,
                    actor=request.user,
                    data=data,
                    view=form.cleaned_data["view"],
                    area=form.cleaned_data["area"],
                    taken_on=form.cleaned_data["taken_on"],
                )
            except InvalidInput as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "The photograph is saved, without its location and camera details.")
                return redirect("consultations:photos", consultation_id=consultation.pk)
        status = 422
    context = {
        "nav_active": "patients",
        "consultation": consultation,
        "patient": consultation.patient,
        "photos": photos_of(consultation),
        "form": form,
    }
    return render(request, "consultations/photos.html", context, status=status)
