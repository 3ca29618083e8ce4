"""Consultation, photograph and consent pages: gate, call the service, answer. Nothing else."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from cellclinic.accounts.access import has_permission, require_permission
from cellclinic.accounts.roles import Permission
from cellclinic.accounts.throttle import with_password_entry
from cellclinic.audit.selectors import signatures_of
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.consultations import services
from cellclinic.consultations.forms import (
    AlternativesForm,
    CandidacyForm,
    ConsentInClinicForm,
    ConsentSignForm,
    CountersignForm,
    DecisionForm,
    FindingsForm,
    GoalsForm,
    PhotoForm,
    WithdrawPatientForm,
    WithdrawStaffForm,
)
from cellclinic.consultations.models import Consent, Consultation
from cellclinic.consultations.selectors import (
    consent_get_for_user,
    consent_live,
    consultation_get_for_user,
    photo_get_for_user,
    photos_of,
)
from cellclinic.consultations.severity import SCALES_BY_INDICATION
from cellclinic.core.errors import Forbidden, InvalidInput
from cellclinic.core.forms import add_service_errors
from cellclinic.patients.screening import INDICATIONS
from cellclinic.patients.selectors import patient_get_for_user

SIGNATURES_SHOWN = 20
PRIVATE = "private, no-store"


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


def _earlier(consultation: Consultation) -> dict:
    """The patient's own self-assessment answers, when the consultation came from their request."""
    enquiry = consultation.enquiry
    return enquiry.assessment.answers if enquiry is not None and enquiry.assessment_id else {}


def _answers_for(consultation: Consultation) -> dict:
    """The candidacy questions prefilled from the chart and, where it is silent, the patient's own answers."""
    from cellclinic.candidacy.services import chart_answers

    earlier = _earlier(consultation)
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
        "can_prepare": has_permission(user, Permission.CONSENT_PREPARE, consultation.site_id),
        "indication_label": INDICATIONS.get(consultation.indication, ""),
        "scales": SCALES_BY_INDICATION.get(consultation.indication, ()),
        "assessment": assessment,
        "result": assessment.result if assessment else None,
        "expectations": (assessment.result or {}).get("expectations") if assessment else None,
        "alternatives": alternatives,
        "alternatives_discussed": [
            catalogue.alternatives[c].name
            for c in consultation.alternatives_discussed
            if c in catalogue.alternatives
        ],
        "therapy": catalogue.therapies.get(consultation.therapy_code),
        "alternative": catalogue.alternatives.get(consultation.alternative_code),
        "photos": photos_of(consultation),
        "signatures": signatures_of("consultation", consultation.pk, limit=SIGNATURES_SHOWN),
        "consents": list(consultation.consents.all()),
        "live_consent": consent_live(consultation),
    }
    if can_run:
        context.update(
            goals_form=forms.get("goals_form")
            or GoalsForm(
                initial={"goals": consultation.goals, "target_areas": "\n".join(consultation.target_areas)}
            ),
            findings_form=forms.get("findings_form")
            or FindingsForm(
                initial={
                    "indication": consultation.indication,
                    "severity_scale": consultation.severity_scale,
                    "severity_score": consultation.severity_score,
                    "fitzpatrick_type": consultation.fitzpatrick_type,
                    "findings": consultation.findings,
                }
            ),
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
    consultation = _run(request, consultation_id)
    form = FindingsForm(request.POST)
    return _section(
        request,
        consultation,
        form,
        name="findings_form",
        anchor="findings",
        saved="The findings are saved.",
        save=lambda _data: services.consultation_update(
            consultation=consultation, actor=request.user, data=form.service_data()
        ),
    )


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
                services.photo_upload(
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


@login_required
def photo_file(request, photo_uid):
    """A photograph's bytes, for staff at its clinic or the patient it shows; never cached or sniffed."""
    photo = photo_get_for_user(request.user, photo_uid)
    response = HttpResponse(services.photo_read(photo), content_type=photo.content_type)
    response["Cache-Control"] = PRIVATE
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="photo-{photo.uid}"'
    return response


# Consent --------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def consent_new(request, consultation_id: int):
    """Prepare the consent document for a decided consultation that proceeds with a therapy."""
    _staff_only(request)
    require_permission(request.user, Permission.CONSENT_PREPARE)
    consultation = consultation_get_for_user(
        request.user, consultation_id, permission=Permission.CONSENT_PREPARE
    )
    error = None
    if request.method == "POST":
        try:
            consent = services.consent_prepare(consultation=consultation, actor=request.user)
        except InvalidInput as exc:
            error = exc
        else:
            messages.success(request, "The consent is ready for the patient to read and sign.")
            return redirect("consultations:consent_detail", consent_id=consent.pk)
    context = {
        "nav_active": "patients",
        "consultation": consultation,
        "patient": consultation.patient,
        "therapy": get_catalogue().therapies.get(consultation.therapy_code),
        "ready": consultation.status == Consultation.Status.DECIDED
        and consultation.decision == Consultation.Decision.PROCEED,
        "live_consent": consent_live(consultation),
        "error": error,
    }
    return render(request, "consultations/consent_new.html", context, status=422 if error else 200)


def _consent_context(request, consent: Consent, **extra) -> dict:
    user = request.user
    staff = not user.is_patient
    awaiting_patient = consent.status == Consent.Status.AWAITING_PATIENT
    can_prepare = staff and has_permission(user, Permission.CONSENT_PREPARE, consent.site_id)
    context = {
        "nav_active": "portal" if user.is_patient else "patients",
        "consent": consent,
        "patient": consent.patient,
        "document": consent.document,
        "signatures": signatures_of("consent", consent.pk, limit=SIGNATURES_SHOWN),
        "is_patient": user.is_patient,
        "can_sign": user.is_patient and awaiting_patient,
        "can_sign_in_clinic": can_prepare and awaiting_patient,
        "can_countersign": can_prepare and consent.status == Consent.Status.AWAITING_PRACTITIONER,
        "can_withdraw": consent.status != Consent.Status.WITHDRAWN
        and (user.is_patient or has_permission(user, Permission.CONSENT_WITHDRAW, consent.site_id)),
        # Signed and in force, no plan made on it yet: the next step is the plan.
        "can_plan": staff
        and consent.status == Consent.Status.SIGNED
        and has_permission(user, Permission.PLAN_CREATE, consent.site_id)
        and not consent.treatment_plans.exists(),
    }
    if context["can_countersign"]:
        context["countersign_form"] = extra.pop("countersign_form", None) or CountersignForm()
    context.update(extra)
    return context


@login_required
def consent_detail(request, consent_id: int):
    """The consent as shown for signing, its status and signatures; staff at the clinic or the patient."""
    consent = consent_get_for_user(request.user, consent_id)
    return render(request, "consultations/consent_detail.html", _consent_context(request, consent))


@login_required
@require_http_methods(["GET", "POST"])
def consent_sign(request, consent_id: int):
    """The patient reads, chooses and signs in the portal with their password."""
    if not request.user.is_patient:
        raise Http404("Not found")
    consent = consent_get_for_user(request.user, consent_id)
    form = ConsentSignForm(request.POST or None)
    status = 200
    if request.method == "POST":
        done, status = with_password_entry(
            request,
            form,
            lambda: services.consent_patient_sign(
                consent=consent, signer=request.user, password=form.cleaned_data["password"], **form.choices()
            ),
        )
        if done:
            messages.success(request, "Thank you. You have signed your consent.")
            return redirect("consultations:consent_detail", consent_id=consent.pk)
    context = _consent_context(request, consent, form=form, in_clinic=False)
    return render(request, "consultations/consent_sign.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def consent_sign_in_clinic_view(request, consent_id: int):
    """On the clinic's tablet: the patient types their name and chooses; the practitioner witnesses."""
    _staff_only(request)
    require_permission(request.user, Permission.CONSENT_PREPARE)
    consent = consent_get_for_user(request.user, consent_id, permission=Permission.CONSENT_PREPARE)
    form = ConsentInClinicForm(request.POST or None)
    status = 200
    if request.method == "POST":
        done, status = with_password_entry(
            request,
            form,
            lambda: services.consent_sign_in_clinic(
                consent=consent,
                practitioner=request.user,
                password=form.cleaned_data["password"],
                typed_name=form.cleaned_data["patient_name"],
                **form.choices(),
            ),
        )
        if done:
            messages.success(request, "The patient's consent is recorded; please countersign it.")
            return redirect("consultations:consent_detail", consent_id=consent.pk)
    context = _consent_context(request, consent, form=form, in_clinic=True)
    return render(request, "consultations/consent_sign.html", context, status=status)


@login_required
@require_POST
def consent_countersign_view(request, consent_id: int):
    """The practitioner countersigns; the signed PDF is kept."""
    _staff_only(request)
    require_permission(request.user, Permission.CONSENT_PREPARE)
    consent = consent_get_for_user(request.user, consent_id, permission=Permission.CONSENT_PREPARE)
    form = CountersignForm(request.POST)
    done, status = with_password_entry(
        request,
        form,
        lambda: services.consent_countersign(
            consent=consent, practitioner=request.user, password=form.cleaned_data["password"]
        ),
    )
    if done:
        messages.success(request, "The consent is signed by both of you.")
        return redirect("consultations:consent_detail", consent_id=consent.pk)
    consent.refresh_from_db()
    context = _consent_context(request, consent, countersign_form=form)
    if "countersign_form" not in context:
        context["countersign_form"] = form
    return render(request, "consultations/consent_detail.html", context, status=status)


@login_required
def consent_pdf_view(request, consent_id: int):
    """The signed copy as stored, or an unsigned copy marked as such for reading."""
    consent = consent_get_for_user(request.user, consent_id)
    if consent.pdf and consent.status in (Consent.Status.SIGNED, Consent.Status.WITHDRAWN):
        content = services.consent_stored_pdf(consent)
        name = f"consent-{consent.pk}-signed.pdf"
    else:
        content = services.consent_render_pdf(consent)
        name = f"consent-{consent.pk}-not-signed.pdf"
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = PRIVATE
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw_view(request, consent_id: int):
    """Staff record a withdrawal with a reason; the patient confirms theirs with their password."""
    user = request.user
    if user.is_patient:
        consent = consent_get_for_user(user, consent_id)
        form = WithdrawPatientForm(request.POST or None)
    else:
        require_permission(user, Permission.CONSENT_WITHDRAW)
        consent = consent_get_for_user(user, consent_id, permission=Permission.CONSENT_WITHDRAW)
        form = WithdrawStaffForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data

            def withdraw():
                try:
                    services.consent_withdraw(
                        consent=consent, actor=user, reason=data["reason"], password=data.get("password")
                    )
                except Forbidden as exc:
                    raise PermissionDenied(str(exc)) from exc

            if user.is_patient:
                done, status = with_password_entry(request, form, withdraw)
            else:
                try:
                    withdraw()
                except InvalidInput as error:
                    add_service_errors(form, error)
                    done = False
                else:
                    done = True
            if done:
                messages.success(request, "The consent is withdrawn. The treatment made on it has stopped.")
                return redirect("consultations:consent_detail", consent_id=consent.pk)
    context = _consent_context(request, consent, form=form)
    return render(request, "consultations/consent_withdraw.html", context, status=status)
