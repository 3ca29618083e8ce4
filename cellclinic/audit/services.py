"""Writing the audit trail and signatures. Callers hold a transaction; so does every function here."""

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.forms.models import model_to_dict

from cellclinic.audit.chain import (
    ACCESS_FIELDS,
    GENESIS_HASH,
    access_digest,
    canonical_json,
    event_hash,
    format_time,
    sha256_hex,
)
from cellclinic.audit.models import AccessEvent, AuditEvent, Signature
from cellclinic.core.errors import FieldError, InvalidInput
from cellclinic.core.middleware import current_client_request_id, current_request_id
from cellclinic.core.states import TransitionRefused, TransitionTable

# A fixed key for PostgreSQL's transaction-level advisory lock that serialises chain appends.
_CHAIN_LOCK_KEY = 0x43454C4C  # "CELL"

WRONG_PASSWORD = "The password is not correct; the record was not signed."
STATUS_FIELD = "status"

ModelT = TypeVar("ModelT", bound=models.Model)


def _numbers_as_stored(value: Any) -> Any:
    """Numbers as every database gives them back.

    PostgreSQL's jsonb keeps numbers as decimals: a float that Python writes with an exponent
    (2.5e+16) is read back as the integer 25000000000000000, and -0.0 as 0.0. Hashing the value
    Python wrote would then make an untouched event look edited.
    """
    if isinstance(value, float):
        if value == 0:
            return 0.0
        if math.isfinite(value) and abs(value) >= 1e16:
            return int(Decimal(repr(value)))
        return value
    if isinstance(value, dict):
        return {key: _numbers_as_stored(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers_as_stored(item) for item in value]
    return value


def json_safe(value: Any) -> Any:
    """Dates, decimals and UUIDs as the strings JSON would carry, so hashing is stable."""
    return _numbers_as_stored(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def snapshot(instance, fields: list[str] | None = None, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """A model instance's field values, JSON-safe, for an event's before/after."""
    data = model_to_dict(instance, fields=fields)
    for name in exclude:
        data.pop(name, None)
    return json_safe(data)


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(name for name in after if before.get(name) != after.get(name))


def _lock_chain() -> None:
    """Only one writer extends the chain at a time.

    SQLite already gives us that: transactions begin IMMEDIATE, taking the write lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


@transaction.atomic
def audit_record(
    *,
    actor,
    action: str,
    object_type: str,
    object_id: Any,
    site=None,
    patient_id: int | None = None,
    before: Any = None,
    after: Any = None,
    reason: str = "",
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    _lock_chain()
    last_hash = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    prev_hash = last_hash or GENESIS_HASH
    actor_name = ""
    if actor is not None:
        actor_name = actor.display_name if hasattr(actor, "display_name") else str(actor)
    fields = {
        "occurred_at": datetime.now(UTC),
        "actor_id": actor.pk if actor is not None else None,
        "actor_name": actor_name or "system",
        "site_id": site.pk if site is not None else None,
        "patient_id": patient_id,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": json_safe(before),
        "after": json_safe(after),
        "reason": reason,
        "request_id": current_request_id() or "",
        "client_request_id": current_client_request_id() or "",
    }
    return AuditEvent.objects.create(**fields, prev_hash=prev_hash, hash=event_hash(fields, prev_hash))


# The longest text kept from a search term or a typed username in an access event.
ACCESS_TEXT_LIMIT = 200

_ACCESS_COLUMNS = ", ".join(ACCESS_FIELDS)
# Built from the constant ACCESS_FIELDS only; every value is a parameter.
_SQLITE_ACCESS_APPEND = (
    f"INSERT INTO audit_accessevent ({_ACCESS_COLUMNS}, prev_hash, hash) "  # noqa: S608 - constant column names  # nosec B608
    f"SELECT {', '.join(['%s'] * len(ACCESS_FIELDS))}, head.prev, cellclinic_sha256(%s || head.prev) "
    "FROM (SELECT COALESCE((SELECT hash FROM audit_accessevent ORDER BY id DESC LIMIT 1), %s) AS prev) "
    "AS head"
)
_PG_ACCESS_APPEND = (
    "SELECT cellclinic_access_append(%s::timestamptz, %s::bigint, %s, %s::bigint, %s::bigint, %s, %s, %s, "
    "%s::jsonb, %s, %s, %s)"
)


def _actor_of(who):
    """The user behind WHO: a user, a request (an API request's token user, else the session's), or None."""
    if who is None or not hasattr(who, "META"):
        return who
    user = getattr(who, "auth", None) or getattr(who, "user", None)
    return user if user is not None and user.is_authenticated else None


def bounded(text: Any, limit: int = ACCESS_TEXT_LIMIT) -> str:
    """Text as typed, cut to LIMIT characters: what an access event keeps of a search term or a username."""
    return str(text or "")[:limit]


# At most this many query parameters of one search are kept.
SEARCH_PARAMETER_LIMIT = 20


def record_read(who, obj: models.Model, *, action: str = "", object_type: str = "", details=None) -> None:
    """Log that WHO read OBJ, a record about one patient (a chart, a consent, a photo, a plan, ...).

    Its object type is OBJECT_TYPE or the model's AUDIT_OBJECT_TYPE, the action ACTION or "<type>.view",
    the patient and site those of OBJ (a patient is its own patient).
    """
    object_type = object_type or getattr(type(obj), "AUDIT_OBJECT_TYPE", "") or obj._meta.model_name
    patient_id = obj.pk if obj._meta.model_name == "patient" else getattr(obj, "patient_id", None)
    record_access(
        who,
        action or f"{object_type}.view",
        object_type=object_type,
        object_id=obj.pk,
        patient_id=patient_id,
        site_id=getattr(obj, "site_id", None),
        details=details,
    )


def record_search(request, object_type: str, *, action: str = "", patient_id: int | None = None) -> None:
    """Log a list or search of health records with its terms: every query parameter, as typed."""
    terms = {
        bounded(name, 60): bounded(request.GET.get(name))
        for name in list(request.GET)[:SEARCH_PARAMETER_LIMIT]
    }
    record_access(
        request,
        action or f"{object_type}.search",
        object_type=object_type,
        patient_id=patient_id,
        details={"terms": terms, "path": bounded(request.path)},
    )


def record_access(
    who,
    action: str,
    *,
    object_type: str,
    object_id: Any = "",
    patient_id: int | None = None,
    site_id: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Log one read of health data (or one sign-in event) in the access log: a single INSERT.

    WHO is the reader: a request or a user. The database chains the event to the previous one in the
    same statement, so a read costs one query and takes no lock on the audit trail of changes. DETAILS
    holds what the read was for: search terms, filters, the file read.
    """
    actor = _actor_of(who)
    actor_name = ""
    if actor is not None:
        actor_name = actor.display_name if hasattr(actor, "display_name") else str(actor)
    fields = {
        "occurred_at": datetime.now(UTC),
        "actor_id": actor.pk if actor is not None else None,
        "actor_name": actor_name or "anonymous",
        "site_id": site_id,
        "patient_id": patient_id,
        "action": action,
        "object_type": object_type,
        "object_id": "" if object_id is None else str(object_id),
        "details": json_safe(dict(details)) if details else None,
        "request_id": current_request_id() or "",
        "client_request_id": current_client_request_id() or "",
    }
    digest = access_digest(fields)
    model_fields = {f.attname: f for f in AccessEvent._meta.concrete_fields}
    params = [model_fields[name].get_db_prep_save(fields[name], connection) for name in ACCESS_FIELDS]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_ACCESS_APPEND, [*params, digest])
        else:
            cursor.execute(_SQLITE_ACCESS_APPEND, [*params, digest, GENESIS_HASH])


def _stored_value(instance: models.Model, name: str) -> Any:
    """One field's value as the database stores it: a related row's key, a file's name."""
    field = instance._meta.get_field(name)
    return field.get_prep_value(field.value_from_object(instance))


@transaction.atomic
def state_change(
    obj: ModelT,
    *,
    to: str,
    table: TransitionTable,
    actor,
    action: str,
    reason: str = "",
    fields: Mapping[str, Any] | None = None,
    extra_after: Mapping[str, Any] | None = None,
    stay_allowed: bool = False,
) -> ModelT:
    """Move OBJ's status to TO as TABLE allows, set FIELDS with it, save and audit; OBJ is returned.

    The row is locked and its status read afresh; a move TABLE refuses raises InvalidInput naming
    "status" with the table's message, before anything changes. With STAY_ALLOWED, naming the
    current status changes only FIELDS. Only the status and the fields whose value changes are saved
    (with the model's auto_now fields). The event (ACTION, REASON) holds their values before and after,
    plus EXTRA_AFTER; its object type is the model's AUDIT_OBJECT_TYPE, its site OBJ.site and its
    patient OBJ.patient_id.
    """
    model = type(obj)
    object_type = getattr(model, "AUDIT_OBJECT_TYPE", None)
    if not object_type:
        raise TypeError(f"{model.__name__} names no AUDIT_OBJECT_TYPE, so its changes cannot be audited")
    if STATUS_FIELD in (fields or {}):
        raise ValueError(f"the status goes in `to`, not in `fields`: {model.__name__}.{STATUS_FIELD}")
    values = {STATUS_FIELD: to, **(fields or {})}
    locked = model._base_manager.select_for_update(of=("self",)).only(*values).get(pk=obj.pk)
    current = getattr(locked, STATUS_FIELD)
    if not (stay_allowed and to == current):
        try:
            table.check(current, to)
        except TransitionRefused as refused:
            raise InvalidInput(detail=str(refused), errors=[FieldError(STATUS_FIELD, str(refused))]) from None
    before = {name: json_safe(_stored_value(locked, name)) for name in values}
    for name, value in values.items():
        setattr(obj, name, value)
    after = {name: json_safe(_stored_value(obj, name)) for name in values}
    changed = [STATUS_FIELD, *(name for name in fields or () if before[name] != after[name])]
    touched = [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
    obj.save(update_fields=[*changed, *(name for name in touched if name not in changed)])
    audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=obj.pk,
        site=getattr(obj, "site", None),
        patient_id=getattr(obj, "patient_id", None),
        before={name: before[name] for name in changed},
        after={**{name: after[name] for name in changed}, **(extra_after or {})},
        reason=reason,
    )
    return obj


def record_hash(record: dict[str, Any]) -> str:
    """The SHA-256 a signature binds to: the canonical JSON of the signed record."""
    return sha256_hex(canonical_json(json_safe(record)))


@transaction.atomic
def signature_create(
    *,
    signer,
    password: str,
    meaning: str,
    object_type: str,
    object_id: Any,
    record: dict[str, Any],
    site=None,
    patient_id: int | None = None,
    statement: str = "",
    signed_at: datetime | None = None,
) -> Signature:
    """Sign RECORD after the signer re-enters their password; the signature is audited.

    SIGNED_AT (now when not given) is the time a copy printed before signing already shows.
    """
    if meaning not in Signature.Meaning.values:
        raise InvalidInput.single("meaning", f"must be one of {', '.join(Signature.Meaning.values)}")
    if not password or not signer.check_password(password):
        raise InvalidInput.single("password", WRONG_PASSWORD)
    signature = Signature.objects.create(
        signer=signer,
        printed_name=signer.display_name,
        signed_at=signed_at or datetime.now(UTC),
        meaning=meaning,
        site=site,
        patient_id=patient_id,
        object_type=object_type,
        object_id=str(object_id),
        record_hash=record_hash(record),
        statement=statement,
    )
    audit_record(
        actor=signer,
        action="signature.create",
        object_type=object_type,
        object_id=object_id,
        site=site,
        patient_id=patient_id,
        after={
            "signature_id": signature.pk,
            "meaning": meaning,
            "printed_name": signature.printed_name,
            "record_hash": signature.record_hash,
            # The rest of what verify-audit compares with the signature row.
            "signer_id": signer.pk,
            "signed_at": format_time(signature.signed_at),
            "statement": statement,
        },
    )
    return signature
