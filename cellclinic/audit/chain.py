"""The hash chain of the audit trail: canonical serialisation, hashing and verification.

Plain functions over plain values. Each event's hash is SHA-256 over the canonical JSON of its
fields plus the previous event's hash, so any edit, deletion or insertion made behind the
application's back breaks the chain at that point.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

# The fields that are hashed. The row id is not among them: order is carried by prev_hash.
# Adding a field is a chain format change.
HASHED_FIELDS = (
    "occurred_at",
    "actor_id",
    "actor_name",
    "site_id",
    "patient_id",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "reason",
    "request_id",
)

# Hashed only when not empty, so that events written before they existed keep their hash.
OPTIONAL_HASHED_FIELDS = ("client_request_id",)

# The fields of an access event (a read of health data, a sign-in, a sign-out, ...). An access event's
# hash is SHA-256 over its payload's digest followed by the previous access event's hash, so that the
# database can extend the access chain in a single statement.
ACCESS_FIELDS = (
    "occurred_at",
    "actor_id",
    "actor_name",
    "site_id",
    "patient_id",
    "action",
    "object_type",
    "object_id",
    "details",
    "request_id",
    "client_request_id",
)


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no insignificant white space, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def format_time(moment: datetime) -> str:
    """UTC, microsecond precision, always the same spelling."""
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_payload(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed part of an event, with its time in canonical form."""
    payload = {name: fields.get(name) for name in HASHED_FIELDS}
    for name in OPTIONAL_HASHED_FIELDS:
        if fields.get(name):
            payload[name] = fields[name]
    if isinstance(payload["occurred_at"], datetime):
        payload["occurred_at"] = format_time(payload["occurred_at"])
    if payload["object_id"] is not None:
        payload["object_id"] = str(payload["object_id"])
    return payload


def event_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 over the canonical payload followed by the previous hash."""
    return sha256_hex(canonical_json(event_payload(fields)) + prev_hash)


def access_payload(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed part of an access event, with its time in canonical form."""
    payload = {name: fields.get(name) for name in ACCESS_FIELDS}
    if isinstance(payload["occurred_at"], datetime):
        payload["occurred_at"] = format_time(payload["occurred_at"])
    if payload["object_id"] is not None:
        payload["object_id"] = str(payload["object_id"])
    return payload


def access_digest(fields: Mapping[str, Any]) -> str:
    """SHA-256 of an access event's canonical payload: what the database chains to the previous hash."""
    return sha256_hex(canonical_json(access_payload(fields)))


def access_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 over the payload's digest followed by the previous access event's hash."""
    return sha256_hex(access_digest(fields) + prev_hash)


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a walk along the chain.

    `head` is the hash of the last event that held: the head of the whole chain when it is intact.
    """

    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""
    head: str = GENESIS_HASH

    def summary(self) -> str:
        if self.ok:
            return f"OK: {self.checked} audit events, chain intact"
        return f"BROKEN at event {self.broken_id}: {self.reason} ({self.checked} events checked before it)"


def verify_chain(
    events: Iterable[Mapping[str, Any]], hasher: Callable[[Mapping[str, Any], str], str] = event_hash
) -> ChainReport:
    """Walk the events in id order and report the first one that does not hold.

    Each mapping carries the hashed fields plus `prev_hash` and `hash`; HASHER recomputes an event's
    hash from them (event_hash for the audit chain, access_hash for the access log).
    """
    expected_prev = GENESIS_HASH
    last_id: int | None = None
    checked = 0
    for event in events:
        event_id = event["id"]
        if last_id is not None and event_id <= last_id:
            return ChainReport(False, checked, event_id, "events are out of order", expected_prev)
        if event["prev_hash"] != expected_prev:
            if last_id is None:
                why = "the first event does not start from the genesis hash (earlier events were deleted?)"
            else:
                why = (
                    f"its previous hash does not match event {last_id} "
                    "(an event was deleted or inserted before it)"
                )
            return ChainReport(False, checked, event_id, why, expected_prev)
        recomputed = hasher(event, event["prev_hash"])
        if recomputed != event["hash"]:
            return ChainReport(
                False, checked, event_id, "its content does not match its hash (it was edited)", expected_prev
            )
        expected_prev = event["hash"]
        last_id = event_id
        checked += 1
    return ChainReport(True, checked, head=expected_prev)


def checkpoint_name(moment: datetime) -> str:
    """The file name of a checkpoint taken at MOMENT: its UTC time, so names sort in time order."""
    return "audit-head-" + moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ") + ".json"


def parse_expected_head(text: str) -> tuple[int | None, str]:
    """`SEQ:HASH` or a bare `HASH` as (sequence or None, lower-case hash); ValueError when malformed."""
    text = text.strip()
    sequence: int | None = None
    if ":" in text:
        number, text = text.split(":", 1)
        if not number.strip().isdigit():
            raise ValueError("the sequence before ':' must be an event number")
        sequence = int(number)
    digest = text.strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("the hash must be a SHA-256 hash: 64 hexadecimal characters")
    return sequence, digest
