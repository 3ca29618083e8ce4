"""Writes for consultations, baseline photos and consent: validated, in one transaction, audited.

Each change writes one audit event. Bad input raises InvalidInput naming the field before anything is
written; a wrong password at signing is refused by signature_create before the record changes.
"""

import hashlib
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.audit.models import Signature
from cellclinic.audit.services import audit_record, changed_fields, record_hash, signature_create, snapshot
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.consultations.consent_document import TEMPLATE_VERSION, consent_document
from cellclinic.consultations.consent_pdf import SignatureLine, consent_pdf
from cellclinic.consultations.models import Consent, Consultation, Photo
from cellclinic.consultations.severity import severity_problems
from cellclinic.core.errors import FieldError, Forbidden, InvalidInput
from cellclinic.core.images import ImageRejected, clean_image
from cellclinic.patients.models import Patient
from cellclinic.patients.screening import FITZPATRICK, INDICATIONS

GOALS_FIELDS = ("goals", "target_areas")
FINDINGS_FIELDS = ("indication", "severity_scale", "severity_score", "fitzpatrick_type", "findings")
EDITABLE_FIELDS = (*GOALS_FIELDS, *FINDINGS_FIELDS)
DECISION_FIELDS = ("decision", "therapy_code", "therapy_version", "alternative_code", "decision_notes")
MAX_TARGET_AREAS = 20
MAX_AREA_LENGTH = 60
MAX_TEXT = 5000

CANNOT_RUN = "Only a practitioner at the patient's clinic can run a consultation."
CANNOT_UPLOAD = "You cannot add photographs at this clinic."
CANNOT_PREPARE = "Only a practitioner at the patient's clinic can prepare or countersign consent."
CANNOT_WITHDRAW = "You cannot record a withdrawal of consent at this clinic."
NOT_YOUR_CONSENT = "This is not your consent."
DECIDED = "The consultation is decided and signed; it cannot be changed."
NOT_A_CLINIC = "consultations take place at a clinic"
ENQUIRY_OTHER_CLINIC = "this enquiry is not on your clinic's worklist"
ENQUIRY_OTHER_PATIENT = "this enquiry belongs to another patient"
NEEDS_ASSESSMENT = "run the candidacy assessment with the practitioner's answers first"
NEEDS_EXPECTATIONS = "discuss the expectation sheet with the patient and record it first"
NEEDS_INDICATION = "record the indication in the findings first"
NEEDS_THERAPY = "choose the therapy to proceed with"
THERAPY_UNKNOWN = "is not a therapy in the catalogue"
THERAPY_WRONG_INDICATION = "this therapy is not for {indication}"
NEEDS_ALTERNATIVE = "choose the alternative treatment"
ALTERNATIVE_UNKNOWN = "is not an alternative in the catalogue for this indication"
NOT_SUITABLE_NEEDS_NOTES = (
    "the candidacy outcome is 'not suitable': say in the notes why you proceed all the same"
)
REFER_NEEDS_NOTES = "say where and why the patient is referred"
ONLY_FOR_PROCEED = "only for a decision to proceed with a cell therapy"
CONSENT_NEEDS_PROCEED = "consent is prepared for a decided consultation that proceeds with a cell therapy"
CONSENT_EXISTS = "this consultation already has a consent that is not withdrawn"
CONSENT_WITHDRAWN = "This consent was withdrawn; it cannot be signed again. A new consent must be prepared."
CONSENT_NOT_AWAITING_PATIENT = "This consent is not waiting for the patient's signature."
CONSENT_NOT_AWAITING_PRACTITIONER = "This consent is not waiting for the practitioner's signature."
ALREADY_WITHDRAWN = "This consent is already withdrawn."
CHOOSE_YES_OR_NO = "choose yes or no"
MUST_UNDERSTAND = "confirm that you have read and understood the consent"
NAME_MISMATCH = "must be the patient's full name as on their record ({name})"
REASON_REQUIRED = "say why the consent is withdrawn"
WRONG_PASSWORD = "The password is not correct; nothing was changed."
TAKEN_IN_FUTURE = "cannot be in the future"
UNKNOWN_FIELD = "is not a consultation field"
PATIENT_STATEMENT = "I have read and understood this consent, and I agree to the treatment it describes."
COUNTERSIGN_STATEMENT = (
    "I explained this treatment, its risks and the alternatives, and answered the questions."
)


def _require(user: User, permission: Permission, site_id: int, message: str) -> None:
    if not has_permission(user, permission, site_id):
        raise Forbidden(message)


def _locked(consultation: Consultation) -> Consultation:
    locked = (
        Consultation.objects.select_for_update(of=("self",))
        .select_related("site", "patient")
        .get(pk=consultation.pk)
    )
    if locked.status == Consultation.Status.DECIDED:
        raise InvalidInput(detail=DECIDED, errors=[FieldError("status", DECIDED)])
    return locked


def _audit(consultation: Consultation, actor: User, action: str, **kwargs) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="consultation",
        object_id=consultation.pk,
        site=consultation.site,
        patient_id=consultation.patient_id,
        **kwargs,
    )


def _save_changes(consultation: Consultation, before: dict, actor: User, action: str) -> Consultation:
    after = snapshot(consultation, fields=list(before))
    changed = changed_fields(before, after)
    if changed:
        consultation.save(update_fields=[*changed, "updated_at"])
        _audit(
            consultation,
            actor,
            action,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return consultation


# Consultation ---------------------------------------------------------------------------------------


@transaction.atomic
def consultation_start(*, patient: Patient, actor: User, enquiry=None) -> Consultation:
    """Open a consultation for PATIENT at their clinic, with ACTOR as the practitioner.

    With ENQUIRY (of the same clinic), the enquiry is marked booked.
    """
    _require(actor, Permission.CONSULTATION_RUN, patient.site_id, CANNOT_RUN)
    if enquiry is not None:
        if enquiry.site_id != patient.site_id:
            raise InvalidInput.single("enquiry", ENQUIRY_OTHER_CLINIC)
        if enquiry.patient_id is not None and enquiry.patient_id != patient.pk:
            raise InvalidInput.single("enquiry", ENQUIRY_OTHER_PATIENT)
    consultation = Consultation.objects.create(
        site_id=patient.site_id,
        patient=patient,
        practitioner=actor,
        enquiry=enquiry,
        indication=patient.presenting_concern,
        fitzpatrick_type=patient.fitzpatrick_type,
    )
    _audit(
        consultation,
        actor,
        "consultation.start",
        after=snapshot(
            consultation, fields=["patient", "practitioner", "enquiry", "indication", "fitzpatrick_type"]
        ),
    )
    if enquiry is not None:
        from cellclinic.candidacy.services import enquiry_status_set

        enquiry_status_set(enquiry=enquiry, actor=actor, status="booked")
    return consultation


def _clean_areas(value: Any, errors: list[FieldError]) -> list[str]:
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list | tuple):
        errors.append(FieldError("target_areas", "must be a list of areas"))
        return []
    areas: list[str] = []
    for item in value:
        if not isinstance(item, str):
            errors.append(FieldError("target_areas", "each area must be text"))
            return []
        text = " ".join(item.split())
        if not text:
            continue
        if len(text) > MAX_AREA_LENGTH:
            errors.append(
                FieldError("target_areas", f"each area can have at most {MAX_AREA_LENGTH} characters")
            )
            return []
        if text not in areas:
            areas.append(text)
    if len(areas) > MAX_TARGET_AREAS:
        errors.append(FieldError("target_areas", f"at most {MAX_TARGET_AREAS} areas"))
    return areas


def _validate(consultation: Consultation, data: dict[str, Any]) -> None:
    """Apply DATA to CONSULTATION, raising InvalidInput naming every bad field."""
    errors: list[FieldError] = []
    unknown = sorted(set(data) - set(EDITABLE_FIELDS))
    errors += [FieldError(name, UNKNOWN_FIELD) for name in unknown]
    for name in ("goals", "findings"):
        if name in data:
            value = data[name]
            if not isinstance(value, str):
                errors.append(FieldError(name, "must be text"))
            elif len(value) > MAX_TEXT:
                errors.append(FieldError(name, f"can have at most {MAX_TEXT} characters"))
            else:
                setattr(consultation, name, value.strip())
    if "target_areas" in data:
        consultation.target_areas = _clean_areas(data["target_areas"], errors)
    if "indication" in data:
        value = data["indication"] or ""
        if value not in INDICATIONS and value != "":
            errors.append(
                FieldError("indication", f"unknown indication; use one of: {', '.join(INDICATIONS)}")
            )
        else:
            consultation.indication = value
    if "fitzpatrick_type" in data:
        value = data["fitzpatrick_type"] or ""
        if value not in FITZPATRICK and value != "":
            errors.append(FieldError("fitzpatrick_type", f"use one of: {', '.join(FITZPATRICK)}"))
        else:
            consultation.fitzpatrick_type = value
    if "severity_scale" in data:
        consultation.severity_scale = data["severity_scale"] or ""
    score = data.get("severity_score", consultation.severity_score)
    problems = severity_problems(consultation.indication, consultation.severity_scale, score)
    errors += [FieldError(name, message) for name, message in problems]
    if not problems and "severity_score" in data:
        blank = score is None or (isinstance(score, str) and not score.strip())
        consultation.severity_score = None if blank else Decimal(str(score).strip()).quantize(Decimal("0.01"))
    if errors:
        raise InvalidInput(detail="The consultation was not changed.", errors=errors)


@transaction.atomic
def consultation_update(*, consultation: Consultation, actor: User, data: dict[str, Any]) -> Consultation:
    """Change the goals and findings given in DATA; only changed fields are written and audited."""
    _require(actor, Permission.CONSULTATION_RUN, consultation.site_id, CANNOT_RUN)
    locked = _locked(consultation)
    before = snapshot(locked, fields=list(EDITABLE_FIELDS))
    _validate(locked, data)
    return _save_changes(locked, before, actor, "consultation.update")


@transaction.atomic
def consultation_assessment_run(*, consultation: Consultation, actor: User, answers: dict[str, Any]):
    """Re-run the candidacy rules on the practitioner's answers and link the result.

    A new assessment replaces the expectation sheet, so it must be discussed again.
    """
    from cellclinic.candidacy.services import assessment_run

    _require(actor, Permission.CONSULTATION_RUN, consultation.site_id, CANNOT_RUN)
    locked = _locked(consultation)
    assessment = assessment_run(answers=answers, source="practitioner", patient=locked.patient, actor=actor)
    before = snapshot(locked, fields=["assessment", "expectations_discussed_at"])
    locked.assessment = assessment
    locked.expectations_discussed_at = None
    _save_changes(locked, before, actor, "consultation.assessment")
    return assessment


@transaction.atomic
def consultation_expectations_discussed(*, consultation: Consultation, actor: User) -> Consultation:
    """Record that the expectation sheet of the latest assessment was discussed with the patient."""
    _require(actor, Permission.CONSULTATION_RUN, consultation.site_id, CANNOT_RUN)
    locked = _locked(consultation)
    if locked.assessment_id is None:
        raise InvalidInput.single("assessment", NEEDS_ASSESSMENT)
    before = snapshot(locked, fields=["expectations_discussed_at"])
    locked.expectations_discussed_at = datetime.now(UTC)
    return _save_changes(locked, before, actor, "consultation.expectations_discussed")


def alternatives_for_indication(indication: str) -> list:
    """The catalogue's alternatives for INDICATION (none without one)."""
    return get_catalogue().alternatives_for([indication]) if indication else []


@transaction.atomic
def consultation_alternatives_set(
    *, consultation: Consultation, actor: User, codes: list[str]
) -> Consultation:
    """Record which alternatives from the catalogue were discussed."""
    _require(actor, Permission.CONSULTATION_RUN, consultation.site_id, CANNOT_RUN)
    locked = _locked(consultation)
    if not locked.indication:
        raise InvalidInput.single("indication", NEEDS_INDICATION)
    allowed = [a.code for a in alternatives_for_indication(locked.indication)]
    if not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
        raise InvalidInput.single("alternatives_discussed", "must be a list of codes")
    unknown = sorted(set(codes) - set(allowed))
    if unknown:
        raise InvalidInput.single(
            "alternatives_discussed",
            f"not an alternative for this indication: {', '.join(unknown)}; use: {', '.join(allowed)}",
        )
    before = snapshot(locked, fields=["alternatives_discussed"])
    locked.alternatives_discussed = [code for code in allowed if code in set(codes)]
    return _save_changes(locked, before, actor, "consultation.alternatives")


def therapies_for_indication(indication: str) -> list:
    """Catalogue therapies with INDICATION among their indications, by name."""
    if not indication:
        return []
    therapies = get_catalogue().therapies.values()
    return sorted(
        (t for t in therapies if indication in {c.value for c in t.indication_codes}), key=lambda t: t.name
    )


def decision_record(consultation: Consultation) -> dict[str, Any]:
    """What the practitioner's decision signature binds to."""
    return {
        "consultation_id": consultation.pk,
        "patient_id": consultation.patient_id,
        "indication": consultation.indication,
        "assessment_id": consultation.assessment_id,
        **{name: getattr(consultation, name) for name in DECISION_FIELDS},
    }


def consultation_check_can_decide(
    consultation: Consultation, *, decision: str, therapy_code: str, alternative_code: str, notes: str
) -> list[FieldError]:
    """Every reason the decision cannot be signed as given; empty when it can."""
    errors: list[FieldError] = []
    if decision not in Consultation.Decision.values:
        return [FieldError("decision", f"choose one of: {', '.join(Consultation.Decision.values)}")]
    catalogue = get_catalogue()
    if decision == Consultation.Decision.PROCEED:
        if not consultation.indication:
            errors.append(FieldError("indication", NEEDS_INDICATION))
        if not therapy_code:
            errors.append(FieldError("therapy_code", NEEDS_THERAPY))
        elif therapy_code not in catalogue.therapies:
            errors.append(FieldError("therapy_code", THERAPY_UNKNOWN))
        elif consultation.indication and consultation.indication not in {
            c.value for c in catalogue.therapies[therapy_code].indication_codes
        }:
            label = INDICATIONS.get(consultation.indication, consultation.indication).lower()
            errors.append(FieldError("therapy_code", THERAPY_WRONG_INDICATION.format(indication=label)))
        assessment = consultation.assessment
        if assessment is None or assessment.source != "practitioner":
            errors.append(FieldError("assessment", NEEDS_ASSESSMENT))
        elif assessment.outcome == "not_suitable" and not notes.strip():
            errors.append(FieldError("decision_notes", NOT_SUITABLE_NEEDS_NOTES))
        if consultation.expectations_discussed_at is None:
            errors.append(FieldError("expectations", NEEDS_EXPECTATIONS))
    elif therapy_code:
        errors.append(FieldError("therapy_code", ONLY_FOR_PROCEED))
    if decision == Consultation.Decision.ALTERNATIVE:
        allowed = {a.code for a in alternatives_for_indication(consultation.indication)}
        if not alternative_code:
            errors.append(FieldError("alternative_code", NEEDS_ALTERNATIVE))
        elif alternative_code not in allowed:
            errors.append(FieldError("alternative_code", ALTERNATIVE_UNKNOWN))
    elif alternative_code:
        errors.append(FieldError("alternative_code", "only for a decision to choose an alternative"))
    if decision == Consultation.Decision.REFER and not notes.strip():
        errors.append(FieldError("decision_notes", REFER_NEEDS_NOTES))
    if len(notes) > MAX_TEXT:
        errors.append(FieldError("decision_notes", f"can have at most {MAX_TEXT} characters"))
    return errors


@transaction.atomic
def consultation_decide(
    *,
    consultation: Consultation,
    actor: User,
    password: str,
    decision: str,
    therapy_code: str = "",
    alternative_code: str = "",
    notes: str = "",
) -> Consultation:
    """Sign the decision (meaning authored); the consultation is then decided and cannot change."""
    _require(actor, Permission.CONSULTATION_RUN, consultation.site_id, CANNOT_RUN)
    locked = _locked(consultation)
    therapy_code, alternative_code, notes = therapy_code.strip(), alternative_code.strip(), notes.strip()
    errors = consultation_check_can_decide(
        locked, decision=decision, therapy_code=therapy_code, alternative_code=alternative_code, notes=notes
    )
    if errors:
        raise InvalidInput(detail="The decision was not signed.", errors=errors)
    before = snapshot(locked, fields=[*DECISION_FIELDS, "status", "decided_at"])
    locked.decision = decision
    locked.therapy_code = therapy_code
    locked.therapy_version = get_catalogue().therapies[therapy_code].version if therapy_code else ""
    locked.alternative_code = alternative_code
    locked.decision_notes = notes
    signature_create(
        signer=actor,
        password=password,
        meaning=Signature.Meaning.AUTHORED,
        object_type="consultation",
        object_id=locked.pk,
        record=decision_record(locked),
        site=locked.site,
        patient_id=locked.patient_id,
        statement=f"Consultation decision: {locked.get_decision_display()}",
    )
    locked.status = Consultation.Status.DECIDED
    locked.decided_at = datetime.now(UTC)
    return _save_changes(locked, before, actor, "consultation.decide")


# Photos ---------------------------------------------------------------------------------------------


@transaction.atomic
def photo_upload(
    *,
    consultation: Consultation,
    actor: User,
    data: bytes,
    view: str,
    area: str = "",
    taken_on: date | None = None,
) -> Photo:
    """Keep a baseline photograph in a standard view, re-encoded without any metadata."""
    _require(actor, Permission.PHOTO_UPLOAD, consultation.site_id, CANNOT_UPLOAD)
    errors: list[FieldError] = []
    if view not in Photo.View.values:
        errors.append(FieldError("view", f"choose one of: {', '.join(Photo.View.values)}"))
    area = " ".join((area or "").split())
    if len(area) > MAX_AREA_LENGTH:
        errors.append(FieldError("area", f"can have at most {MAX_AREA_LENGTH} characters"))
    if taken_on is not None and taken_on > datetime.now(UTC).date():
        errors.append(FieldError("taken_on", TAKEN_IN_FUTURE))
    clean = None
    try:
        clean = clean_image(data, max_bytes=settings.PHOTO_MAX_BYTES, max_pixels=settings.PHOTO_MAX_PIXELS)
    except ImageRejected as exc:
        errors.append(FieldError("image", str(exc)))
    if errors:
        raise InvalidInput(detail="The photograph was not saved.", errors=errors)
    uid = uuid.uuid4()
    now = datetime.now(UTC)
    name = default_storage.save(f"photos/{now:%Y/%m}/{uid}.{clean.extension}", ContentFile(clean.bytes))
    try:
        photo = Photo.objects.create(
            uid=uid,
            site_id=consultation.site_id,
            patient_id=consultation.patient_id,
            consultation=consultation,
            purpose=Photo.Purpose.BASELINE,
            view=view,
            area=area,
            image=name,
            content_type=clean.content_type,
            width=clean.width,
            height=clean.height,
            sha256=clean.sha256,
            taken_on=taken_on,
            uploaded_by=actor,
        )
        audit_record(
            actor=actor,
            action="photo.upload",
            object_type="photo",
            object_id=photo.uid,
            site=consultation.site,
            patient_id=consultation.patient_id,
            after={
                "consultation": consultation.pk,
                "view": view,
                "area": area,
                "sha256": clean.sha256,
                "width": clean.width,
                "height": clean.height,
            },
        )
    except Exception:
        default_storage.delete(name)
        raise
    return photo


def photo_read(photo: Photo) -> bytes:
    """The stored bytes of a photograph (the caller checked access)."""
    with default_storage.open(photo.image.name, "rb") as handle:
        return handle.read()


# Consent --------------------------------------------------------------------------------------------


def _audit_consent(consent: Consent, actor: User | None, action: str, **kwargs) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="consent",
        object_id=consent.pk,
        site=consent.site,
        patient_id=consent.patient_id,
        **kwargs,
    )


@transaction.atomic
def consent_prepare(*, consultation: Consultation, actor: User) -> Consent:
    """Generate the consent document from the chosen therapy's catalogue entry, for the patient to sign."""
    _require(actor, Permission.CONSENT_PREPARE, consultation.site_id, CANNOT_PREPARE)
    locked = (
        Consultation.objects.select_for_update(of=("self",)).select_related("site").get(pk=consultation.pk)
    )
    if locked.status != Consultation.Status.DECIDED or locked.decision != Consultation.Decision.PROCEED:
        raise InvalidInput.single("consultation", CONSENT_NEEDS_PROCEED)
    if locked.consents.exclude(status=Consent.Status.WITHDRAWN).exists():
        raise InvalidInput.single("consent", CONSENT_EXISTS)
    catalogue = get_catalogue()
    therapy = catalogue.therapies.get(locked.therapy_code)
    if therapy is None:
        raise InvalidInput.single("therapy_code", THERAPY_UNKNOWN)
    document = consent_document(
        therapy,
        catalogue.alternatives_for([locked.indication]),
        template_version=TEMPLATE_VERSION,
        indication=locked.indication,
    )
    consent = Consent.objects.create(
        site=locked.site,
        patient_id=locked.patient_id,
        consultation=locked,
        therapy_code=therapy.code,
        therapy_version=therapy.version,
        template_version=TEMPLATE_VERSION,
        document=document,
        document_hash=record_hash(document),
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
        },
    )
    return consent


def consent_record(consent: Consent) -> dict[str, Any]:
    """What the consent signatures bind to: the document's hash, the versions and the choices."""
    return {
        "consent_id": consent.pk,
        "patient_id": consent.patient_id,
        "therapy_code": consent.therapy_code,
        "therapy_version": consent.therapy_version,
        "template_version": consent.template_version,
        "document_hash": consent.document_hash,
        "photographs": consent.photographs,
        "outcome_reports": consent.outcome_reports,
    }


def _sign_consent(consent: Consent, signer: User, password: str, meaning: str, statement: str) -> None:
    """One signature over the consent as it now stands (document hash and choices)."""
    signature_create(
        signer=signer,
        password=password,
        meaning=meaning,
        object_type="consent",
        object_id=consent.pk,
        record=consent_record(consent),
        site=consent.site,
        patient_id=consent.patient_id,
        statement=statement,
    )


def _lock_consent(consent: Consent, expected: str, message: str) -> Consent:
    locked = (
        Consent.objects.select_for_update(of=("self",)).select_related("site", "patient").get(pk=consent.pk)
    )
    if locked.status == Consent.Status.WITHDRAWN:
        raise InvalidInput(detail=CONSENT_WITHDRAWN, errors=[FieldError("status", CONSENT_WITHDRAWN)])
    if locked.status != expected:
        raise InvalidInput(detail=message, errors=[FieldError("status", message)])
    return locked


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


def _patient_signed(locked: Consent, actor: User, action: str, before: dict) -> Consent:
    locked.status = Consent.Status.AWAITING_PRACTITIONER
    locked.patient_signed_at = datetime.now(UTC)
    fields = ["photographs", "outcome_reports", "status", "patient_signed_at", "patient_signed_in_clinic"]
    locked.save(update_fields=fields)
    after = snapshot(locked, fields=fields)
    _audit_consent(locked, actor, action, before=before, after=after)
    return locked


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
    locked = _lock_consent(consent, Consent.Status.AWAITING_PATIENT, CONSENT_NOT_AWAITING_PATIENT)
    errors = _choice_errors(photographs, outcome_reports, understood)
    if errors:
        raise InvalidInput(detail="The consent was not signed.", errors=errors)
    fields = ["photographs", "outcome_reports", "status", "patient_signed_at", "patient_signed_in_clinic"]
    before = snapshot(locked, fields=fields)
    locked.photographs, locked.outcome_reports = photographs, outcome_reports
    _sign_consent(locked, signer, password, Signature.Meaning.CONSENTED, PATIENT_STATEMENT)
    return _patient_signed(locked, signer, "consent.patient_sign", before)


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
    _require(practitioner, Permission.CONSENT_PREPARE, consent.site_id, CANNOT_PREPARE)
    locked = _lock_consent(consent, Consent.Status.AWAITING_PATIENT, CONSENT_NOT_AWAITING_PATIENT)
    patient = locked.patient
    errors = []
    if not _same_name(typed_name or "", patient.full_name):
        errors.append(FieldError("patient_name", NAME_MISMATCH.format(name=patient.full_name)))
    errors += _choice_errors(photographs, outcome_reports, understood)
    if errors:
        raise InvalidInput(detail="The consent was not signed.", errors=errors)
    fields = ["photographs", "outcome_reports", "status", "patient_signed_at", "patient_signed_in_clinic"]
    before = snapshot(locked, fields=fields)
    locked.photographs, locked.outcome_reports = photographs, outcome_reports
    locked.patient_signed_in_clinic = True
    _sign_consent(
        locked,
        practitioner,
        password,
        Signature.Meaning.WITNESSED,
        (
            f"Witnessed {patient.full_name} ({patient.mrn}) consent in clinic: the patient typed their "
            "full name and made the choices shown."
        ),
    )
    return _patient_signed(locked, practitioner, "consent.patient_sign_in_clinic", before)


def consent_signature_lines(consent: Consent) -> list[SignatureLine]:
    """The consent's signatures, oldest first, as the PDF prints them."""
    signatures = Signature.objects.filter(object_type="consent", object_id=str(consent.pk)).order_by(
        "signed_at", "id"
    )
    return [
        SignatureLine(
            meaning=s.get_meaning_display(),
            printed_name=s.printed_name,
            signed_at_utc=s.signed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            record_hash=s.record_hash,
            statement=s.statement,
        )
        for s in signatures
    ]


def consent_render_pdf(consent: Consent) -> bytes:
    """The consent as a PDF: signed when it is signed, otherwise marked as not signed."""
    patient = consent.patient
    return consent_pdf(
        consent.document,
        patient_name=patient.full_name,
        mrn=patient.mrn,
        clinic=consent.site.name,
        document_hash=consent.document_hash,
        choices={"photographs": consent.photographs, "outcome_reports": consent.outcome_reports},
        signatures=consent_signature_lines(consent),
        signed=consent.status == Consent.Status.SIGNED,
        status=consent.get_status_display(),
    )


@transaction.atomic
def consent_countersign(*, consent: Consent, practitioner: User, password: str) -> Consent:
    """The practitioner countersigns (meaning authored); the consent is signed and its PDF is kept."""
    _require(practitioner, Permission.CONSENT_PREPARE, consent.site_id, CANNOT_PREPARE)
    locked = _lock_consent(consent, Consent.Status.AWAITING_PRACTITIONER, CONSENT_NOT_AWAITING_PRACTITIONER)
    _sign_consent(locked, practitioner, password, Signature.Meaning.AUTHORED, COUNTERSIGN_STATEMENT)
    locked.status = Consent.Status.SIGNED
    locked.practitioner_signed_at = datetime.now(UTC)
    content = consent_render_pdf(locked)
    name = default_storage.save(
        f"consents/{locked.practitioner_signed_at:%Y}/consent-{locked.pk}-{uuid.uuid4().hex}.pdf",
        ContentFile(content),
    )
    try:
        locked.pdf = name
        locked.pdf_sha256 = hashlib.sha256(content).hexdigest()
        locked.save(update_fields=["status", "practitioner_signed_at", "pdf", "pdf_sha256"])
        _audit_consent(
            locked,
            practitioner,
            "consent.countersign",
            before={"status": Consent.Status.AWAITING_PRACTITIONER},
            after={"status": locked.status, "pdf_sha256": locked.pdf_sha256},
        )
    except Exception:
        default_storage.delete(name)
        raise
    return locked


def consent_stored_pdf(consent: Consent) -> bytes:
    """The signed copy as it was stored at countersigning (the caller checked access)."""
    with default_storage.open(consent.pdf.name, "rb") as handle:
        return handle.read()


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
        _require(actor, Permission.CONSENT_WITHDRAW, consent.site_id, CANNOT_WITHDRAW)
    locked = (
        Consent.objects.select_for_update(of=("self",)).select_related("site", "patient").get(pk=consent.pk)
    )
    if locked.status == Consent.Status.WITHDRAWN:
        raise InvalidInput(detail=ALREADY_WITHDRAWN, errors=[FieldError("status", ALREADY_WITHDRAWN)])
    if len(reason) > MAX_TEXT:
        raise InvalidInput.single("reason", f"can have at most {MAX_TEXT} characters")
    if actor.is_patient:
        if not password or not actor.check_password(password):
            raise InvalidInput(detail=WRONG_PASSWORD, errors=[FieldError("password", WRONG_PASSWORD)])
        reason = reason or "Withdrawn by the patient in the portal."
    elif not reason:
        raise InvalidInput.single("reason", REASON_REQUIRED)
    before = {"status": locked.status}
    locked.status = Consent.Status.WITHDRAWN
    locked.withdrawn_at = datetime.now(UTC)
    locked.withdrawn_reason = reason
    locked.withdrawn_by = actor
    locked.save(update_fields=["status", "withdrawn_at", "withdrawn_reason", "withdrawn_by"])
    _audit_consent(
        locked, actor, "consent.withdraw", before=before, after={"status": locked.status}, reason=reason
    )
    from cellclinic.treatment.services import plans_stop_for_consent

    plans_stop_for_consent(consent=locked, actor=actor, reason=f"Consent withdrawn: {reason}")
    return locked
