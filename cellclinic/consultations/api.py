"""Consultations over JSON, for clinic staff: start, list, read, record goals and findings."""

from datetime import datetime
from typing import Any

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict, field_validator
from pydantic_core import PydanticCustomError

from cellclinic.accounts.access import has_permission, require_permission, require_staff
from cellclinic.accounts.auth import api_auth
from cellclinic.accounts.roles import Permission
from cellclinic.audit.services import record_read, record_search
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.selectors import consultation_get_for_user, consultations_page
from cellclinic.consultations.services import consultation_start, consultation_update
from cellclinic.consultations.severity import BURN_DEPTHS, SCALES, SCALES_BY_INDICATION
from cellclinic.core.api_pagination import LimitOffset
from cellclinic.core.api_types import LIST_MAX, MAX_ID, Code, Finite, Id, Paragraph, Whole
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
    severity_score: float | None = Field(
        description="The scale's score computed from its items (its total, or its one item); null for a "
        "scale with no single score (WSRS, per side) and when none is recorded."
    )
    severity_items: dict[str, int | float] = Field(
        description="Every item score of the scale, by item key (see GET /consultations/scales); empty "
        "when none is recorded, or for a score recorded before items were kept."
    )
    severity_totals: dict[str, float] = Field(
        description="The totals computed from the items, by name (e.g. observer_total and patient_total "
        "for POSAS, t_vasi for T-VASI); the overall opinions of POSAS are not in them."
    )
    burn_depth: str = Field(description=f"A burn's depth: {', '.join(BURN_DEPTHS)}; empty if not recorded.")
    burn_tbsa_pct: float | None = Field(description="A burn's area, % of the total body surface area.")
    wound_area_cm2: float | None = Field(description="A wound's area in cm².")
    wound_duration_weeks: int | None = Field(description="How many weeks the wound has been open.")
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

    @staticmethod
    def resolve_severity_totals(obj: Consultation) -> dict[str, float]:
        return {name: float(value) for name, value in obj.severity_totals.items()}

    @staticmethod
    def resolve_burn_tbsa_pct(obj: Consultation) -> float | None:
        return None if obj.burn_tbsa_pct is None else float(obj.burn_tbsa_pct)

    @staticmethod
    def resolve_wound_area_cm2(obj: Consultation) -> float | None:
        return None if obj.wound_area_cm2 is None else float(obj.wound_area_cm2)


class ConsultationListParams(Schema):
    patient_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only this patient's consultations.")


class ConsultationIn(Schema):
    """Open a consultation; the practitioner is you. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    patient_id: Id
    enquiry_id: Id | None = Field(None, description="The enquiry it was booked from (same clinic).")


class ConsultationPatch(Schema):
    """The goals and findings to change; those left out keep their value. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    goals: Paragraph(5000) | None = None
    target_areas: list[Code] | None = Field(None, max_length=LIST_MAX)
    indication: Code | None = None
    severity_scale: Code | None = Field(
        None, description="A scale for the indication, e.g. wsrs or vss; an empty string clears the severity."
    )
    severity_items: dict[Code, Any] | None = Field(
        None,
        max_length=LIST_MAX,
        description="Every item of the scale, item key: score, replacing the items recorded; the score "
        "and totals are computed from them. Each bad item is named as severity_items.<key>.",
    )
    severity_score: Finite | None = Field(
        None, description="Only for a scale of one item (e.g. glogau, gais), instead of severity_items."
    )
    burn_depth: Code | None = Field(None, description=f"For a burn: {', '.join(BURN_DEPTHS)}; empty clears.")
    burn_tbsa_pct: Finite | None = Field(None, description="For a burn: % of the body surface; null clears.")
    wound_area_cm2: Finite | None = Field(None, description="For a wound: its area in cm²; null clears.")
    wound_duration_weeks: Whole | None = Field(None, description="For a wound: weeks open; null clears.")
    fitzpatrick_type: Code | None = None
    findings: Paragraph(5000) | None = None

    @field_validator(
        "goals",
        "target_areas",
        "indication",
        "severity_scale",
        "severity_items",
        "burn_depth",
        "fitzpatrick_type",
        "findings",
        mode="before",
    )
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise PydanticCustomError("not_null", "cannot be null; leave the field out to keep its value")
        return value


class ScaleItemOut(Schema):
    key: str
    label: str
    minimum: float
    maximum: float
    whole: bool = Field(description="Whole numbers only; otherwise up to 2 decimal places.")
    allowed: list[int] = Field(description="The only values it may take, when the scale limits them.")
    levels: dict[str, str] = Field(description="What values mean, by value.")
    unit: str
    summed: bool = Field(description="False for an item recorded but not added into the totals.")


class ScaleTotalOut(Schema):
    key: str
    label: str
    minimum: float
    maximum: float
    parts: list[str] = Field(description="The items added up.")
    weights: list[str] = Field(description="When given, each part is multiplied by this item's % first.")


class ScaleOut(Schema):
    code: str
    label: str
    meaning: str
    source: list[str] = Field(description="Source tags of the domain reference.")
    indications: list[str]
    items: list[ScaleItemOut]
    totals: list[ScaleTotalOut]
    score: str | None = Field(description="The total (or item) kept as severity_score; null if none.")


def _scale_out(scale) -> dict:
    return {
        "code": scale.code,
        "label": scale.label,
        "meaning": scale.meaning,
        "source": list(scale.source),
        "indications": [i for i, scales in SCALES_BY_INDICATION.items() if scale in scales],
        "items": [
            {
                "key": item.key,
                "label": item.label,
                "minimum": float(item.minimum),
                "maximum": float(item.maximum),
                "whole": item.whole or bool(item.allowed),
                "allowed": list(item.allowed),
                "levels": {str(value): meaning for value, meaning in item.levels},
                "unit": item.unit,
                "summed": item.summed,
            }
            for item in scale.items
        ],
        "totals": [
            {
                "key": total.key,
                "label": total.label,
                "minimum": float(total.minimum),
                "maximum": float(total.maximum),
                "parts": list(total.parts),
                "weights": list(total.weights),
            }
            for total in scale.totals
        ],
        "score": scale.headline,
    }


@router.get("/scales", response=list[ScaleOut], summary="Severity scales and their items")
def scale_list(request, indication: Code | None = None):
    """The scales a consultation records, item by item, optionally only those for one indication.

    Burns are also described by burn_depth and burn_tbsa_pct, wounds by wound_area_cm2 and
    wound_duration_weeks (fields of the consultation).
    """
    scales = SCALES_BY_INDICATION.get(indication, ()) if indication else SCALES.values()
    return [_scale_out(scale) for scale in scales]


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
    consultations = consultations_page(request.auth, patient_id=params.patient_id)
    record_search(request, "consultation", patient_id=params.patient_id)
    return consultations


@router.get("/{int:consultation_id}", response=ConsultationOut, summary="One consultation")
def consultation_read(request, consultation_id: Id):
    consultation = consultation_get_for_user(request.auth, consultation_id)
    record_read(request, consultation)
    return consultation


@router.patch("/{int:consultation_id}", response=ConsultationOut, summary="Record goals and findings")
def consultation_patch(request, consultation_id: Id, payload: ConsultationPatch):
    """Change only the fields given; a decided consultation cannot be changed (422)."""
    user = request.auth
    consultation = consultation_get_for_user(user, consultation_id, permission=Permission.CONSULTATION_RUN)
    data = payload.model_dump(exclude_unset=True)
    consultation_update(consultation=consultation, actor=user, data=data)
    return consultation_get_for_user(user, consultation_id)
