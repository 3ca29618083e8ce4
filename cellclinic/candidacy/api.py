"""Candidacy over JSON: the public self-assessment, and the clinics' consultation-request worklist."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import Http404
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import ConfigDict, StrictInt

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.auth import api_auth
from cellclinic.accounts.roles import Permission
from cellclinic.audit.services import record_read, record_search
from cellclinic.candidacy.engine import AREAS, CONCERNS, EXPECTATIONS, MAX_AGE
from cellclinic.candidacy.models import Assessment, Enquiry
from cellclinic.candidacy.questionnaire import api_schemas
from cellclinic.candidacy.selectors import enquiry_get_for_user, enquiry_list
from cellclinic.candidacy.services import assessment_run, enquiry_status_set, get_ruleset
from cellclinic.candidacy.throttle import AssessmentThrottle
from cellclinic.core.api_pagination import LimitOffset
from cellclinic.core.api_types import Id, Paragraph

Concern = Literal[CONCERNS]  # type: ignore[valid-type]
Area = Literal[AREAS]  # type: ignore[valid-type]
Expectation = Literal[tuple(EXPECTATIONS)]  # type: ignore[valid-type]
Outcome = Literal["suitable", "consult", "not_suitable"]
EnquiryStatus = Literal[tuple(Enquiry.Status.values)]  # type: ignore[valid-type]

ERROR_REF = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
RATE_LIMITED = {"responses": {"429": {"description": "Too many requests from this address.", **ERROR_REF}}}


# Built from rules.toml, as the forms are: a question is declared once.
AssessmentHealthIn, AssessmentConditionIn = api_schemas(get_ruleset())


class AssessmentIn(Schema):
    """A self-assessment. Unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    concerns: list[Concern] = Field(..., min_length=1, max_length=len(CONCERNS))
    area: Area
    age: StrictInt = Field(..., ge=0, le=MAX_AGE)
    health: AssessmentHealthIn = Field(default_factory=AssessmentHealthIn)
    condition: AssessmentConditionIn | None = None
    expectation: Expectation


class AssessmentTherapyOut(Schema):
    code: str
    name: str = Field(description="The therapy's name in plain words.")
    status: Literal["suitable", "consult"] = Field(
        description='"suitable" when nothing is left to check for this therapy; "consult" when a '
        "practitioner must look at something first (the reasons say what)."
    )
    concerns: list[Concern]
    reasons: list[str]


class AssessmentExclusionOut(Schema):
    code: str
    name: str
    reasons: list[str] = Field(description="Why the therapy is not an option for these answers.")


class AssessmentAlternativeOut(Schema):
    code: str
    name: str
    why: str


class AssessmentReasonOut(Schema):
    rule: str
    text: str
    effect: Literal["note", "excludes", "consult", "not_suitable"] = Field(
        description="On the person: note, consult or not_suitable. On one therapy (the rule id names it "
        'after a colon): "excludes" takes it off the list, "consult" keeps it with a check first.'
    )
    urgent: bool = Field(description="Care is needed now, before anything else.")


class AssessmentOut(Schema):
    id: UUID = Field(description="The public id of the stored assessment.")
    result_url: str = Field(description="The result page for people.")
    outcome: Outcome
    urgent: list[str] = Field(description="Seek care now: what to do and whom to contact. Shown first.")
    therapies: list[AssessmentTherapyOut] = Field(description="The therapies that remain options.")
    excluded: list[AssessmentExclusionOut] = Field(
        description="Therapies for the chosen concerns that are not options, each with its reasons."
    )
    alternatives: list[AssessmentAlternativeOut]
    reasons: list[AssessmentReasonOut]
    expectations: dict[str, Any]
    ruleset: str


def assessment_out(assessment: Assessment) -> dict[str, Any]:
    return {
        **assessment.result,
        "id": assessment.public_id,
        "result_url": reverse("candidacy:result", args=[assessment.public_id]),
    }


router = Router(tags=["candidacy"])


@router.post(
    "",
    response=AssessmentOut,
    auth=None,
    summary="Run a self-assessment",
    openapi_extra=RATE_LIMITED,
    throttle=AssessmentThrottle(),
)
def assessment_create(request, payload: AssessmentIn):
    """Anyone may ask "am I a suitable candidate?". The answer explains itself; the run is stored.

    Rate-limited per client address; every request counts, also one refused as invalid.
    """
    answers = payload.model_dump()
    assessment = assessment_run(answers=answers, source=Assessment.Source.PUBLIC)
    return assessment_out(assessment)


# ---------------------------------------------------------------------------------------------------
# The worklist, for staff who handle consultation requests.


def _handles_enquiries(user) -> None:
    """Anyone who handles no enquiries anywhere gets the answer a missing record gets."""
    if not has_permission(user, Permission.ENQUIRY_HANDLE):
        raise Http404("Not found")


enquiry_router = Router(tags=["enquiries"], auth=api_auth(_handles_enquiries))


class EnquiryOut(Schema):
    id: int
    site: str = Field(description="The clinic's code.")
    status: EnquiryStatus
    name: str
    email: str
    phone: str
    preferred_times: str
    message: str
    consent_to_contact: bool
    notes: str
    assessment_id: UUID | None = Field(None, description="The public id of the attached self-assessment.")
    outcome: Outcome | None = Field(None, description="The attached self-assessment's outcome.")
    patient_id: int | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_site(obj: Enquiry) -> str:
        return obj.site.code

    @staticmethod
    def resolve_assessment_id(obj: Enquiry) -> UUID | None:
        return obj.assessment.public_id if obj.assessment is not None else None

    @staticmethod
    def resolve_outcome(obj: Enquiry) -> str | None:
        return obj.assessment.outcome if obj.assessment is not None else None


class EnquiryDetailOut(EnquiryOut):
    result: dict[str, Any] | None = Field(None, description="The attached self-assessment's result.")

    @staticmethod
    def resolve_result(obj: Enquiry) -> dict | None:
        return obj.assessment.result if obj.assessment is not None else None


class EnquiryListQuery(Schema):
    status: EnquiryStatus | None = Field(None, description="Only enquiries with this status.")


class EnquiryPatchIn(Schema):
    """A status change (new -> contacted -> booked or closed) and/or a note added to the enquiry."""

    model_config = ConfigDict(extra="forbid")

    status: EnquiryStatus | None = Field(None, description="Left out: the status stays as it is.")
    notes: Paragraph(2000) = Field("", description="A note, added with the date and your name.")


@enquiry_router.get("", response=list[EnquiryOut], summary="List consultation requests")
@paginate(LimitOffset, max_limit=200)
def enquiry_list_api(request, params: Query[EnquiryListQuery]):
    """Requests at your clinics, newest first."""
    enquiries = enquiry_list(request.auth, status=params.status or "")
    record_search(request, "enquiry")
    return enquiries


@enquiry_router.get("/{int:enquiry_id}", response=EnquiryDetailOut, summary="One consultation request")
def enquiry_read(request, enquiry_id: Id):
    enquiry = enquiry_get_for_user(request.auth, enquiry_id)
    record_read(request, enquiry)
    return enquiry


@enquiry_router.patch("/{int:enquiry_id}", response=EnquiryDetailOut, summary="Change a request's status")
def enquiry_update(request, enquiry_id: Id, payload: EnquiryPatchIn):
    """Move the request on, or add a note; a closed request stays closed."""
    enquiry = enquiry_get_for_user(request.auth, enquiry_id)
    enquiry_status_set(
        enquiry=enquiry, actor=request.auth, status=payload.status or enquiry.status, notes=payload.notes
    )
    return enquiry_get_for_user(request.auth, enquiry_id)
