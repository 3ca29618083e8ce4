"""The audit trail for clinic admins, read-only."""

from datetime import datetime
from typing import Any

from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from cellclinic.audit.selectors import AuditFilters, audit_event_list, audit_rows_for_api
from cellclinic.core.api_pagination import LimitOffset
from cellclinic.core.api_types import MAX_ID, Date, Line

router = Router(tags=["audit"])

MAX_LIMIT = 200


class AuditEventQuery(Schema):
    patient_id: int | None = Field(None, ge=1, le=MAX_ID, description="Events about this patient")
    user: Line(150) | None = Field(None, description="Username of the actor")
    object_type: Line(60) | None = Field(None, description="e.g. patient, user, site")
    object_id: Line(64) | None = None
    date_from: Date | None = Field(None, description="First day, in the clinic's local time")
    date_to: Date | None = Field(None, description="Last day, in the clinic's local time")

    def to_filters(self) -> AuditFilters:
        return AuditFilters(
            patient_id=self.patient_id,
            user=(self.user or "").strip(),
            object_type=(self.object_type or "").strip(),
            object_id=(self.object_id or "").strip(),
            date_from=self.date_from,
            date_to=self.date_to,
        )


class AuditEventOut(Schema):
    id: int
    occurred_at: datetime
    actor: str = Field(description="The actor's name as it was when the event happened")
    actor_username: str | None
    site: str | None = Field(description="Site code")
    action: str
    object_type: str
    object_id: str
    patient_id: int | None
    before: Any = Field(description="Values before the change (changed fields only for an update)")
    after: Any
    details_hidden: bool = Field(description="Before and after are withheld: the patient is not yours to see")
    reason: str
    request_id: str = Field(description="The server's id of the request that made the change")
    client_request_id: str = Field(description="The X-Request-ID the client sent, as sent (not trusted)")
    prev_hash: str
    hash: str


@router.get(
    "/events",
    response=list[AuditEventOut],
    summary="Audit events of your sites, newest first",
    description=(
        "Clinic admins only (others get 404). The chain itself is checked by `cellclinic verify-audit`."
    ),
)
@paginate(LimitOffset, max_limit=MAX_LIMIT, to_items=audit_rows_for_api)
def event_list(request, filters: Query[AuditEventQuery]):
    return audit_event_list(request.auth, filters.to_filters())
