"""Writes to the patient registry: validated, in one transaction, audited."""

import re
import unicodedata
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.models import Site, User
from cellclinic.accounts.roles import Permission
from cellclinic.accounts.services import user_create
from cellclinic.audit.models import Signature
from cellclinic.audit.services import audit_record, changed_fields, signature_create, snapshot
from cellclinic.catalogue.vocabulary import ALLERGY_CODES, HISTORY_CODES
from cellclinic.core.errors import FieldError, Forbidden, InvalidInput
from cellclinic.patients.identifiers import mrn_format
from cellclinic.patients.models import MrnSequence, Patient

EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "sex_at_birth",
    "gender_identity",
    "pronouns",
    "email",
    "phone",
    "address",
    "postcode",
    "fitzpatrick_type",
    "presenting_concern",
    "concern_details",
    "history",
    "allergies",
    "allergy_notes",
    "history_notes",
)
AUDITED_EXCLUDE = ("portal_user",)
NOT_A_CLINIC = "patients are registered at a clinic, not at a lab"
CHANGED_MEANWHILE = (
    "Someone else changed this record after you opened it, so nothing was saved. "
    "Open it again to see their change, then make yours."
)
DOB_IN_FUTURE = "cannot be in the future"
DOB_TOO_OLD = "is more than 130 years ago"


def _validate_codes(
    values: Any, allowed: tuple[str, ...], field_name: str, errors: list[FieldError]
) -> list[str]:
    if not isinstance(values, list | tuple):
        errors.append(FieldError(field_name, "must be a list of codes"))
        return []
    unknown = sorted({str(v) for v in values} - set(allowed))
    if unknown:
        errors.append(
            FieldError(field_name, f"unknown code(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
        )
    return sorted({str(v) for v in values} & set(allowed), key=allowed.index)


def _validate(patient: Patient) -> None:
    """Model rules plus the cross-field ones; raise InvalidInput naming every bad field."""
    errors: list[FieldError] = []
    patient.history = _validate_codes(patient.history, HISTORY_CODES, "history", errors)
    patient.allergies = _validate_codes(patient.allergies, ALLERGY_CODES, "allergies", errors)
    for name in ("given_name", "family_name"):
        value = getattr(patient, name)
        if isinstance(value, str):
            setattr(patient, name, value.strip())
    try:
        patient.full_clean(
            exclude=["mrn", "site", "portal_user", "history", "allergies"], validate_unique=False
        )
    except ValidationError as exc:
        errors.extend(InvalidInput.from_django(exc).errors)
    dob = patient.date_of_birth
    if isinstance(dob, date):
        today = timezone.localdate()
        if dob > today:
            errors.append(FieldError("date_of_birth", DOB_IN_FUTURE))
        elif dob.year < today.year - 130:
            errors.append(FieldError("date_of_birth", DOB_TOO_OLD))
    if errors:
        raise InvalidInput(detail="The patient record is not valid; nothing was saved.", errors=errors)


def _next_mrn(site: Site) -> str:
    sequence, _ = MrnSequence.objects.select_for_update().get_or_create(site=site)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return mrn_format(site.code, sequence.last_value)


@transaction.atomic
def patient_create(*, site: Site, actor: User, data: dict[str, Any]) -> Patient:
    """Register a patient at SITE with a new medical record number."""
    if site.kind != Site.Kind.CLINIC:
        raise InvalidInput.single("site", NOT_A_CLINIC)
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(
            detail="Unknown fields; nothing was saved.",
            errors=[FieldError(name, "is not a patient field") for name in sorted(unknown)],
        )
    patient = Patient(site=site, **data)
    _validate(patient)
    patient.mrn = _next_mrn(site)
    patient.save()
    audit_record(
        actor=actor,
        action="patient.create",
        object_type="patient",
        object_id=patient.pk,
        site=site,
        patient_id=patient.pk,
        # The MRN is not an editable field, so the snapshot leaves it out; the event names it.
        after={**snapshot(patient, exclude=AUDITED_EXCLUDE), "mrn": patient.mrn},
    )
    return patient


def patient_version(patient: Patient) -> str:
    """What an edit form carries to tell whether the record changed while it was open."""
    return patient.updated_at.isoformat()


REASON_REQUIRED = "give the reason for the change; it is kept with the change in the audit trail"


@transaction.atomic
def patient_update(
    *,
    patient: Patient,
    actor: User,
    data: dict[str, Any],
    reason: str = "",
    expected_version: str | None = None,
) -> Patient:
    """Change the given fields only, for REASON (required when anything changes); the previous values
    stay in the audit trail with the reason.

    With EXPECTED_VERSION (from an edit form), a record changed by someone else since the form was
    opened is refused rather than overwritten with the values the form showed.
    """
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(
            detail="Unknown fields; nothing was saved.",
            errors=[FieldError(name, "is not a patient field") for name in sorted(unknown)],
        )
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if expected_version is not None and patient_version(locked) != expected_version:
        raise InvalidInput(detail=CHANGED_MEANWHILE, errors=[FieldError("version", CHANGED_MEANWHILE)])
    before = snapshot(locked, exclude=AUDITED_EXCLUDE)
    for name, value in data.items():
        setattr(locked, name, value)
    _validate(locked)
    after = snapshot(locked, exclude=AUDITED_EXCLUDE)
    changed = changed_fields(before, after)
    if not changed:
        return locked
    if not (reason or "").strip():
        # A correction of the record says why; the reason stays with the change in the audit trail.
        raise InvalidInput.single("reason", REASON_REQUIRED)
    locked.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor,
        action="patient.update",
        object_type="patient",
        object_id=locked.pk,
        site=locked.site,
        patient_id=locked.pk,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
        reason=reason,
    )
    return locked


@transaction.atomic
def patient_link_portal_user(*, patient: Patient, user: User, actor: User | None) -> Patient:
    """Give a portal account to a patient; one account links to exactly one patient."""
    if not user.is_patient:
        raise InvalidInput.single("user", "only a patient portal account can be linked to a patient")
    if Patient.objects.filter(portal_user=user).exclude(pk=patient.pk).exists():
        raise InvalidInput.single("user", "this portal account already belongs to another patient")
    Patient.objects.filter(pk=patient.pk).update(portal_user=user)
    patient.portal_user = user
    audit_record(
        actor=actor,
        action="patient.link_portal_user",
        object_type="patient",
        object_id=patient.pk,
        site=patient.site,
        patient_id=patient.pk,
        after={"portal_user": user.username},
    )
    return patient


HAS_PORTAL_ACCOUNT = "this patient already has a portal account"
USERNAME_MAX = 150


# Latin letters that Unicode does not decompose into a base letter and an accent.
_LATIN_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ł": "l", "þ": "th", "ð": "d"}
)


def _username_part(name: str) -> str:
    """A name as plain lower-case letters and digits: accents dropped, spaces and punctuation removed."""
    folded = unicodedata.normalize("NFKD", name.lower().translate(_LATIN_LETTERS))
    return re.sub(r"[^a-z0-9]+", "", folded.encode("ascii", "ignore").decode("ascii"))


def portal_username_base(given_name: str, family_name: str) -> str:
    """given.family in lower case, for a portal username; 'patient' when the names give no letters."""
    parts = [part for part in (_username_part(given_name), _username_part(family_name)) if part]
    return ".".join(parts)[: USERNAME_MAX - 6] or "patient"


def portal_username_suggest(patient: Patient) -> str:
    """given.family, or the first free given.family2, given.family3, ... (usernames ignore case)."""
    base = portal_username_base(patient.given_name, patient.family_name)
    taken = {
        name.lower()
        for name in User.objects.filter(username__istartswith=base).values_list("username", flat=True)
    }
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}{number}"
    return candidate


@transaction.atomic
def patient_portal_account_create(*, patient: Patient, username: str, password: str, actor: User) -> User:
    """A portal account for PATIENT, named after them, linked in the same transaction.

    A blank USERNAME takes the suggested one. The password is checked against the policy.
    """
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if locked.portal_user_id is not None:
        raise InvalidInput(
            detail="The patient already has a portal account; nothing was saved.",
            errors=[FieldError("portal_user", HAS_PORTAL_ACCOUNT)],
        )
    user = user_create(
        username=username.strip() or portal_username_suggest(locked),
        password=password,
        first_name=locked.given_name,
        last_name=locked.family_name,
        email=locked.email,
        kind=User.Kind.PATIENT,
        actor=actor,
        site=locked.site,
        patient_id=locked.pk,
    )
    patient_link_portal_user(patient=patient, user=user, actor=actor)
    return user


REVIEW_FIELDS = ("mrn", "history", "history_notes", "allergies", "allergy_notes")
REVIEW_STATEMENT = "Relevant history and allergies reviewed"
CANNOT_SIGN = "Only a practitioner at the patient's clinic can sign the history review."


def patient_review_record(patient: Patient) -> dict[str, Any]:
    """The part of the record a history review signs: the MRN, the history and the allergies."""
    return {name: getattr(patient, name) for name in REVIEW_FIELDS}


@transaction.atomic
def patient_history_review_sign(*, patient: Patient, signer: User, password: str) -> Signature:
    """A practitioner's 'reviewed' signature over the history and allergies as they now stand."""
    if not has_permission(signer, Permission.PATIENT_SIGN, patient.site_id):
        raise Forbidden(CANNOT_SIGN)
    current = Patient.objects.select_for_update().get(pk=patient.pk)
    return signature_create(
        signer=signer,
        password=password,
        meaning=Signature.Meaning.REVIEWED,
        object_type="patient",
        object_id=current.pk,
        record=patient_review_record(current),
        site=patient.site,
        patient_id=current.pk,
        statement=REVIEW_STATEMENT,
    )
