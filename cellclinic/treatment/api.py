"""Treatment plans over JSON: list a patient's plans, read one with its steps, make one."""

from datetime import date, datetime

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from cellclinic.accounts.access import has_permission, require_staff
from cellclinic.accounts.auth import api_auth
from cellclinic.accounts.roles import Permission
from cellclinic.audit.services import record_read, record_search
from cellclinic.catalogue.registry import therapy_name
from cellclinic.core.api_pagination import LimitOffset
from cellclinic.core.api_types import MAX_ID, Date, Id
from cellclinic.treatment.models import TreatmentPlan
from cellclinic.treatment.selectors import (
    consultation_get_for_planning,
    plan_get_for_staff,
    plans_for_staff_list,
)
from cellclinic.treatment.services import plan_create


def _staff_who_see_patients(user) -> None:
    """Portal patients, lab staff and anyone else who may see no patient get a missing record's answer."""
    require_staff(user)
    if not has_permission(user, Permission.PATIENT_VIEW):
        raise Http404("Not found")


router = Router(tags=["treatment"], auth=api_auth(_staff_who_see_patients))


class StepOut(Schema):
    sequence: int
    kind: str = Field(description="harvest, processing, product_ready, session, aftercare or follow_up.")
    label: str
    detail: str
    due_date: date
    window_start: date
    window_end: date
    primary_endpoint: bool


class PlanSummaryOut(Schema):
    id: int
    patient_id: int
    site: str = Field(description="The clinic's code.")
    consultation_id: int
    consent_id: int
    therapy_code: str
    therapy_name: str
    therapy_version: str
    harvest_date: date | None
    start_date: date
    status: str = Field(description="active, stopped or completed.")
    stopped_reason: str
    created_at: datetime

    @staticmethod
    def resolve_site(obj: TreatmentPlan) -> str:
        return obj.site.code

    @staticmethod
    def resolve_therapy_name(obj: TreatmentPlan) -> str:
        return therapy_name(obj.therapy_code)


class PlanOut(PlanSummaryOut):
    steps: list[StepOut]

    @staticmethod
    def resolve_steps(obj: TreatmentPlan) -> list:
        return list(obj.steps.all())


class PlanListParams(Schema):
    patient_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only this patient's plans.")


class PlanIn(Schema):
    """A plan for a decided consultation whose consent is signed. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    consultation_id: Id
    harvest_date: Date | None = Field(
        None, description="Required for the patient's own cells; else leave out."
    )
    start_date: Date | None = Field(None, description="The first treatment, for a donor product.")


@router.get("", response=list[PlanSummaryOut], summary="List treatment plans")
@paginate(LimitOffset, max_limit=200)
def plan_list(request, params: Query[PlanListParams]):
    """Plans at your clinics, newest first; with patient_id, only that patient's."""
    plans = plans_for_staff_list(request.auth, params.patient_id)
    record_search(request, "treatment_plan", patient_id=params.patient_id)
    return plans


@router.get("/{int:plan_id}", response=PlanOut, summary="One treatment plan with its steps")
def plan_read(request, plan_id: Id):
    plan = plan_get_for_staff(request.auth, plan_id)
    record_read(request, plan)
    return plan


@router.post("", response={201: PlanOut}, summary="Make a treatment plan")
def plan_make(request, payload: PlanIn):
    """Lay out the plan from the protocol and save it; refused without a signed consent in force."""
    user = request.auth
    consultation = consultation_get_for_planning(user, payload.consultation_id)
    plan = plan_create(
        consultation=consultation,
        actor=user,
        harvest_date=payload.harvest_date,
        start_date=payload.start_date,
    )
    return Status(201, plan_get_for_staff(user, plan.pk))
