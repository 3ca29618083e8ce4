"""The hash chain as plain functions: canonical JSON, event hashes and verification."""

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cellclinic.audit.chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    canonical_json,
    event_hash,
    event_payload,
    verify_chain,
)

T0 = datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)


def an_event(**changes):
    fields = {
        "occurred_at": T0,
        "actor_id": 7,
        "actor_name": "Ada Okafor",
        "site_id": 2,
        "patient_id": 41,
        "action": "patient.update",
        "object_type": "patient",
        "object_id": "41",
        "before": {"phone": "0191 000 0000"},
        "after": {"phone": "0191 000 0001"},
        "reason": "patient called",
        "request_id": "req-0001",
    }
    fields.update(changes)
    return fields


def chain_of(field_sets, first_id=1):
    """Events with ids and hashes, linked in order, as the database would hold them."""
    events, prev = [], GENESIS_HASH
    for offset, fields in enumerate(field_sets):
        event = {**fields, "id": first_id + offset, "prev_hash": prev}
        event["hash"] = event_hash(event, prev)
        events.append(event)
        prev = event["hash"]
    return events


def test_canonical_json_sorts_keys_and_has_no_white_space():
    assert canonical_json({"b": [1, {"d": 2, "c": 3}], "a": None}) == '{"a":null,"b":[1,{"c":3,"d":2}]}'


def test_canonical_json_is_the_same_whatever_the_key_order():
    assert canonical_json({"x": 1, "y": {"p": 1, "q": 2}}) == canonical_json({"y": {"q": 2, "p": 1}, "x": 1})


def test_canonical_json_keeps_non_ascii_text_as_is():
    assert canonical_json({"name": "Zoë Ñúñez 李"}) == '{"name":"Zoë Ñúñez 李"}'


def test_canonical_json_refuses_nan():
    with pytest.raises(ValueError):
        canonical_json({"dose": float("nan")})


def test_the_hash_of_a_known_event_does_not_change():
    # A change here is a change of the chain format: every stored chain would stop verifying.
    text = (
        '{"action":"patient.update","actor_id":7,"actor_name":"Ada Okafor",'
        '"after":{"phone":"0191 000 0001"},"before":{"phone":"0191 000 0000"},'
        '"object_id":"41","object_type":"patient","occurred_at":"2026-03-14T09:26:53.589793Z",'
        '"patient_id":41,"reason":"patient called","request_id":"req-0001","site_id":2}'
    )
    assert canonical_json(event_payload(an_event())) == text
    assert hashlib.sha256((text + GENESIS_HASH).encode()).hexdigest() == (
        "175c674cbed7ad66d73f0c66aa7fbe1bf891655cf76f6f3e975ea88f6ca9fff3"
    )
    assert event_hash(an_event(), GENESIS_HASH) == (
        "175c674cbed7ad66d73f0c66aa7fbe1bf891655cf76f6f3e975ea88f6ca9fff3"
    )


def test_the_hash_does_not_depend_on_how_the_time_zone_or_object_id_is_spelled():
    paris = timezone(timedelta(hours=1))
    same = an_event(occurred_at=T0.astimezone(paris), object_id=41)
    assert event_hash(same, GENESIS_HASH) == event_hash(an_event(), GENESIS_HASH)


def test_the_hash_ignores_fields_that_are_not_hashed():
    with_extras = {**an_event(), "id": 99, "site__code": "NCL"}
    assert event_hash(with_extras, GENESIS_HASH) == event_hash(an_event(), GENESIS_HASH)


DIFFERENT_VALUES = {
    "occurred_at": T0 + timedelta(microseconds=1),
    "actor_id": 8,
    "actor_name": "Ada Okafor-Smith",
    "site_id": 3,
    "patient_id": None,
    "action": "patient.create",
    "object_type": "consent",
    "object_id": "410",
    "before": {"phone": "0191 000 0009"},
    "after": None,
    "reason": "",
    "request_id": "req-0002",
}


@pytest.mark.parametrize("name", HASHED_FIELDS)
def test_the_hash_changes_with_every_hashed_field(name):
    assert event_hash(an_event(**{name: DIFFERENT_VALUES[name]}), GENESIS_HASH) != event_hash(
        an_event(), GENESIS_HASH
    )


def test_the_hash_changes_with_the_previous_hash():
    assert event_hash(an_event(), GENESIS_HASH) != event_hash(an_event(), "f" * 64)


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        event_hash(an_event(occurred_at=datetime(2026, 3, 14, 9, 0)), GENESIS_HASH)


def five_events():
    return chain_of([an_event(object_id=str(n), occurred_at=T0 + timedelta(seconds=n)) for n in range(5)])


def test_an_intact_chain_verifies_and_reports_its_head():
    events = five_events()
    report = verify_chain(events)
    assert report.ok and report.checked == 5 and report.head == events[-1]["hash"]
    assert report.summary() == "OK: 5 audit events, chain intact"


def test_an_empty_chain_verifies_with_the_genesis_head():
    report = verify_chain([])
    assert report.ok and report.checked == 0 and report.head == GENESIS_HASH


def test_an_edited_event_is_found():
    events = five_events()
    events[2]["reason"] = "nothing to see here"
    report = verify_chain(events)
    assert not report.ok and report.broken_id == 3 and report.checked == 2
    assert "edited" in report.reason and report.head == events[1]["hash"]
    assert report.summary().startswith("BROKEN at event 3:")


def test_a_deleted_event_is_found_at_the_next_one():
    events = five_events()
    del events[2]
    report = verify_chain(events)
    assert not report.ok and report.broken_id == 4
    assert "deleted or inserted" in report.reason


def test_a_deleted_first_event_is_found():
    report = verify_chain(five_events()[1:])
    assert not report.ok and report.broken_id == 2
    assert "genesis" in report.reason


def test_an_inserted_event_is_found():
    events = five_events()
    forged = {**an_event(reason="backdated"), "id": 3, "prev_hash": events[1]["hash"]}
    forged["hash"] = event_hash(forged, forged["prev_hash"])
    renumbered = [{**e, "id": e["id"] + 1} if e["id"] >= 3 else e for e in events]
    report = verify_chain([*renumbered[:2], forged, *renumbered[2:]])
    assert not report.ok and report.broken_id == 4
    assert "deleted or inserted" in report.reason


def test_swapped_events_are_found():
    events = five_events()
    events[1], events[2] = {**events[2], "id": 2}, {**events[1], "id": 3}
    report = verify_chain(events)
    assert not report.ok and report.broken_id == 2


def test_events_out_of_id_order_are_found():
    events = five_events()
    events[3]["id"] = 2
    report = verify_chain(events)
    assert not report.ok and report.broken_id == 2 and "out of order" in report.reason


# Property tests: a chain of random events, then one change made behind the application's back.

json_scalars = st.none() | st.booleans() | st.integers(-(10**9), 10**9) | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC))
ids = st.none() | st.integers(1, 10**6)
short_text = st.text(max_size=20)
FIELD_VALUES = {
    "occurred_at": moments,
    "actor_id": ids,
    "actor_name": short_text,
    "site_id": ids,
    "patient_id": ids,
    "action": short_text,
    "object_type": short_text,
    "object_id": st.text(min_size=1, max_size=10),
    "before": json_values,
    "after": json_values,
    "reason": short_text,
    "request_id": short_text,
}
event_fields = st.fixed_dictionaries(FIELD_VALUES)
chains = st.lists(event_fields, min_size=1, max_size=8).map(chain_of)
hashes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


@st.composite
def a_chain_and_one_mutation(draw):
    events = draw(chains)
    index = draw(st.integers(0, len(events) - 1))
    name = draw(st.sampled_from([*HASHED_FIELDS, "prev_hash", "hash"]))
    value = draw(hashes if name in {"prev_hash", "hash"} else FIELD_VALUES[name])
    return events, index, name, value


@given(a_chain_and_one_mutation())
def test_any_single_field_change_is_found_at_exactly_that_event(case):
    events, index, name, value = case
    original = events[index]
    changed = {**original, name: value}
    if name in {"prev_hash", "hash"}:
        assume(value != original[name])
    else:
        assume(event_payload(changed) != event_payload(original))
    events[index] = changed
    report = verify_chain(events)
    assert not report.ok
    assert report.broken_id == original["id"]
    assert report.checked == index


@given(chains, st.data())
def test_removing_any_event_is_found(events, data):
    index = data.draw(st.integers(0, len(events) - 1))
    intact_head = verify_chain(events).head
    remaining = events[:index] + events[index + 1 :]
    report = verify_chain(remaining)
    if index < len(events) - 1:
        # Found by the chain itself, at the event that followed the removed one.
        assert not report.ok and report.broken_id == events[index + 1]["id"]
    else:
        # The newest event leaves no trace in the chain: only a head recorded earlier shows it is gone.
        assert report.ok and report.head != intact_head
