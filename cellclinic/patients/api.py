"""The patient registry over JSON: list and search, register, read, correct."""

from datetime import date, datetime
from typing import Literal

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict, field_validator
from pydantic_core import PydanticCustomError

from cellclinic.accounts.access import has_permission, require_permission, require_staff
from cellclinic.accounts.auth import api_auth
from cellclinic.accounts.models import Site
from cellclinic.accounts.roles import Permission
from cellclinic.audit.services import record_read, record_search
from cellclinic.catalogue.vocabulary import ALLERGY_CODES, FITZPATRICK, HISTORY_CODES, INDICATIONS
from cellclinic.core.api_pagination import LimitOffset
from cellclinic.core.api_types import LIST_MAX, Code, Date, Id, Line, Paragraph
from cellclinic.core.errors import InvalidInput
from cellclinic.patients.models import Patient
from cellclinic.patients.selectors import patient_get_for_user, patient_search
from cellclinic.patients.services import patient_create, patient_update

SexAtBirth = Literal["female", "male", "intersex", "not_recorded"]
FitzpatrickType = Literal[("", *FITZPATRICK)]  # type: ignore[valid-type]
Indication = Literal[("", *INDICATIONS)]  # type: ignore[valid-type]

SITE_NOT_ALLOWED = "you cannot register patients at this site"
SITE_REQUIRED = "required: you can register patients at more than one clinic ({codes})"
HISTORY_HELP = f"Codes from the screening checklist: {', '.join(HISTORY_CODES)}."
ALLERGY_HELP = f"Allergy codes: {', '.join(ALLERGY_CODES)}."
Name = Line(100)
Notes = Paragraph(5000)  # free text: concern details, notes, an address


def _with_registry_access(user) -> None:
    """Users who may see no patient at all get the answer a missing record gets."""
    if not (user.is_patient or has_permission(user, Permission.PATIENT_VIEW)):
        raise Http404("Not found")


router = Router(tags=["patients"], auth=api_auth(_with_registry_access))


class PatientOut(Schema):
    id: int
    mrn: str
    site: str = Field(description="The clinic's code.")
    given_name: str
    family_name: str
    date_of_birth: date
    sex_at_birth: str
    gender_identity: str
    pronouns: str
    email: str
    phone: str
    address: str
    postcode: str
    fitzpatrick_type: str
    presenting_concern: str
    concern_details: str
    history: list[str]
    allergies: list[str]
    allergy_notes: str
    history_notes: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_site(obj: Patient) -> str:
        return obj.site.code


class PatientListParams(Schema):
    q: Line(200) = Field("", description="Name (any part), MRN, or date of birth.")


class PatientIn(Schema):
    """A new patient. Unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    site: Code | None = Field(None, description="Clinic code; needed only when you work at several clinics.")
    given_name: Name
    family_name: Name
    date_of_birth: Date
    sex_at_birth: SexAtBirth = "not_recorded"
    gender_identity: Line(60) = ""
    pronouns: Line(30) = ""
    email: Line(254) = ""
    phone: Line(40) = ""
    address: Notes = ""
    postcode: Line(16) = ""
    fitzpatrick_type: FitzpatrickType = ""
    presenting_concern: Indication = ""
    concern_details: Notes = ""
    history: list[Code] = Field(default_factory=list, max_length=LIST_MAX, description=HISTORY_HELP)
    allergies: list[Code] = Field(default_factory=list, max_length=LIST_MAX, description=ALLERGY_HELP)
    allergy_notes: Notes = ""
    history_notes: Notes = ""


class PatientPatch(Schema):
    """The fields to change; those left out keep their value. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    given_name: Name | None = None
    family_name: Name | None = None
    date_of_birth: Date | None = None
    sex_at_birth: SexAtBirth | None = None
    gender_identity: Line(60) | None = None
    pronouns: Line(30) | None = None
    email: Line(254) | None = None
    phone: Line(40) | None = None
    address: Notes | None = None
    postcode: Line(16) | None = None
    fitzpatrick_type: FitzpatrickType | None = None
    presenting_concern: Indication | None = None
    concern_details: Notes | None = None
    history: list[Code] | None = Field(None, max_length=LIST_MAX, description=HISTORY_HELP)
    allergies: list[Code] | None = Field(None, max_length=LIST_MAX, description=ALLERGY_HELP)
    allergy_notes: Notes | None = None
    history_notes: Notes | None = None
    reason: Paragraph(500) = Field("", description="Why the record is corrected; kept in the audit trail.")

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise PydanticCustomError("not_null", "cannot be null; leave the field out to keep its value")
        return value


def _registration_site(user, code: str | None) -> Site:
    """The clinic named by CODE, or the user's only clinic; the same refusal whether a site exists or not."""
    site_ids = require_permission(user, Permission.PATIENT_EDIT)
    clinics = Site.objects.filter(pk__in=site_ids, kind=Site.Kind.CLINIC).order_by("code")
    if code is not None:
        site = clinics.filter(code=code).first()
        if site is None:
            raise InvalidInput.single("site", SITE_NOT_ALLOWED)
        return site
    found = list(clinics[:20])
    if not found:
        raise Http404("Not found")
    if len(found) > 1:
        raise InvalidInput.single("site", SITE_REQUIRED.format(codes=", ".join(s.code for s in found)))
    return found[0]


@router.get("", response=list[PatientOut], summary="List and search patients")
@paginate(LimitOffset, max_limit=200)
def patient_list(request, params: Query[PatientListParams]):
    """Patients at your clinics (a portal user: only their own record), by family name."""
    patients = patient_search(request.auth, params.q)
    record_search(request, "patient")
    return patients


@router.post("", response={201: PatientOut}, summary="Register a patient")
def patient_register(request, payload: PatientIn):
    """Register a patient; a medical record number is issued."""
    user = request.auth
    require_staff(user)
    data = payload.model_dump(exclude={"site"})
    site = _registration_site(user, payload.site)
    return Status(201, patient_create(site=site, actor=user, data=data))


@router.get("/{int:patient_id}", response=PatientOut, summary="One patient")
def patient_read(request, patient_id: Id):
    patient = patient_get_for_user(request.auth, patient_id)
    record_read(request, patient, object_type="patient")
    return patient


@router.patch("/{int:patient_id}", response=PatientOut, summary="Correct a patient's record")
def patient_correct(request, patient_id: Id, payload: PatientPatch):
    """Change only the fields given; the previous values stay in the audit trail."""
    user = request.auth
    require_staff(user)
    patient = patient_get_for_user(user, patient_id, write=True)
    data = payload.model_dump(exclude_unset=True, exclude={"reason"})
    return patient_update(patient=patient, actor=user, data=data, reason=payload.reason)
