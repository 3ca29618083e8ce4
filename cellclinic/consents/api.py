"""Consent over JSON, for clinic staff: the document as signed, its status, choices and signatures."""

from datetime import datetime
from typing import Any

from django.http import Http404
from ninja import Field, Router, Schema

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.auth import api_auth
from cellclinic.accounts.roles import Permission
from cellclinic.audit.selectors import signatures_of
from cellclinic.audit.services import record_read
from cellclinic.consents.models import Consent
from cellclinic.consents.selectors import consent_get_for_user
from cellclinic.core.api_types import Id

SIGNATURES_SHOWN = 20


def _staff_reader(user) -> None:
    """Portal patients and staff who may see no patient get the answer a missing record gets."""
    if user.is_patient or not has_permission(user, Permission.PATIENT_VIEW):
        raise Http404("Not found")


router = Router(tags=["consents"], auth=api_auth(_staff_reader))


class SignatureOut(Schema):
    meaning: str
    printed_name: str
    signed_at: datetime
    record_hash: str
    statement: str


class ConsentOut(Schema):
    id: int
    patient_id: int
    consultation_id: int
    status: str = Field(description="awaiting_patient, awaiting_practitioner, signed or withdrawn.")
    therapy_code: str
    therapy_version: str
    template_version: str
    document: dict[str, Any] = Field(description="Title and sections, exactly as shown for signing.")
    document_hash: str
    photographs: bool | None
    outcome_reports: bool | None
    patient_signed_at: datetime | None
    patient_signed_in_clinic: bool
    practitioner_signed_at: datetime | None
    minor: bool = Field(description="The patient was under 18 on the day the consent was prepared.")
    guardian_name: str = Field(description="For a young person: the parent or guardian who consented.")
    guardian_relationship: str = Field(description="parent, guardian or other; empty for an adult.")
    young_person_assent: bool | None = Field(description="For a young person: their own assent.")
    pdf_sha256: str
    withdrawn_at: datetime | None
    withdrawn_reason: str
    created_at: datetime
    signatures: list[SignatureOut]

    @staticmethod
    def resolve_signatures(obj: Consent) -> list:
        return signatures_of("consent", obj.pk, limit=SIGNATURES_SHOWN)


@router.get("/{int:consent_id}", response=ConsentOut, summary="One consent")
def consent_read(request, consent_id: Id):
    """The consent document, its status, the patient's choices and the signatures."""
    consent = consent_get_for_user(request.auth, consent_id)
    record_read(request, consent)
    return consent
