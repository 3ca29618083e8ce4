"""Reads from the audit trail: events scoped to the reader's sites, and verification of the chain."""

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import CharField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast
from django.utils import timezone

from cellclinic.accounts.access import require_permission
from cellclinic.accounts.models import Membership, User
from cellclinic.accounts.roles import Permission
from cellclinic.audit.chain import HASHED_FIELDS, ChainReport, canonical_json, format_time, verify_chain
from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.core.errors import FieldError, InvalidInput

# The object types the audit page offers in its filter. An app that audits a new kind of object
# adds it with register_object_type() from its AppConfig.ready().
OBJECT_TYPES: dict[str, str] = {
    "api_token": "API token",
    "patient": "Patient",
    "site": "Site",
    "user": "User",
}

PATIENT_UNKNOWN = "no patient with this medical record number or id at your clinics"
DATES_REVERSED = "must be on or after the 'from' date"
DATE_OUT_OF_RANGE = "must be a date between the years 1900 and 9998"
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(9998, 12, 31)
VERIFY_CHUNK = 2000

# What a list row carries: the stored event, the site code, the actor's username, and the MRN of
# its patient when the reader may see that patient.
ROW_FIELDS = (
    "id",
    "occurred_at",
    "actor_name",
    "actor__username",
    "site__code",
    "patient_id",
    "patient_mrn",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "reason",
    "request_id",
    "prev_hash",
    "hash",
)


def patient_model():
    """The registry's patient model, named by settings.CELLCLINIC_PATIENT_MODEL (as AUTH_USER_MODEL names
    the user): the audit trail sits below the registry and reads a patient's MRN and site through it."""
    return apps.get_model(settings.CELLCLINIC_PATIENT_MODEL)


def register_object_type(name: str, label: str) -> None:
    """Offer NAME in the audit page's object type filter."""
    OBJECT_TYPES[name] = label


# What each audited action is called on pages (the chart's history of changes, the audit trail). An app
# names its own actions with register_action_labels() from its AppConfig.ready().
ACTION_LABELS: dict[str, str] = {"signature.create": "Signed"}


def register_action_labels(labels: dict[str, str]) -> None:
    """Name the actions in LABELS (action -> label) wherever the audit trail is shown."""
    ACTION_LABELS.update(labels)


def action_label(action: str) -> str:
    """The registered label of ACTION, or the action itself when no app has named it."""
    return ACTION_LABELS.get(action, action)


def object_type_choices() -> list[tuple[str, str]]:
    return sorted(OBJECT_TYPES.items(), key=lambda item: item[1].lower())


@dataclass(frozen=True)
class AuditFilters:
    """What the reader narrowed the list to; every field is optional."""

    patient_id: int | None = None
    user: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: date | None = None
    date_to: date | None = None


def audit_filters_check(filters: AuditFilters) -> None:
    """Raise InvalidInput naming each filter that cannot be applied."""
    errors: list[FieldError] = []
    for name in ("date_from", "date_to"):
        value = getattr(filters, name)
        if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
            errors.append(FieldError(name, DATE_OUT_OF_RANGE))
    if not errors and filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        errors.append(FieldError("date_to", DATES_REVERSED))
    if errors:
        raise InvalidInput(detail="The audit filters are not valid.", errors=errors)


def audit_patient_resolve(user: User, text: str) -> int:
    """The id of the patient named by a medical record number or an id, at the reader's audit sites."""
    require_permission(user, Permission.AUDIT_VIEW)
    text = text.strip()
    if text.isdigit():
        if len(text) > 18:  # beyond a 64-bit id
            raise InvalidInput.single("patient", PATIENT_UNKNOWN)
        match = Q(pk=int(text))
    else:
        # MRNs are upper case by construction; an exact match uses the (site, mrn) index.
        match = Q(mrn=text.upper())
    found = (
        patient_model()
        .objects.visible_to(user, Permission.AUDIT_VIEW)
        .filter(match)
        .order_by()
        .values_list("pk", flat=True)
        .first()
    )
    if found is None:
        raise InvalidInput.single("patient", PATIENT_UNKNOWN)
    return found


def _start_of_local_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def audit_events_visible_to(user: User) -> QuerySet[AuditEvent]:
    """The events of the sites where USER may read the audit trail; 404 for everyone else.

    An event without a site is shown when it carries a patient of those sites, when it is about a
    user who works there, or (for any other object) when its actor works there.
    """
    sites = require_permission(user, Permission.AUDIT_VIEW)
    members = Membership.objects.filter(site_id__in=sites)
    member_ids = members.values("user_id")
    member_ids_text = members.annotate(user_id_text=Cast("user_id", CharField())).values("user_id_text")
    site_patients = patient_model().objects.visible_to(user, Permission.AUDIT_VIEW).values("pk")
    siteless = Q(site__isnull=True)
    no_patient = Q(patient_id__isnull=True)
    visible = (
        Q(site_id__in=sites)
        | (siteless & Q(patient_id__in=site_patients))
        | (siteless & no_patient & Q(object_type="user", object_id__in=member_ids_text))
        | (siteless & no_patient & ~Q(object_type="user") & Q(actor_id__in=member_ids))
    )
    return AuditEvent.objects.filter(visible)


def audit_event_list(user: User, filters: AuditFilters) -> QuerySet:
    """Visible events matching FILTERS, newest first, as dicts of ROW_FIELDS (one query per page)."""
    events = audit_events_visible_to(user)
    audit_filters_check(filters)
    if filters.patient_id is not None:
        events = events.filter(patient_id=filters.patient_id)
    if filters.user:
        events = events.filter(actor__username__iexact=filters.user)
    if filters.object_type:
        events = events.filter(object_type=filters.object_type)
    if filters.object_id:
        events = events.filter(object_id=filters.object_id)
    if filters.date_from:
        events = events.filter(occurred_at__gte=_start_of_local_day(filters.date_from))
    if filters.date_to:
        events = events.filter(occurred_at__lt=_start_of_local_day(filters.date_to + timedelta(days=1)))
    readable_patients = patient_model().objects.visible_to(user).filter(pk=OuterRef("patient_id")).order_by()
    return (
        events.annotate(patient_mrn=Subquery(readable_patients.values("mrn")[:1]))
        .order_by("-id")
        .values(*ROW_FIELDS)
    )


def signatures_of(object_type: str, object_id: Any, *, limit: int) -> list[Signature]:
    """The newest signatures on one record, at most LIMIT (the caller has checked access to it)."""
    return list(Signature.objects.filter(object_type=object_type, object_id=str(object_id))[:limit])


def patient_recent_events(patient_id: int, *, limit: int) -> list[AuditEvent]:
    """The newest audit events about one patient, at most LIMIT (the caller has checked access)."""
    return list(
        AuditEvent.objects.filter(patient_id=patient_id)
        .only("id", "occurred_at", "actor_name", "action", "after", "reason")
        .order_by("-id")[:limit]
    )


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _shown(value: Any, limit: int = 80) -> str:
    text = canonical_json(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def event_diff(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """(key, before, after) for each key whose value changed, as compact JSON; "" stands for absent.

    A key absent on one side and blank on the other has not changed.
    """
    if not (isinstance(before, dict | None) and isinstance(after, dict | None)):
        if canonical_json(before) == canonical_json(after):
            return []
        return [("", "" if before is None else _shown(before), "" if after is None else _shown(after))]
    old, new = before or {}, after or {}
    changes = []
    for key in sorted(set(old) | set(new)):
        if key in old and key in new:
            if canonical_json(old[key]) != canonical_json(new[key]):
                changes.append((key, _shown(old[key]), _shown(new[key])))
        elif key in old:
            if not _is_blank(old[key]):
                changes.append((key, _shown(old[key]), ""))
        elif not _is_blank(new[key]):
            changes.append((key, "", _shown(new[key])))
    return changes


def _hide_unreadable_patient(row: dict[str, Any]) -> dict[str, Any]:
    """Before/after of an event about a patient the reader may not see are withheld."""
    row["details_hidden"] = row["patient_id"] is not None and row["patient_mrn"] is None
    if row["details_hidden"]:
        row["before"] = row["after"] = None
    return row


def audit_rows_for_page(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """List rows with the changed keys worked out and a short hash, ready for the template."""
    result = []
    for source in rows:
        row = _hide_unreadable_patient(dict(source))
        row["diff"] = event_diff(row["before"], row["after"])
        row["short_hash"] = row["hash"][:12]
        row["action_label"] = action_label(row["action"])
        result.append(row)
    return result


def audit_rows_for_api(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    result = []
    for source in rows:
        row = _hide_unreadable_patient(dict(source))
        result.append(
            {
                "id": row["id"],
                "occurred_at": row["occurred_at"],
                "actor": row["actor_name"],
                "actor_username": row["actor__username"],
                "site": row["site__code"],
                "action": row["action"],
                "object_type": row["object_type"],
                "object_id": row["object_id"],
                "patient_id": row["patient_id"],
                "before": row["before"],
                "after": row["after"],
                "details_hidden": row["details_hidden"],
                "reason": row["reason"],
                "request_id": row["request_id"],
                "prev_hash": row["prev_hash"],
                "hash": row["hash"],
            }
        )
    return result


@dataclass
class _HeadWatch:
    """Where the expected head hash went by during the walk, and how many events followed it."""

    expected: str | None
    found_id: int | None = None
    newer: int = 0

    def see(self, row: Mapping[str, Any]) -> None:
        if self.found_id is not None:
            self.newer += 1
        elif row["hash"] == self.expected:
            self.found_id = row["id"]


@dataclass(frozen=True)
class AuditVerification:
    """The chain report, plus the comparison with a head hash recorded earlier when one was given."""

    report: ChainReport
    expected_head: str | None = None
    expected_found_id: int | None = None
    newer_than_expected: int = 0
    broken_event: dict[str, Any] | None = field(default=None)

    @property
    def head_matches(self) -> bool:
        return self.expected_head is None or self.expected_head == self.report.head

    @property
    def ok(self) -> bool:
        return self.report.ok and self.head_matches

    def summary(self) -> str:
        return self.lines()[0]

    def lines(self) -> list[str]:
        """The report as printed by `cellclinic verify-audit`."""
        report = self.report
        if not report.ok:
            lines = [report.summary()]
            event = self.broken_event
            if event is not None:
                lines.append(
                    f"event {event['id']}: {format_time(event['occurred_at'])} {event['action']} "
                    f"{event['object_type']}:{event['object_id']} by {event['actor_name']}"
                )
            return lines
        lines = [report.summary(), f"head: {report.head}"]
        if self.expected_head is None:
            return lines
        if self.head_matches:
            lines.append("head matches the expected hash")
        elif self.expected_found_id is not None:
            lines.append(
                f"HEAD MISMATCH: the expected hash {self.expected_head} is event {self.expected_found_id}, "
                f"and {self.newer_than_expected} events were added after it"
            )
        else:
            lines.append(
                f"HEAD MISMATCH: the expected hash {self.expected_head} is not in the chain: "
                "events up to it were rewritten or removed"
            )
        return lines


def _watched(
    rows: Iterable[Mapping[str, Any]], watch: _HeadWatch, progress: Callable[[int], None] | None, every: int
) -> Iterator[Mapping[str, Any]]:
    for seen, row in enumerate(rows, start=1):
        watch.see(row)
        if progress is not None and seen % every == 0:
            progress(seen)
        yield row


def audit_verify(
    *,
    expect_head: str | None = None,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 10_000,
) -> AuditVerification:
    """Recompute the whole chain in id order, streaming the rows, and compare its head with EXPECT_HEAD."""
    rows = (
        AuditEvent.objects.order_by("id")
        .values("id", *HASHED_FIELDS, "prev_hash", "hash")
        .iterator(chunk_size=VERIFY_CHUNK)
    )
    watch = _HeadWatch(expected=expect_head)
    report = verify_chain(_watched(rows, watch, progress, progress_every))
    broken_event = None
    if not report.ok:
        broken_event = (
            AuditEvent.objects.filter(pk=report.broken_id)
            .values("id", "occurred_at", "action", "object_type", "object_id", "actor_name")
            .first()
        )
    return AuditVerification(
        report=report,
        expected_head=expect_head,
        expected_found_id=watch.found_id,
        newer_than_expected=watch.newer,
        broken_event=broken_event,
    )
