"""Consent pages: prepare, read, sign (portal, in clinic, or with a parent or guardian for a young
person), countersign, download, withdraw."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cellclinic.accounts.access import has_permission, require_permission
from cellclinic.accounts.roles import Permission
from cellclinic.accounts.throttle import with_password_entry
from cellclinic.audit.selectors import signatures_of
from cellclinic.audit.services import record_read
from cellclinic.catalogue.registry import get_catalogue, therapy_name
from cellclinic.catalogue.schema import version_key
from cellclinic.consents import services
from cellclinic.consents.forms import (
    ConsentGuardianForm,
    ConsentInClinicForm,
    ConsentSignForm,
    CountersignForm,
    WithdrawPatientForm,
    WithdrawStaffForm,
)
from cellclinic.consents.models import Consent
from cellclinic.consents.selectors import consent_get_for_user, consent_live
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.selectors import consultation_get_for_user
from cellclinic.core import plugs
from cellclinic.core.errors import Forbidden, InvalidInput
from cellclinic.core.forms import add_service_errors

SIGNATURES_SHOWN = 20
PRIVATE = "private, no-store"


def _staff_only(request) -> None:
    if request.user.is_patient:
        raise Http404("Not found")


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
            return redirect("consents:detail", consent_id=consent.pk)
    live_consent = consent_live(consultation)
    catalogue = get_catalogue()
    # An existing consent names the protocol version it was made on; a new one is made from the version
    # the consultation decided on, which may no longer be the current one.
    therapy = (
        catalogue.therapy(live_consent.therapy_code, live_consent.therapy_version)
        if live_consent is not None
        else catalogue.therapy(consultation.therapy_code, consultation.therapy_version)
    )
    current = catalogue.therapies.get(consultation.therapy_code)
    context = {
        "nav_active": "patients",
        "consultation": consultation,
        "patient": consultation.patient,
        "therapy": therapy,
        "therapy_name": therapy_name(consultation.therapy_code, ""),
        "ready": consultation.status == Consultation.Status.DECIDED
        and consultation.decision == Consultation.Decision.PROCEED,
        "live_consent": live_consent,
        # A newer protocol than the one decided on: the consent still follows the decision.
        "newer_version": current
        if live_consent is None
        and therapy is not None
        and current is not None
        and version_key(current.version) != version_key(therapy.version)
        else None,
        "decided_version_gone": live_consent is None and therapy is None and bool(consultation.therapy_code),
        "minor": services.patient_is_minor(consultation.patient, timezone.localdate()),
        "error": error,
    }
    return render(request, "consents/consent_new.html", context, status=422 if error else 200)


def _consent_context(request, consent: Consent, **extra) -> dict:
    user = request.user
    staff = not user.is_patient
    awaiting_patient = consent.status == Consent.Status.AWAITING_PATIENT
    can_prepare = staff and has_permission(user, Permission.CONSENT_PREPARE, consent.site_id)
    minor = consent.minor
    context = {
        "nav_active": "portal" if user.is_patient else "patients",
        "consent": consent,
        "patient": consent.patient,
        "document": consent.document,
        "signatures": signatures_of("consent", consent.pk, limit=SIGNATURES_SHOWN),
        "is_patient": user.is_patient,
        "can_sign": user.is_patient and awaiting_patient and not minor,
        "can_sign_in_clinic": can_prepare and awaiting_patient and not minor,
        "can_sign_with_guardian": can_prepare and awaiting_patient and minor,
        "signed_with_guardian_text": services.SIGNED_WITH_GUARDIAN,
        "can_countersign": can_prepare and consent.status == Consent.Status.AWAITING_PRACTITIONER,
        "can_withdraw": consent.status != Consent.Status.WITHDRAWN
        and (user.is_patient or has_permission(user, Permission.CONSENT_WITHDRAW, consent.site_id)),
        # What later stages offer from here (the plan, once the consent is in force).
        "next_panels": plugs.render_panels("consent", request, consent),
    }
    if context["can_countersign"]:
        context["countersign_form"] = extra.pop("countersign_form", None) or CountersignForm()
    context.update(extra)
    return context


@login_required
def consent_detail(request, consent_id: int):
    """The consent as shown for signing, its status and signatures; staff at the clinic or the patient."""
    consent = consent_get_for_user(request.user, consent_id)
    record_read(request, consent)
    return render(request, "consents/consent_detail.html", _consent_context(request, consent))


@login_required
@require_http_methods(["GET", "POST"])
def consent_sign(request, consent_id: int):
    """The patient reads, chooses and signs in the portal with their password."""
    if not request.user.is_patient:
        raise Http404("Not found")
    consent = consent_get_for_user(request.user, consent_id)
    if consent.minor:
        messages.info(request, services.SIGNED_WITH_GUARDIAN)
        return redirect("consents:detail", consent_id=consent.pk)
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
            return redirect("consents:detail", consent_id=consent.pk)
    context = _consent_context(request, consent, form=form, in_clinic=False)
    return render(request, "consents/consent_sign.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def consent_sign_in_clinic_view(request, consent_id: int):
    """On the clinic's tablet: the patient types their name and chooses; the practitioner witnesses."""
    _staff_only(request)
    require_permission(request.user, Permission.CONSENT_PREPARE)
    consent = consent_get_for_user(request.user, consent_id, permission=Permission.CONSENT_PREPARE)
    if consent.minor:
        return redirect("consents:sign_with_guardian", consent_id=consent.pk)
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
            return redirect("consents:detail", consent_id=consent.pk)
    context = _consent_context(request, consent, form=form, in_clinic=True)
    return render(request, "consents/consent_sign.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def consent_sign_with_guardian_view(request, consent_id: int):
    """At the clinic, for a young person under 18: the parent or guardian consents and signs, the young
    person gives their assent, the practitioner witnesses with their password."""
    _staff_only(request)
    require_permission(request.user, Permission.CONSENT_PREPARE)
    consent = consent_get_for_user(request.user, consent_id, permission=Permission.CONSENT_PREPARE)
    if not consent.minor:
        return redirect("consents:sign_in_clinic", consent_id=consent.pk)
    form = ConsentGuardianForm(request.POST or None)
    status = 200
    if request.method == "POST":
        done, status = with_password_entry(
            request,
            form,
            lambda: services.consent_sign_with_guardian(
                consent=consent,
                practitioner=request.user,
                password=form.cleaned_data["password"],
                **form.guardian(),
                **form.choices(),
            ),
        )
        if done:
            messages.success(
                request,
                "The parent's or guardian's consent and the young person's assent are recorded; "
                "please countersign.",
            )
            return redirect("consents:detail", consent_id=consent.pk)
    context = _consent_context(request, consent, form=form)
    return render(request, "consents/consent_sign_guardian.html", context, status=status)


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
        return redirect("consents:detail", consent_id=consent.pk)
    consent.refresh_from_db()
    context = _consent_context(request, consent, countersign_form=form)
    if "countersign_form" not in context:
        context["countersign_form"] = form
    return render(request, "consents/consent_detail.html", context, status=status)


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
    record_read(request, consent, action="consent.pdf", details={"file": name})
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
                return redirect("consents:detail", consent_id=consent.pk)
    context = _consent_context(request, consent, form=form)
    return render(request, "consents/consent_withdraw.html", context, status=status)
