"""Writing the audit trail and signatures. Callers hold a transaction; so does every function here."""

import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.forms.models import model_to_dict

from cellclinic.audit.chain import GENESIS_HASH, canonical_json, event_hash, sha256_hex
from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.core.errors import InvalidInput
from cellclinic.core.middleware import current_request_id

# A fixed key for PostgreSQL's transaction-level advisory lock that serialises chain appends.
_CHAIN_LOCK_KEY = 0x43454C4C  # "CELL"

WRONG_PASSWORD = "The password is not correct; the record was not signed."


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
    }
    return AuditEvent.objects.create(**fields, prev_hash=prev_hash, hash=event_hash(fields, prev_hash))


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
) -> Signature:
    """Sign RECORD after the signer re-enters their password; the signature is audited."""
    if meaning not in Signature.Meaning.values:
        raise InvalidInput.single("meaning", f"must be one of {', '.join(Signature.Meaning.values)}")
    if not password or not signer.check_password(password):
        raise InvalidInput.single("password", WRONG_PASSWORD)
    signature = Signature.objects.create(
        signer=signer,
        printed_name=signer.display_name,
        signed_at=datetime.now(UTC),
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
        },
    )
    return signature
