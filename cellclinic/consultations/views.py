"""Consultation pages: the overview, a page per step, and its photographs: gate, call the service, answer."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cellclinic.accounts.access import has_permission, require_permission
from cellclinic.accounts.roles import Permission
from cellclinic.accounts.throttle import with_password_entry
from cellclinic.audit.selectors import signatures_of
from cellclinic.audit.services import record_read
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.catalogue.vocabulary import INDICATIONS
from cellclinic.consultations import services, steps
from cellclinic.consultations.forms import (
    AlternativesForm,
    CandidacyForm,
    DecisionForm,
    ExpectationsForm,
    FindingsForm,
    GoalsForm,
)
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.selectors import consultation_earlier_answers, consultation_get_for_user
from cellclinic.consultations.severity import descriptors_for, scales_for
from cellclinic.core import plugs
from cellclinic.core.errors import InvalidInput
from cellclinic.core.forms import add_service_errors
from cellclinic.core.limits import accepts_upload
from cellclinic.patients.selectors import patient_get_for_user
from cellclinic.photos import services as photo_services
from cellclinic.photos.forms import PhotoForm
from cellclinic.photos.models import Photo
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
            return redirect(_step_url(consultation, steps.STEPS[0].name))
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


def _facts(consultation: Consultation) -> steps.Facts:
    offered = len(services.alternatives_for_indication(consultation.indication))
    return steps.facts_of(consultation, alternatives_offered=offered)


def _can_run(user, consultation: Consultation) -> bool:
    return consultation.status == Consultation.Status.OPEN and has_permission(
        user, Permission.CONSULTATION_RUN, consultation.site_id
    )


def _step_url(consultation: Consultation, name: str) -> str:
    return reverse("consultations:step", args=[consultation.pk, name])


def _read(request, consultation_id: int) -> Consultation:
    """A consultation the user may read (PATIENT_VIEW at its clinic; never a portal patient), else 404."""
    _staff_only(request)
    require_permission(request.user, Permission.PATIENT_VIEW)
    return consultation_get_for_user(request.user, consultation_id)


def _assessment_context(consultation: Consultation) -> dict:
    assessment = consultation.assessment
    result = (assessment.result or {}) if assessment else None
    return {
        "assessment": assessment,
        "result": result,
        "expectations": result.get("expectations") if result else None,
    }


# The overview --------------------------------------------------------------------------------------


@login_required
def consultation_detail(request, consultation_id: int):
    """The consultation's overview: each step with its state and what it holds, and a link to it."""
    consultation = _read(request, consultation_id)
    record_read(request, consultation)
    facts = _facts(consultation)
    catalogue = get_catalogue()
    can_run = _can_run(request.user, consultation)
    progress = steps.progress(facts)
    context = {
        "nav_active": "patients",
        "consultation": consultation,
        "patient": consultation.patient,
        "can_run": can_run,
        "progress": progress,
        "decision_needs_text": steps.decision_needs_text(),
        "states": {state.name: state for state in progress},
        "continue_with": steps.first_to_do(facts) if can_run else None,
        "decision_missing": steps.decision_missing(facts),
        "indication_label": INDICATIONS.get(consultation.indication, ""),
        **_assessment_context(consultation),
        "alternatives_discussed": [
            catalogue.alternatives[c].name
            for c in consultation.alternatives_discussed
            if c in catalogue.alternatives
        ],
        "alternatives_offered": facts.alternatives_offered,
        "photo_count": Photo.objects.filter(consultation=consultation).count(),
        # The protocol as decided on.
        "therapy": catalogue.therapy(consultation.therapy_code, consultation.therapy_version)
        or catalogue.therapies.get(consultation.therapy_code),
        "alternative": catalogue.alternatives.get(consultation.alternative_code),
        "signatures": signatures_of("consultation", consultation.pk, limit=SIGNATURES_SHOWN)
        if consultation.status == Consultation.Status.DECIDED
        else [],
        # What later stages add to the page (consent, once the decision is to proceed).
        "panels": plugs.render_panels("consultation", request, consultation),
    }
    return render(request, "consultations/detail.html", context)


# The steps -----------------------------------------------------------------------------------------


def _goals_context(request, consultation, form, can_run) -> dict:
    if can_run and form is None:
        form = GoalsForm(
            initial={"goals": consultation.goals, "target_areas": "\n".join(consultation.target_areas)}
        )
    return {"form": form}


def _findings_context(request, consultation, form, can_run) -> dict:
    if can_run and form is None:
        form = FindingsForm(consultation=consultation)
    return {
        "form": form,
        "indication_label": INDICATIONS.get(consultation.indication, ""),
        "photos": photos_of(consultation),
        "can_upload": has_permission(request.user, Permission.PHOTO_UPLOAD, consultation.site_id),
    }


def _candidacy_context(request, consultation, form, can_run) -> dict:
    if can_run and form is None:
        form = CandidacyForm(answers=_answers_for(consultation))
    return {"form": form, **_assessment_context(consultation)}


def _expectations_context(request, consultation, form, can_run) -> dict:
    if can_run and form is None and consultation.assessment_id:
        form = ExpectationsForm(initial={"discussed": consultation.expectations_discussed_at is not None})
    return {"form": form, **_assessment_context(consultation)}


def _alternatives_context(request, consultation, form, can_run) -> dict:
    alternatives = services.alternatives_for_indication(consultation.indication)
    if can_run and form is None and alternatives:
        form = AlternativesForm(
            alternatives=alternatives, initial={"alternatives_discussed": consultation.alternatives_discussed}
        )
    catalogue = get_catalogue()
    return {
        "form": form,
        "alternatives": alternatives,
        "indication_label": INDICATIONS.get(consultation.indication, ""),
        "alternatives_discussed": [
            catalogue.alternatives[c].name
            for c in consultation.alternatives_discussed
            if c in catalogue.alternatives
        ],
    }


def _decision_form(consultation, data=None) -> DecisionForm:
    return DecisionForm(
        data,
        therapies=services.therapies_for_indication(consultation.indication),
        alternatives=services.alternatives_for_indication(consultation.indication),
    )


def _decision_context(request, consultation, form, can_run) -> dict:
    if can_run and form is None:
        form = _decision_form(consultation)
    catalogue = get_catalogue()
    decided = consultation.status == Consultation.Status.DECIDED
    return {
        "form": form,
        "outcome": consultation.assessment.outcome if consultation.assessment_id else "",
        "therapy": catalogue.therapy(consultation.therapy_code, consultation.therapy_version)
        or catalogue.therapies.get(consultation.therapy_code),
        "alternative": catalogue.alternatives.get(consultation.alternative_code),
        "signatures": (
            signatures_of("consultation", consultation.pk, limit=SIGNATURES_SHOWN) if decided else []
        ),
    }


STEP_CONTEXTS = {
    steps.GOALS: _goals_context,
    steps.FINDINGS: _findings_context,
    steps.CANDIDACY: _candidacy_context,
    steps.EXPECTATIONS: _expectations_context,
    steps.ALTERNATIVES: _alternatives_context,
    steps.DECISION: _decision_context,
}


def _render_step(request, consultation: Consultation, name: str, *, form=None, status: int = 200):
    """The step page: the progress through the steps, this step's one form (or what it holds), Back and
    Next."""
    facts = _facts(consultation)
    can_run = _can_run(request.user, consultation)
    context = {
        "nav_active": "patients",
        "consultation": consultation,
        "patient": consultation.patient,
        "can_run": can_run,
        "step": steps.BY_NAME[name],
        "progress": steps.progress(facts, current=name),
        "decision_needs_text": steps.decision_needs_text(),
        "previous": steps.previous_step(name),
        "next": steps.next_step(name),
        "next_open": name != steps.ALTERNATIVES or not steps.decision_missing(facts),
        "step_template": f"consultations/steps/_{name}.html",
        **STEP_CONTEXTS[name](request, consultation, form, can_run),
    }
    return render(request, "consultations/step.html", context, status=status)


def _saved(request, consultation: Consultation, name: str, message: str):
    """After a save: the next step; the overview after the last, or when the decision is not open yet."""
    messages.success(request, message)
    following = steps.next_step(name)
    if following is not None and following.name == steps.DECISION:
        consultation.refresh_from_db()
        if steps.decision_missing(_facts(consultation)):
            following = None
    if following is None:
        return redirect("consultations:detail", consultation_id=consultation.pk)
    return redirect(_step_url(consultation, following.name))


def _refused(request, consultation: Consultation, name: str, form):
    """The step again with the errors on its form; the record as it is, since nothing was written."""
    consultation.refresh_from_db()
    return _render_step(request, consultation, name, form=form, status=422)


def _save_goals(request, consultation):
    form = GoalsForm(request.POST)
    if form.is_valid():
        try:
            services.consultation_update(
                consultation=consultation, actor=request.user, data=form.service_data()
            )
        except InvalidInput as error:
            add_service_errors(form, error)
        else:
            return _saved(request, consultation, steps.GOALS, "The patient's goals are saved.")
    return _refused(request, consultation, steps.GOALS, form)


def _save_findings(request, consultation):
    """The findings: each item of the chosen scale is checked by the service, its error next to it.
    A new indication brings its own scales, so the step stays open for them to be scored."""
    indication_before = consultation.indication
    form = FindingsForm(request.POST, consultation=consultation)
    if form.is_valid():
        try:
            updated = services.consultation_update(
                consultation=consultation, actor=request.user, data=form.service_data()
            )
        except InvalidInput as error:
            form.add_service_errors(error)
        else:
            if updated.indication != indication_before and (
                scales_for(updated.indication) or descriptors_for(updated.indication)
            ):
                label = INDICATIONS.get(updated.indication, updated.indication).lower()
                messages.success(
                    request, f"The findings are saved. Score the severity on a scale for {label} below."
                )
                return redirect(_step_url(consultation, steps.FINDINGS))
            return _saved(request, consultation, steps.FINDINGS, "The findings are saved.")
    return _refused(request, consultation, steps.FINDINGS, form)


def _save_candidacy(request, consultation):
    form = CandidacyForm(request.POST)
    if form.is_valid():
        try:
            services.consultation_assessment_run(
                consultation=consultation, actor=request.user, answers=form.answers()
            )
        except InvalidInput as error:
            add_service_errors(form, error)
        else:
            message = "The candidacy assessment is recorded with your answers."
            return _saved(request, consultation, steps.CANDIDACY, message)
    return _refused(request, consultation, steps.CANDIDACY, form)


def _save_expectations(request, consultation):
    form = ExpectationsForm(request.POST)
    if form.is_valid():
        try:
            if consultation.expectations_discussed_at is None:
                services.consultation_expectations_discussed(consultation=consultation, actor=request.user)
        except InvalidInput as error:
            add_service_errors(form, error)
        else:
            return _saved(
                request,
                consultation,
                steps.EXPECTATIONS,
                "Recorded: the expectation sheet was discussed with the patient.",
            )
    return _refused(request, consultation, steps.EXPECTATIONS, form)


def _save_alternatives(request, consultation):
    alternatives = services.alternatives_for_indication(consultation.indication)
    form = AlternativesForm(request.POST, alternatives=alternatives)
    if form.is_valid():
        try:
            codes = form.cleaned_data["alternatives_discussed"]
            services.consultation_alternatives_set(consultation=consultation, actor=request.user, codes=codes)
        except InvalidInput as error:
            add_service_errors(form, error)
        else:
            return _saved(request, consultation, steps.ALTERNATIVES, "The alternatives discussed are saved.")
    return _refused(request, consultation, steps.ALTERNATIVES, form)


def _save_decision(request, consultation):
    form = _decision_form(consultation, request.POST)
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
        return _saved(request, consultation, steps.DECISION, "The decision is signed.")
    consultation.refresh_from_db()
    return _render_step(request, consultation, steps.DECISION, form=form, status=status)


SAVES = {
    steps.GOALS: _save_goals,
    steps.FINDINGS: _save_findings,
    steps.CANDIDACY: _save_candidacy,
    steps.EXPECTATIONS: _save_expectations,
    steps.ALTERNATIVES: _save_alternatives,
    steps.DECISION: _save_decision,
}


@login_required
@require_http_methods(["GET", "POST"])
def consultation_step(request, consultation_id: int, name: str):
    """One step of the consultation: read it (PATIENT_VIEW), or save its one form (CONSULTATION_RUN).

    The decision opens once the steps it rests on are done; before that its page leads to the first of
    them, and a decision posted all the same is refused by the service, naming each missing step.
    """
    if name not in steps.BY_NAME:
        raise Http404("Not found")
    if request.method == "POST":
        consultation = _run(request, consultation_id)
        if consultation.status == Consultation.Status.DECIDED:
            messages.error(request, services.DECIDED)
            return _render_step(request, consultation, name, status=422)
        return SAVES[name](request, consultation)
    consultation = _read(request, consultation_id)
    if name == steps.DECISION:
        missing = steps.decision_missing(_facts(consultation))
        if missing:
            messages.info(request, f"The decision opens once these steps are done: {steps.titles(missing)}.")
            return redirect(_step_url(consultation, missing[0].name))
    record_read(request, consultation)
    return _render_step(request, consultation, name)


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
