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
from cellclinic.audit.chain import (
    ACCESS_FIELDS,
    GENESIS_HASH,
    HASHED_FIELDS,
    OPTIONAL_HASHED_FIELDS,
    ChainReport,
    access_hash,
    event_hash,
    format_time,
    verify_chain,
)
from cellclinic.audit.changes import change_lines, detail_lines, label_from_key
from cellclinic.audit.models import AccessEvent, AuditEvent, Signature
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
    "client_request_id",
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


# What each field of an object type's before/after is called on the audit page. Fields every signed
# record carries are named here; an app names its records' fields with register_field_labels() from its
# AppConfig.ready(), and any other field reads as its key made readable ("date_of_birth": "Date of birth").
COMMON_FIELD_LABELS: dict[str, str] = {
    "signature_id": "Signature",
    "signer_id": "Signed by (user id)",
    "printed_name": "Printed name",
    "meaning": "Meaning of the signature",
    "signed_at": "Signed at",
    "statement": "Statement signed",
    "record_hash": "Hash of the signed record",
}
# The accounts' own records (users, sites, API tokens) are named here, beside their object types above.
FIELD_LABELS: dict[str, dict[str, str]] = {
    "user": {
        "username": "Username",
        "first_name": "Given name",
        "last_name": "Family name",
        "email": "Email",
        "kind": "Kind of account",
        "site": "Site",
        "role": "Role",
        "roles": "Roles",
        "is_active": "Active",
        "is_staff": "Django admin access",
        "is_superuser": "Superuser",
        "date_joined": "Joined",
        "second_factor": "Two-factor sign-in set up",
        "sessions_ended": "Sessions ended",
        "sign_in_lockout_lifted": "Sign-in lockout lifted",
        "api_tokens_revoked": "API tokens revoked",
        "id": "User ID",
    },
    "site": {
        "code": "Code",
        "name": "Name",
        "kind": "Kind of site",
        "lab": "Lab (id)",
        "address": "Address",
        "phone": "Phone",
        "id": "Site ID",
    },
    "api_token": {"user": "User", "name": "Name", "prefix": "Token prefix", "revoked_at": "Revoked at"},
}


def register_field_labels(object_type: str, labels: dict[str, str]) -> None:
    """Name the before/after fields in LABELS (field -> label) of OBJECT_TYPE wherever the audit trail
    is shown; fields are listed in the order they are registered in."""
    FIELD_LABELS.setdefault(object_type, {}).update(labels)


def field_labels(object_type: str) -> dict[str, str]:
    """The labels of OBJECT_TYPE's fields, the type's own first, then those of every signed record."""
    own = FIELD_LABELS.get(object_type, {})
    return {**own, **{key: label for key, label in COMMON_FIELD_LABELS.items() if key not in own}}


def object_type_label(object_type: str) -> str:
    """The registered name of OBJECT_TYPE, or the type made readable."""
    return OBJECT_TYPES.get(object_type) or label_from_key(object_type)


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


def _filtered_rows(user: User, events: QuerySet, filters: AuditFilters, fields: tuple[str, ...]) -> QuerySet:
    """EVENTS matching FILTERS, newest first, as dicts of FIELDS with the patient's MRN where USER may
    read the patient (one query per page)."""
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
        .values(*fields)
    )


def audit_event_list(user: User, filters: AuditFilters) -> QuerySet:
    """Visible events matching FILTERS, newest first, as dicts of ROW_FIELDS (one query per page)."""
    return _filtered_rows(user, audit_events_visible_to(user), filters, ROW_FIELDS)


ACCESS_ROW_FIELDS = (
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
    "details",
    "request_id",
    "client_request_id",
    "hash",
)

# What each kind of access event is called on the audit page.
ACCESS_LABELS: dict[str, str] = {
    "user.sign_in": "Signed in",
    "user.sign_out": "Signed out",
    "user.sign_in_failed": "Sign-in failed",
    "user.password_entry_failed": "Wrong password after sign-in",
    "user.locked_out": "Signing in paused (locked out)",
    "consent.pdf": "Downloaded the consent PDF",
}


def access_label(action: str) -> str:
    """`patient.view` reads "Viewed patient", `patient.search` "Searched patient"; sign-ins have names."""
    if action in ACCESS_LABELS:
        return ACCESS_LABELS[action]
    object_type, _, verb = action.rpartition(".")
    words = {"view": "Viewed", "search": "Listed or searched"}
    label = OBJECT_TYPES.get(object_type, object_type.replace("_", " ")).lower()
    return f"{words[verb]} {label}" if verb in words else action


def access_events_visible_to(user: User) -> QuerySet[AccessEvent]:
    """The access events of the sites where USER may read the audit trail; 404 for everyone else.

    An event without a site is shown when it carries a patient of those sites, when it is about a user
    who works there (a failed sign-in, a lockout), or when its actor works there.
    """
    sites = require_permission(user, Permission.AUDIT_VIEW)
    members = Membership.objects.filter(site_id__in=sites)
    member_ids_text = members.annotate(user_id_text=Cast("user_id", CharField())).values("user_id_text")
    site_patients = patient_model().objects.visible_to(user, Permission.AUDIT_VIEW).values("pk")
    siteless = Q(site__isnull=True)
    no_patient = Q(patient_id__isnull=True)
    visible = (
        Q(site_id__in=sites)
        | (siteless & Q(patient_id__in=site_patients))
        | (siteless & no_patient & Q(object_type="user", object_id__in=member_ids_text))
        | (siteless & no_patient & Q(actor_id__in=members.values("user_id")))
    )
    return AccessEvent.objects.filter(visible)


def access_event_list(user: User, filters: AuditFilters) -> QuerySet:
    """Visible access events matching FILTERS, newest first, as dicts of ACCESS_ROW_FIELDS."""
    return _filtered_rows(user, access_events_visible_to(user), filters, ACCESS_ROW_FIELDS)


def access_rows_for_page(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Access rows with their label, details as compact JSON (withheld for a patient not the reader's)."""
    result = []
    for source in rows:
        row = dict(source)
        row["details_hidden"] = row["patient_id"] is not None and row["patient_mrn"] is None
        row["details_lines"] = (
            [] if row["details_hidden"] else detail_lines(row["details"], field_labels(row["object_type"]))
        )
        row["object_label"] = object_type_label(row["object_type"])
        row["action_label"] = access_label(row["action"])
        row["short_hash"] = row["hash"][:12]
        result.append(row)
    return result


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


def _hide_unreadable_patient(row: dict[str, Any]) -> dict[str, Any]:
    """Before/after of an event about a patient the reader may not see are withheld."""
    row["details_hidden"] = row["patient_id"] is not None and row["patient_mrn"] is None
    if row["details_hidden"]:
        row["before"] = row["after"] = None
    return row


def audit_rows_for_page(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """List rows with their changes as readable lines and a short hash, ready for the template."""
    result = []
    for source in rows:
        row = _hide_unreadable_patient(dict(source))
        row["changes"] = change_lines(row["before"], row["after"], field_labels(row["object_type"]))
        row["object_label"] = object_type_label(row["object_type"])
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
                "client_request_id": row["client_request_id"],
                "prev_hash": row["prev_hash"],
                "hash": row["hash"],
            }
        )
    return result


# The exit statuses of `cellclinic verify-audit`.
EXIT_OK = 0
EXIT_BROKEN = 1  # an audit event, an access event or a signature does not hold
EXIT_USAGE = 2  # the arguments, or a checkpoint file, cannot be read
EXIT_HEAD_MISMATCH = (
    3  # a head recorded earlier is not a prefix of the chain: its tail was removed or rewritten
)

MAX_PROBLEM_LINES = 20


@dataclass(frozen=True)
class ExpectedHead:
    """A head recorded earlier: its event (None: wherever it is) and hash, in the audit or access chain."""

    sequence: int | None
    hash: str
    source: str = "--expect-head"
    chain: str = "audit"


@dataclass
class _Watch:
    """What one walk along a chain saw of the events and hashes recorded earlier, and where."""

    ids: set[int]
    hashes: set[str]
    by_id: dict[int, tuple[str, int]] = field(default_factory=dict)  # id -> (hash, position)
    by_hash: dict[str, tuple[int, int]] = field(default_factory=dict)  # hash -> (id, position)
    seen: int = 0
    last_id: int = 0

    def see(self, row: Mapping[str, Any]) -> None:
        self.seen += 1
        self.last_id = row["id"]
        if row["id"] in self.ids:
            self.by_id[row["id"]] = (row["hash"], self.seen)
        if row["hash"] in self.hashes:
            self.by_hash[row["hash"]] = (row["id"], self.seen)


@dataclass(frozen=True)
class HeadCheck:
    """Whether a head recorded earlier is a prefix of the chain as it is now."""

    expected: ExpectedHead
    found_id: int | None = None
    after: int = 0
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem

    def line(self) -> str:
        noun = "event" if self.expected.chain == "audit" else "access event"
        if self.ok:
            where = f"{noun} {self.found_id}" if self.found_id else "the start (an empty chain)"
            return f"{self.expected.source}: head found at {where}, {self.after} {noun}s after it"
        return f"HEAD MISMATCH ({self.expected.source}): {self.problem}"


def _head_check(expected: ExpectedHead, watch: _Watch) -> HeadCheck:
    noun = "event" if expected.chain == "audit" else "access event"
    if expected.hash == GENESIS_HASH and expected.sequence in (None, 0):
        return HeadCheck(expected, None, watch.seen)
    if expected.sequence is None:
        hit = watch.by_hash.get(expected.hash)
        if hit is None:
            problem = (
                f"the expected hash {expected.hash} is not in the chain: "
                f"{noun}s up to it were rewritten or removed"
            )
            return HeadCheck(expected, problem=problem)
        return HeadCheck(expected, hit[0], watch.seen - hit[1])
    seen = watch.by_id.get(expected.sequence)
    if seen is None:
        problem = f"{noun} {expected.sequence} is not in the chain: it (and any after it) were removed"
        return HeadCheck(expected, problem=problem)
    if seen[0] != expected.hash:
        problem = (
            f"{noun} {expected.sequence} has the hash {seen[0]}, not {expected.hash}: "
            f"{noun}s up to it were rewritten"
        )
        return HeadCheck(expected, problem=problem)
    return HeadCheck(expected, expected.sequence, watch.seen - seen[1])


def _watched(
    rows: Iterable[Mapping[str, Any]], watch: _Watch, progress: Callable[[int], None] | None, every: int
) -> Iterator[Mapping[str, Any]]:
    for seen, row in enumerate(rows, start=1):
        watch.see(row)
        if progress is not None and seen % every == 0:
            progress(seen)
        yield row


# What a signature row and the copy kept by its signature.create event must agree on: (row, event).
_SIGNATURE_FROM_EVENT = {
    "signer_id": ("actor_id", None),
    "object_type": ("object_type", None),
    "object_id": ("object_id", None),
    "patient_id": ("patient_id", None),
    "site_id": ("site_id", None),
    "meaning": (None, "meaning"),
    "printed_name": (None, "printed_name"),
    "record_hash": (None, "record_hash"),
    "statement": (None, "statement"),
    "signed_at": (None, "signed_at"),
}


def _signature_differences(signature: Mapping[str, Any], event: Mapping[str, Any]) -> list[str]:
    after = event["after"] if isinstance(event["after"], dict) else {}
    differ = []
    for name, (column, key) in _SIGNATURE_FROM_EVENT.items():
        value = signature[name]
        if name == "signed_at":
            value = format_time(value)
        if column is not None:
            kept = event[column]
        elif key in after:
            kept = after[key]
        else:
            continue  # events written before the copy held this field
        if name == "object_id":
            value, kept = str(value), str(kept)
        if value != kept:
            differ.append(name)
    return differ


def signatures_verify() -> tuple[int, list[str]]:
    """Compare every signature with its signature.create event: (signatures checked, problems found).

    A signature that differs from its event was edited; a signature without an event was added behind
    the application's back; an event whose signature is gone means the signature was deleted.
    """
    events: dict[Any, dict[str, Any]] = {}
    problems: list[str] = []
    rows = (
        AuditEvent.objects.filter(action="signature.create")
        .order_by("id")
        .values("id", "actor_id", "site_id", "patient_id", "object_type", "object_id", "after")
        .iterator(chunk_size=VERIFY_CHUNK)
    )
    for row in rows:
        signature_id = row["after"].get("signature_id") if isinstance(row["after"], dict) else None
        if signature_id in events:
            earlier = events[signature_id]["id"]
            problems.append(f"signature {signature_id}: events {earlier} and {row['id']} both record it")
        events[signature_id] = row
    checked = 0
    signatures = Signature.objects.order_by("id").values("id", *_SIGNATURE_FROM_EVENT)
    for signature in signatures.iterator(chunk_size=VERIFY_CHUNK):
        checked += 1
        event = events.pop(signature["id"], None)
        if event is None:
            problems.append(f"signature {signature['id']}: no signature.create event records it")
            continue
        differ = _signature_differences(signature, event)
        if differ:
            problems.append(
                f"signature {signature['id']}: its {', '.join(differ)} differ from event {event['id']} "
                "(the signature was edited)"
            )
    for signature_id, event in events.items():
        problems.append(f"signature {signature_id}: event {event['id']} records it, but it is gone (deleted)")
    return checked, problems


@dataclass(frozen=True)
class AuditVerification:
    """The reports on the audit chain, the access log and the signatures, and the heads recorded earlier."""

    report: ChainReport
    access_report: ChainReport = field(default_factory=lambda: ChainReport(True, 0))
    head_id: int = 0
    access_head_id: int = 0
    broken_event: dict[str, Any] | None = None
    broken_access_event: dict[str, Any] | None = None
    signatures_checked: int = 0
    signature_problems: tuple[str, ...] = ()
    head_checks: tuple[HeadCheck, ...] = ()
    checkpoint_checks: tuple[HeadCheck, ...] = ()

    @property
    def intact(self) -> bool:
        """Both chains hold from their first event to their last, and every signature matches its event."""
        return self.report.ok and self.access_report.ok and not self.signature_problems

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    @property
    def exit_code(self) -> int:
        if not self.intact:
            return EXIT_BROKEN
        if not all(check.ok for check in (*self.head_checks, *self.checkpoint_checks)):
            return EXIT_HEAD_MISMATCH
        return EXIT_OK

    def summary(self) -> str:
        return self.lines()[0]

    def lines(self) -> list[str]:
        """The report as printed by `cellclinic verify-audit`."""
        report, access = self.report, self.access_report
        lines: list[str] = []
        if report.ok:
            lines += [report.summary(), f"head: {report.head}", f"head event: {self.head_id}"]
        else:
            lines.append(report.summary())
            if self.broken_event is not None:
                lines.append(_event_line("event", self.broken_event))
        if access.ok:
            lines += [
                f"OK: {access.checked} access events, access log intact",
                f"access head: {access.head}",
                f"access head event: {self.access_head_id}",
            ]
        else:
            lines.append(
                f"ACCESS LOG BROKEN at access event {access.broken_id}: {access.reason} "
                f"({access.checked} access events checked before it)"
            )
            if self.broken_access_event is not None:
                lines.append(_event_line("access event", self.broken_access_event))
        if self.signature_problems:
            lines.append(
                f"SIGNATURES: {len(self.signature_problems)} problems over "
                f"{self.signatures_checked} signatures"
            )
            lines += list(self.signature_problems[:MAX_PROBLEM_LINES])
            if len(self.signature_problems) > MAX_PROBLEM_LINES:
                lines.append(f"… and {len(self.signature_problems) - MAX_PROBLEM_LINES} more")
        else:
            lines.append(f"OK: {self.signatures_checked} signatures match their signature events")
        if not (report.ok and access.ok):
            return lines  # a head cannot be compared with a chain that does not hold
        lines += [check.line() for check in self.head_checks]
        if self.checkpoint_checks:
            failed = [check for check in self.checkpoint_checks if not check.ok]
            if failed:
                lines.append(f"CHECKPOINT MISMATCH: {failed[0].expected.source}: {failed[0].problem}")
                failed_files = len({check.expected.source for check in failed})
                files = len({check.expected.source for check in self.checkpoint_checks})
                lines.append(
                    f"{failed_files} of {files} checkpoints are not a prefix of the chain; the first is shown"
                )
            else:
                files = len({check.expected.source for check in self.checkpoint_checks})
                lines.append(f"OK: {files} checkpoints, each a prefix of the chain")
        return lines


def _event_line(noun: str, event: Mapping[str, Any]) -> str:
    return (
        f"{noun} {event['id']}: {format_time(event['occurred_at'])} {event['action']} "
        f"{event['object_type']}:{event['object_id']} by {event['actor_name']}"
    )


_BROKEN_FIELDS = ("id", "occurred_at", "action", "object_type", "object_id", "actor_name")


def _walk(model, fields, hasher, expected: list[ExpectedHead], progress, every):
    watch = _Watch(
        ids={e.sequence for e in expected if e.sequence is not None},
        hashes={e.hash for e in expected if e.sequence is None},
    )
    rows = (
        model.objects.order_by("id")
        .values("id", *fields, "prev_hash", "hash")
        .iterator(chunk_size=VERIFY_CHUNK)
    )
    report = verify_chain(_watched(rows, watch, progress, every), hasher)
    broken = None
    if not report.ok:
        broken = model.objects.filter(pk=report.broken_id).values(*_BROKEN_FIELDS).first()
    return report, watch, broken


def audit_verify(
    *,
    expect_head: str | ExpectedHead | None = None,
    checkpoints: Iterable[ExpectedHead] = (),
    progress: Callable[[int], None] | None = None,
    progress_every: int = 10_000,
) -> AuditVerification:
    """Recompute the audit chain and the access log in id order, streaming the rows; compare every
    signature with its event; and check that each head recorded earlier (EXPECT_HEAD, a bare hash or
    an ExpectedHead, and CHECKPOINTS) is a prefix of its chain."""
    if isinstance(expect_head, str):
        expect_head = ExpectedHead(None, expect_head)
    heads = [expect_head] if expect_head is not None else []
    points = list(checkpoints)
    expected = heads + points
    report, watch, broken = _walk(
        AuditEvent,
        HASHED_FIELDS + OPTIONAL_HASHED_FIELDS,
        event_hash,
        [e for e in expected if e.chain == "audit"],
        progress,
        progress_every,
    )
    access_report, access_watch, access_broken = _walk(
        AccessEvent,
        ACCESS_FIELDS,
        access_hash,
        [e for e in expected if e.chain == "access"],
        progress,
        progress_every,
    )
    checked, problems = signatures_verify()

    def check(head: ExpectedHead) -> HeadCheck:
        return _head_check(head, watch if head.chain == "audit" else access_watch)

    return AuditVerification(
        report=report,
        access_report=access_report,
        head_id=watch.last_id if report.ok else 0,
        access_head_id=access_watch.last_id if access_report.ok else 0,
        broken_event=broken,
        broken_access_event=access_broken,
        signatures_checked=checked,
        signature_problems=tuple(problems),
        head_checks=tuple(check(head) for head in heads),
        checkpoint_checks=tuple(check(point) for point in points),
    )
