"""Writes for consent: prepared from the therapy file, signed by both parties, withdrawn; audited.

Each change writes one audit event. Bad input raises InvalidInput naming the field before anything is
written; a wrong password at signing is refused by signature_create before the record changes.
Every change of status goes through audit's state_change, checked against CONSENT_STATES.
Withdrawal fires the `consent_withdrawn` hook inside its transaction, so every later stage (plans
now; bookings and unused product later) reacts in the same commit.

A patient under 18 on the day the consent is prepared is a minor for that consent: it is signed at the
clinic by a parent or guardian, with the young person's own assent, never in the portal.
"""

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cellclinic.accounts.access import require_permission_at
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.audit.models import Signature
from cellclinic.audit.services import audit_record, record_hash, signature_create, state_change
from cellclinic.candidacy.services import age_on
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.catalogue.schema import Therapy
from cellclinic.consents.document import TEMPLATE_VERSION, ClinicContact, consent_document
from cellclinic.consents.models import Consent
from cellclinic.consents.pdf import SignatureLine, YoungPersonConsent, consent_pdf
from cellclinic.consents.states import CONSENT_STATES
from cellclinic.consultations.models import Consultation
from cellclinic.core import plugs
from cellclinic.core.errors import FieldError, Forbidden, InvalidInput
from cellclinic.notifications.services import notify

MAX_TEXT = 5000
MAX_NAME = 200
ADULT_AGE = 18
CANNOT_PREPARE = "Only a practitioner at the patient's clinic can prepare or countersign consent."
CANNOT_WITHDRAW = "You cannot record a withdrawal of consent at this clinic."
NOT_YOUR_CONSENT = "This is not your consent."
THERAPY_UNKNOWN = "is not a therapy in the catalogue"
DECIDED_VERSION_GONE = (
    "the decision was made on version {version} of this protocol, which is no longer in the catalogue; "
    "record a new decision first"
)
CONSENT_NEEDS_PROCEED = "consent is prepared for a decided consultation that proceeds with a cell therapy"
CONSENT_EXISTS = "this consultation already has a consent that is not withdrawn"
CONSENT_WITHDRAWN = "This consent was withdrawn; it cannot be signed again. A new consent must be prepared."
CONSENT_NOT_AWAITING_PATIENT = "This consent is not waiting for the patient's signature."
CONSENT_NOT_AWAITING_PRACTITIONER = "This consent is not waiting for the practitioner's signature."
ALREADY_WITHDRAWN = "This consent is already withdrawn."
NOTHING_SIGNED = (
    "You have not signed this consent form, so there is nothing to withdraw. If you decide not to go "
    "ahead, you do not need to sign it; please let your clinic know."
)
CONSENT_CHANGED = "This consent changed while it was being countersigned; nothing was signed. Try again."
CHOOSE_YES_OR_NO = "choose yes or no"
MUST_UNDERSTAND = "confirm that you have read and understood the consent"
NAME_MISMATCH = "must be the patient's full name as on their record ({name})"
REASON_REQUIRED = "say why the consent is withdrawn"
WRONG_PASSWORD = "The password is not correct; nothing was changed."
SIGNED_WITH_GUARDIAN = (
    "This consent is for a young person under 18: it is signed with a parent or guardian at the clinic."
)
NOT_A_MINOR = "This consent is for an adult: the patient signs it themself."
GUARDIAN_NAME_REQUIRED = "give the parent's or guardian's full name"
GUARDIAN_NAME_TOO_LONG = f"can have at most {MAX_NAME} characters"
RELATIONSHIP_REQUIRED = "choose the parent's or guardian's relationship to the young person"
GUARDIAN_SIGNATURE = "the parent or guardian signs by typing their full name as given above ({name})"
GUARDIAN_SIGNATURE_REQUIRED = "the parent or guardian signs by typing their full name"
ASSENT_REQUIRED = "record the young person's assent: without their agreement the consent is not signed"
YOUNG_PERSON_NAME_REQUIRED = "the young person confirms their assent by typing their full name"
YOUNG_PERSON_NAME = "must be the young person's full name as on their record ({name})"
PATIENT_STATEMENT = "I have read and understood this consent, and I agree to the treatment it describes."
COUNTERSIGN_STATEMENT = (
    "I explained this treatment, its risks and the alternatives, and answered the questions."
)


def _audit_consent(consent: Consent, actor: User | None, action: str, **kwargs) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=Consent.AUDIT_OBJECT_TYPE,
        object_id=consent.pk,
        site=consent.site,
        patient_id=consent.patient_id,
        **kwargs,
    )


def patient_is_minor(patient, today) -> bool:
    """True when PATIENT is under 18 on TODAY (the day the consent is prepared)."""
    return age_on(patient.date_of_birth, today) < ADULT_AGE


def clinic_contact(site) -> ClinicContact:
    """Whom the consent names for questions and injury: the clinic's name and the contact details its
    record holds (a field the site does not have is left out)."""
    return ClinicContact(
        name=site.name,
        phone=getattr(site, "phone", "") or "",
        email=getattr(site, "email", "") or "",
        address=getattr(site, "address", "") or "",
    )


def consent_document_for(consultation: Consultation, therapy: Therapy, *, minor: bool) -> dict[str, Any]:
    """The consent document for CONSULTATION, decided on THERAPY: the alternatives it discussed, its
    indication, the clinic's contact details, the cell banking period, and whether the patient is MINOR."""
    catalogue = get_catalogue()
    discussed = [
        catalogue.alternatives[code]
        for code in consultation.alternatives_discussed or []
        if code in catalogue.alternatives
    ]
    return consent_document(
        therapy,
        discussed,
        template_version=TEMPLATE_VERSION,
        indication=consultation.indication or None,
        steps=catalogue.steps,
        clinic=clinic_contact(consultation.site),
        banking_months=settings.CELLCLINIC_CELL_BANKING_MONTHS,
        minor=minor,
    )


@transaction.atomic
def consent_prepare(*, consultation: Consultation, actor: User) -> Consent:
    """Generate the consent document from the protocol version the consultation decided on, to sign."""
    require_permission_at(actor, Permission.CONSENT_PREPARE, consultation.site_id, CANNOT_PREPARE)
    locked = (
        Consultation.objects.select_for_update(of=("self",))
        .select_related("site", "patient")
        .get(pk=consultation.pk)
    )
    if locked.status != Consultation.Status.DECIDED or locked.decision != Consultation.Decision.PROCEED:
        raise InvalidInput.single("consultation", CONSENT_NEEDS_PROCEED)
    if Consent.objects.filter(consultation=locked).exclude(status=Consent.Status.WITHDRAWN).exists():
        raise InvalidInput.single("consent", CONSENT_EXISTS)
    catalogue = get_catalogue()
    # The version the decision was made on, not whatever file is current: the plan follows the same one.
    therapy = catalogue.therapy(locked.therapy_code, locked.therapy_version)
    if therapy is None:
        message = THERAPY_UNKNOWN if not catalogue.versions(locked.therapy_code) else DECIDED_VERSION_GONE
        raise InvalidInput.single("therapy_code", message.format(version=locked.therapy_version))
    minor = patient_is_minor(locked.patient, timezone.localdate())
    document = consent_document_for(locked, therapy, minor=minor)
    consent = Consent.objects.create(
        site=locked.site,
        patient_id=locked.patient_id,
        consultation=locked,
        therapy_code=therapy.code,
        therapy_version=therapy.version,
        template_version=TEMPLATE_VERSION,
        document=document,
        document_hash=record_hash(document),
        minor=minor,
        created_by=actor,
    )
    _audit_consent(
        consent,
        actor,
        "consent.prepare",
        after={
            "consultation": locked.pk,
            "therapy_code": therapy.code,
            "therapy_version": therapy.version,
            "template_version": TEMPLATE_VERSION,
            "document_hash": consent.document_hash,
            "minor": minor,
        },
    )
    notify(
        kind="consent.ready_to_sign",
        template="consents/notifications/ready_to_sign",
        site=locked.site,
        recipient=locked.patient.portal_user,
        link=reverse("consents:detail", args=[consent.pk]),
        context={"minor": minor},
        actor=actor,
        object_type=Consent.AUDIT_OBJECT_TYPE,
        object_id=consent.pk,
    )
    return consent


def consent_record(consent: Consent) -> dict[str, Any]:
    """What the consent signatures bind to: the document's hash, the versions and the choices; for a
    young person, also who consented for them and their assent."""
    record = {
        "consent_id": consent.pk,
        "patient_id": consent.patient_id,
        "therapy_code": consent.therapy_code,
        "therapy_version": consent.therapy_version,
        "template_version": consent.template_version,
        "document_hash": consent.document_hash,
        "photographs": consent.photographs,
        "outcome_reports": consent.outcome_reports,
    }
    if consent.minor:
        record.update(
            minor=True,
            guardian_name=consent.guardian_name,
            guardian_relationship=consent.guardian_relationship,
            young_person_assent=consent.young_person_assent,
        )
    return record


def _sign_consent(
    consent: Consent,
    signer: User,
    password: str,
    meaning: str,
    statement: str,
    signed_at: datetime | None = None,
) -> None:
    """One signature over the consent as it now stands (document hash and choices)."""
    signature_create(
        signer=signer,
        password=password,
        meaning=meaning,
        object_type=Consent.AUDIT_OBJECT_TYPE,
        object_id=consent.pk,
        record=consent_record(consent),
        site=consent.site,
        patient_id=consent.patient_id,
        statement=statement,
        signed_at=signed_at,
    )


def _lock_consent(consent: Consent) -> Consent:
    return (
        Consent.objects.select_for_update(of=("self",)).select_related("site", "patient").get(pk=consent.pk)
    )


def consent_check_awaiting(consent: Consent, expected: str, message: str) -> None:
    """Raise InvalidInput on "status" unless CONSENT waits for the signature EXPECTED names (MESSAGE)."""
    if consent.status == Consent.Status.WITHDRAWN:
        raise InvalidInput(detail=CONSENT_WITHDRAWN, errors=[FieldError("status", CONSENT_WITHDRAWN)])
    if consent.status != expected:
        raise InvalidInput(detail=message, errors=[FieldError("status", message)])


def _check_adult(consent: Consent) -> None:
    """Raise InvalidInput on "status" when CONSENT is a young person's, signed only with a guardian."""
    if consent.minor:
        raise InvalidInput(detail=SIGNED_WITH_GUARDIAN, errors=[FieldError("status", SIGNED_WITH_GUARDIAN)])


def _choice_errors(
    photographs: bool | None, outcome_reports: bool | None, understood: bool
) -> list[FieldError]:
    errors = []
    if photographs is None:
        errors.append(FieldError("photographs", CHOOSE_YES_OR_NO))
    if outcome_reports is None:
        errors.append(FieldError("outcome_reports", CHOOSE_YES_OR_NO))
    if not understood:
        errors.append(FieldError("understood", MUST_UNDERSTAND))
    return errors


def _patient_signed(locked: Consent, actor: User, action: str, fields: dict[str, Any]) -> Consent:
    """Set FIELDS and move the consent on to the practitioner's signature (the patient's is written)."""
    return state_change(
        locked,
        to=Consent.Status.AWAITING_PRACTITIONER,
        table=CONSENT_STATES,
        actor=actor,
        action=action,
        fields={**fields, "patient_signed_at": datetime.now(UTC)},
    )


@transaction.atomic
def consent_patient_sign(
    *,
    consent: Consent,
    signer: User,
    password: str,
    photographs: bool | None,
    outcome_reports: bool | None,
    understood: bool,
) -> Consent:
    """The patient signs their consent in the portal (meaning consented), with both optional choices."""
    if not signer.is_patient or consent.patient.portal_user_id != signer.pk:
        raise Forbidden(NOT_YOUR_CONSENT)
    locked = _lock_consent(consent)
    consent_check_awaiting(locked, Consent.Status.AWAITING_PATIENT, CONSENT_NOT_AWAITING_PATIENT)
    _check_adult(locked)
    errors = _choice_errors(photographs, outcome_reports, understood)
    if errors:
        raise InvalidInput(detail="The consent was not signed.", errors=errors)
    choices = {"photographs": photographs, "outcome_reports": outcome_reports}
    for name, value in choices.items():
        setattr(locked, name, value)
    _sign_consent(locked, signer, password, Signature.Meaning.CONSENTED, PATIENT_STATEMENT)
    signed = _patient_signed(locked, signer, "consent.patient_sign", choices)
    notify(
        kind="consent.signed",
        template="consents/notifications/signed",
        site=signed.site,
        recipient=signed.consultation.practitioner,
        link=reverse("consents:detail", args=[signed.pk]),
        actor=signer,
        object_type=Consent.AUDIT_OBJECT_TYPE,
        object_id=signed.pk,
    )
    return signed


def _same_name(typed: str, expected: str) -> bool:
    return " ".join(typed.split()).casefold() == " ".join(expected.split()).casefold()


@transaction.atomic
def consent_sign_in_clinic(
    *,
    consent: Consent,
    practitioner: User,
    password: str,
    typed_name: str,
    photographs: bool | None,
    outcome_reports: bool | None,
    understood: bool,
) -> Consent:
    """The patient signs in clinic by typing their full name; the practitioner witnesses with a password."""
    require_permission_at(practitioner, Permission.CONSENT_PREPARE, consent.site_id, CANNOT_PREPARE)
    locked = _lock_consent(consent)
    consent_check_awaiting(locked, Consent.Status.AWAITING_PATIENT, CONSENT_NOT_AWAITING_PATIENT)
    _check_adult(locked)
    patient = locked.patient
    errors = []
    if not _same_name(typed_name or "", patient.full_name):
        errors.append(FieldError("patient_name", NAME_MISMATCH.format(name=patient.full_name)))
    errors += _choice_errors(photographs, outcome_reports, understood)
    if errors:
        raise InvalidInput(detail="The consent was not signed.", errors=errors)
    choices = {
        "photographs": photographs,
        "outcome_reports": outcome_reports,
        "patient_signed_in_clinic": True,
    }
    for name, value in choices.items():
        setattr(locked, name, value)
    _sign_consent(
        locked,
        practitioner,
        password,
        Signature.Meaning.WITNESSED,
        f"Witnessed in clinic: {patient.full_name} ({patient.mrn}) typed their full name and made the "
        "choices shown.",
    )
    return _patient_signed(locked, practitioner, "consent.patient_sign_in_clinic", choices)


def _guardian_errors(
    patient,
    guardian_name: str,
    guardian_relationship: str,
    guardian_signature: str,
    assent: bool,
    young_person_name: str,
) -> list[FieldError]:
    errors = []
    if not guardian_name:
        errors.append(FieldError("guardian_name", GUARDIAN_NAME_REQUIRED))
    elif len(guardian_name) > MAX_NAME:
        errors.append(FieldError("guardian_name", GUARDIAN_NAME_TOO_LONG))
    if guardian_relationship not in Consent.Relationship.values:
        errors.append(FieldError("guardian_relationship", RELATIONSHIP_REQUIRED))
    if not guardian_name:
        if not guardian_signature:
            errors.append(FieldError("guardian_signature", GUARDIAN_SIGNATURE_REQUIRED))
    elif not _same_name(guardian_signature, guardian_name):
        errors.append(FieldError("guardian_signature", GUARDIAN_SIGNATURE.format(name=guardian_name)))
    if not assent:
        errors.append(FieldError("assent", ASSENT_REQUIRED))
    if not young_person_name.strip():
        errors.append(FieldError("young_person_name", YOUNG_PERSON_NAME_REQUIRED))
    elif not _same_name(young_person_name, patient.full_name):
        errors.append(FieldError("young_person_name", YOUNG_PERSON_NAME.format(name=patient.full_name)))
    return errors


@transaction.atomic
def consent_sign_with_guardian(
    *,
    consent: Consent,
    practitioner: User,
    password: str,
    guardian_name: str,
    guardian_relationship: str,
    guardian_signature: str,
    assent: bool,
    young_person_name: str,
    photographs: bool | None,
    outcome_reports: bool | None,
    understood: bool,
) -> Consent:
    """A young person's consent, at the clinic: the parent or guardian consents and signs by typing their
    name, the young person gives their assent by typing theirs, and the practitioner witnesses both with a
    password (meaning witnessed). Nothing changes unless every part is there."""
    require_permission_at(practitioner, Permission.CONSENT_PREPARE, consent.site_id, CANNOT_PREPARE)
    locked = _lock_consent(consent)
    consent_check_awaiting(locked, Consent.Status.AWAITING_PATIENT, CONSENT_NOT_AWAITING_PATIENT)
    if not locked.minor:
        raise InvalidInput(detail=NOT_A_MINOR, errors=[FieldError("status", NOT_A_MINOR)])
    patient = locked.patient
    guardian_name = " ".join((guardian_name or "").split())
    guardian_relationship = guardian_relationship or ""
    errors = _guardian_errors(
        patient,
        guardian_name,
        guardian_relationship,
        guardian_signature or "",
        assent,
        young_person_name or "",
    )
    errors += _choice_errors(photographs, outcome_reports, understood)
    if errors:
        raise InvalidInput(detail="The consent was not signed.", errors=errors)
    fields = {
        "photographs": photographs,
        "outcome_reports": outcome_reports,
        "patient_signed_in_clinic": True,
        "guardian_name": guardian_name,
        "guardian_relationship": guardian_relationship,
        "young_person_assent": True,
    }
    for name, value in fields.items():
        setattr(locked, name, value)
    relationship = Consent.Relationship(guardian_relationship).label.lower()
    _sign_consent(
        locked,
        practitioner,
        password,
        Signature.Meaning.WITNESSED,
        f"Witnessed in clinic: {guardian_name} ({relationship}) gave consent for {patient.full_name} "
        f"({patient.mrn}) and made the choices shown, signing by typing their name; {patient.full_name} "
        "gave their own assent by typing their name.",
    )
    return _patient_signed(locked, practitioner, "consent.guardian_sign", fields)


def _signature_line(
    meaning: str, printed_name: str, signed_at: datetime, hash_: str, statement: str
) -> SignatureLine:
    return SignatureLine(
        meaning=Signature.Meaning(meaning).label,
        printed_name=printed_name,
        signed_at_utc=signed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        record_hash=hash_,
        statement=statement,
    )


def consent_signature_lines(consent: Consent) -> list[SignatureLine]:
    """The consent's signatures, oldest first, as the PDF prints them."""
    signatures = Signature.objects.filter(
        object_type=Consent.AUDIT_OBJECT_TYPE, object_id=str(consent.pk)
    ).order_by("signed_at", "id")
    return [
        _signature_line(s.meaning, s.printed_name, s.signed_at, s.record_hash, s.statement)
        for s in signatures
    ]


# The state of the consent as the PDF tells its reader, the patient or their family, in plain words.
PDF_STATUS = {
    Consent.Status.AWAITING_PATIENT: "Not signed yet",
    Consent.Status.AWAITING_PRACTITIONER: "Consent given; waiting for the practitioner's signature",
    Consent.Status.SIGNED: "Signed",
    Consent.Status.WITHDRAWN: "Withdrawn",
}


def _young_person(consent: Consent) -> YoungPersonConsent | None:
    if not consent.minor:
        return None
    relationship = (
        Consent.Relationship(consent.guardian_relationship).label if consent.guardian_relationship else ""
    )
    return YoungPersonConsent(
        guardian_name=consent.guardian_name,
        relationship=relationship,
        assent=consent.young_person_assent,
    )


def _consent_pdf(consent: Consent, *, status: str, signatures: list[SignatureLine]) -> bytes:
    patient = consent.patient
    return consent_pdf(
        consent.document,
        patient_name=patient.full_name,
        mrn=patient.mrn,
        clinic=consent.site.name,
        document_hash=consent.document_hash,
        choices={"photographs": consent.photographs, "outcome_reports": consent.outcome_reports},
        signatures=signatures,
        signed=status == Consent.Status.SIGNED,
        status=PDF_STATUS[Consent.Status(status)],
        young_person=_young_person(consent),
    )


def consent_render_pdf(consent: Consent) -> bytes:
    """The consent as a PDF: signed when it is signed, otherwise marked as not signed."""
    return _consent_pdf(consent, status=consent.status, signatures=consent_signature_lines(consent))


def consent_countersign(*, consent: Consent, practitioner: User, password: str) -> Consent:
    """The practitioner countersigns (meaning authored); the consent is signed and its PDF is kept.

    The signed PDF is rendered and its file written before the audited transaction opens, so no slow
    work happens while the audit chain is locked. The copy is rendered from the values about to be
    written: the signatures given so far plus the countersignature's line (printed name, the time,
    which the signature then stores as is, and the hash of the record as it stands). That is simpler
    than signing first and adding the PDF in a second audited step, which leaves a signed consent
    without its copy whenever rendering or writing fails. The transaction then checks, on the locked
    row, that the consent still waits with the same record and signatures, or signs nothing; a file
    whose transaction rolls back is removed. (Inside a caller's own transaction, a later rollback of
    that transaction leaves the unreferenced file behind.)
    """
    require_permission_at(practitioner, Permission.CONSENT_PREPARE, consent.site_id, CANNOT_PREPARE)
    current = Consent.objects.select_related("site", "patient").get(pk=consent.pk)
    consent_check_awaiting(current, Consent.Status.AWAITING_PRACTITIONER, CONSENT_NOT_AWAITING_PRACTITIONER)
    signed_at = datetime.now(UTC)
    earlier = consent_signature_lines(current)
    signed_hash = record_hash(consent_record(current))
    line = _signature_line(
        Signature.Meaning.AUTHORED, practitioner.display_name, signed_at, signed_hash, COUNTERSIGN_STATEMENT
    )
    content = _consent_pdf(current, status=Consent.Status.SIGNED, signatures=[*earlier, line])
    name = default_storage.save(
        f"consents/{signed_at:%Y}/consent-{current.pk}-{uuid.uuid4().hex}.pdf", ContentFile(content)
    )
    try:
        with transaction.atomic():
            locked = _lock_consent(consent)
            consent_check_awaiting(
                locked, Consent.Status.AWAITING_PRACTITIONER, CONSENT_NOT_AWAITING_PRACTITIONER
            )
            unchanged = record_hash(consent_record(locked)) == signed_hash
            if not unchanged or consent_signature_lines(locked) != earlier:
                raise InvalidInput(detail=CONSENT_CHANGED, errors=[FieldError("status", CONSENT_CHANGED)])
            _sign_consent(
                locked, practitioner, password, Signature.Meaning.AUTHORED, COUNTERSIGN_STATEMENT, signed_at
            )
            return state_change(
                locked,
                to=Consent.Status.SIGNED,
                table=CONSENT_STATES,
                actor=practitioner,
                action="consent.countersign",
                fields={
                    "practitioner_signed_at": signed_at,
                    "pdf": name,
                    "pdf_sha256": hashlib.sha256(content).hexdigest(),
                },
            )
    except BaseException:
        default_storage.delete(name)
        raise


def consent_stored_pdf(consent: Consent) -> bytes:
    """The signed copy as it was stored at countersigning (the caller checked access)."""
    with default_storage.open(consent.pdf.name, "rb") as handle:
        return handle.read()


def consent_check_withdraw(*, consent: Consent, actor: User, reason: str, password: str | None) -> str:
    """Raise InvalidInput unless ACTOR may withdraw CONSENT (locked) now; the reason to record.

    Staff give a reason; the patient confirms with their password, and the reason may be left out. A
    patient withdraws only what they have signed; staff may also withdraw a consent still waiting for the
    patient's signature (prepared in error, or the patient declined).
    """
    if consent.status == Consent.Status.WITHDRAWN:
        raise InvalidInput(detail=ALREADY_WITHDRAWN, errors=[FieldError("status", ALREADY_WITHDRAWN)])
    if actor.is_patient and consent.status == Consent.Status.AWAITING_PATIENT:
        raise InvalidInput(detail=NOTHING_SIGNED, errors=[FieldError("status", NOTHING_SIGNED)])
    if len(reason) > MAX_TEXT:
        raise InvalidInput.single("reason", f"can have at most {MAX_TEXT} characters")
    if actor.is_patient:
        if not password or not actor.check_password(password):
            raise InvalidInput(detail=WRONG_PASSWORD, errors=[FieldError("password", WRONG_PASSWORD)])
        return reason or "Withdrawn by the patient in the portal."
    if not reason:
        raise InvalidInput.single("reason", REASON_REQUIRED)
    return reason


@transaction.atomic
def consent_withdraw(
    *, consent: Consent, actor: User, reason: str = "", password: str | None = None
) -> Consent:
    """Record a withdrawal (never erased) and stop the treatment made on this consent.

    Staff with CONSENT_WITHDRAW record it with a reason; the patient confirms with their password.
    """
    reason = (reason or "").strip()
    if actor.is_patient:
        if consent.patient.portal_user_id != actor.pk:
            raise Forbidden(NOT_YOUR_CONSENT)
    else:
        require_permission_at(actor, Permission.CONSENT_WITHDRAW, consent.site_id, CANNOT_WITHDRAW)
    locked = _lock_consent(consent)
    reason = consent_check_withdraw(consent=locked, actor=actor, reason=reason, password=password)
    locked = state_change(
        locked,
        to=Consent.Status.WITHDRAWN,
        table=CONSENT_STATES,
        actor=actor,
        action="consent.withdraw",
        reason=reason,
        fields={"withdrawn_at": datetime.now(UTC), "withdrawn_reason": reason, "withdrawn_by": actor},
    )
    plugs.fire("consent_withdrawn", consent=locked, actor=actor, reason=f"Consent withdrawn: {reason}")
    notify(
        kind="consent.withdrawn",
        template="consents/notifications/withdrawn",
        site=locked.site,
        recipient=locked.consultation.practitioner,
        link=reverse("consents:detail", args=[locked.pk]),
        actor=actor,
        object_type=Consent.AUDIT_OBJECT_TYPE,
        object_id=locked.pk,
    )
    return locked
