"""Consultations over JSON, for clinic staff: start, list, read, record goals and findings."""

from datetime import datetime

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict, field_validator
from pydantic_core import PydanticCustomError

from cellclinic.accounts.access import has_permission, require_permission, require_staff
from cellclinic.accounts.auth import api_auth
from cellclinic.accounts.roles import Permission
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.selectors import consultation_get_for_user, consultations_page
from cellclinic.consultations.services import consultation_start, consultation_update
from cellclinic.core.api_pagination import LimitOffset
from cellclinic.core.errors import InvalidInput
from cellclinic.patients.selectors import patient_get_for_user

ENQUIRY_UNKNOWN = "no enquiry with this id at the patient's clinic"


def _staff_reader(user) -> None:
    """Portal patients and staff who may see no patient get the answer a missing record gets."""
    if user.is_patient or not has_permission(user, Permission.PATIENT_VIEW):
        raise Http404("Not found")


router = Router(tags=["consultations"], auth=api_auth(_staff_reader))


class ConsultationOut(Schema):
    id: int
    patient_id: int
    site: str = Field(description="The clinic's code.")
    practitioner: str = Field(description="The practitioner's printed name.")
    enquiry_id: int | None
    status: str = Field(description="open or decided.")
    goals: str
    target_areas: list[str]
    indication: str
    severity_scale: str
    severity_score: float | None
    fitzpatrick_type: str
    findings: str
    assessment_id: int | None
    expectations_discussed_at: datetime | None
    alternatives_discussed: list[str]
    decision: str = Field(description="proceed, alternative, decline or refer; empty until decided.")
    therapy_code: str
    therapy_version: str
    alternative_code: str
    decision_notes: str
    decided_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_site(obj: Consultation) -> str:
        return obj.site.code

    @staticmethod
    def resolve_practitioner(obj: Consultation) -> str:
        return obj.practitioner.display_name

    @staticmethod
    def resolve_severity_score(obj: Consultation) -> float | None:
        return None if obj.severity_score is None else float(obj.severity_score)


class ConsultationListParams(Schema):
    patient_id: int | None = Field(None, ge=1, le=2**63 - 1, description="Only this patient's consultations.")


class ConsultationIn(Schema):
    """Open a consultation; the practitioner is you. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    patient_id: int
    enquiry_id: int | None = Field(None, description="The enquiry it was booked from (same clinic).")


class ConsultationPatch(Schema):
    """The goals and findings to change; those left out keep their value. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    goals: str | None = Field(None, max_length=5000)
    target_areas: list[str] | None = None
    indication: str | None = None
    severity_scale: str | None = Field(None, description="A scale for the indication, e.g. wsrs or vss.")
    severity_score: float | None = Field(None, description="Within the scale's range; null clears it.")
    fitzpatrick_type: str | None = None
    findings: str | None = Field(None, max_length=5000)

    @field_validator(
        "goals", "target_areas", "indication", "severity_scale", "fitzpatrick_type", "findings", mode="before"
    )
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise PydanticCustomError("not_null", "cannot be null; leave the field out to keep its value")
        return value


@router.post("", response={201: ConsultationOut}, summary="Start a consultation")
def consultation_create(request, payload: ConsultationIn):
    """Open a consultation for a patient of your clinic; with enquiry_id, that enquiry is marked booked."""
    user = require_staff(request.auth)
    require_permission(user, Permission.CONSULTATION_RUN)
    patient = patient_get_for_user(user, payload.patient_id)
    if not has_permission(user, Permission.CONSULTATION_RUN, patient.site_id):
        raise Http404("Not found")
    enquiry = None
    if payload.enquiry_id is not None:
        from cellclinic.candidacy.models import Enquiry

        enquiry = Enquiry.objects.filter(pk=payload.enquiry_id, site_id=patient.site_id).first()
        if enquiry is None:
            raise InvalidInput.single("enquiry_id", ENQUIRY_UNKNOWN)
    consultation = consultation_start(patient=patient, actor=user, enquiry=enquiry)
    return Status(201, consultation_get_for_user(user, consultation.pk))


@router.get("", response=list[ConsultationOut], summary="List consultations")
@paginate(LimitOffset, max_limit=200)
def consultation_list(request, params: Query[ConsultationListParams]):
    """Consultations at your clinics, newest first; optionally for one patient."""
    return consultations_page(request.auth, patient_id=params.patient_id)


@router.get("/{int:consultation_id}", response=ConsultationOut, summary="One consultation")
def consultation_read(request, consultation_id: int):
    return consultation_get_for_user(request.auth, consultation_id)


@router.patch("/{int:consultation_id}", response=ConsultationOut, summary="Record goals and findings")
def consultation_patch(request, consultation_id: int, payload: ConsultationPatch):
    """Change only the fields given; a decided consultation cannot be changed (422)."""
    user = request.auth
    consultation = consultation_get_for_user(user, consultation_id, permission=Permission.CONSULTATION_RUN)
    data = payload.model_dump(exclude_unset=True)
    consultation_update(consultation=consultation, actor=user, data=data)
    return consultation_get_for_user(user, consultation_id)
