"""Writing audit events and electronic signatures."""

import re
from datetime import UTC

import pytest
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.test import RequestFactory

from cellclinic.audit.chain import GENESIS_HASH, HASHED_FIELDS, event_hash, format_time
from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.audit.services import WRONG_PASSWORD, audit_record, record_hash, signature_create
from cellclinic.core.errors import InvalidInput
from cellclinic.core.middleware import RequestIdMiddleware
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

RECORD = {"patient": 41, "history": ["keloid"], "reviewed_on": "2026-03-14", "notes": "Zoë: no change"}


def record_for(actor, site=None, **changes):
    fields = {
        "actor": actor,
        "action": "thing.update",
        "object_type": "thing",
        "object_id": 5,
        "site": site,
        "before": {"colour": "red"},
        "after": {"colour": "blue"},
        "reason": "typo",
    }
    fields.update(changes)
    return audit_record(**fields)


def test_the_first_event_starts_from_the_genesis_hash(dr_ada):
    event = record_for(dr_ada)
    assert event.prev_hash == GENESIS_HASH


def test_each_call_writes_exactly_one_event_chained_to_the_last(dr_ada, clinic_a):
    first = record_for(dr_ada, clinic_a)
    second = record_for(dr_ada, clinic_a, object_id=6)
    third = record_for(None, None, action="system.tick")
    assert AuditEvent.objects.count() == 3
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3


def test_an_event_records_who_where_what_and_why(dr_ada, clinic_a):
    event = record_for(dr_ada, clinic_a, patient_id=41)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor == dr_ada and stored.actor_name == "Ada Okafor"
    assert stored.site == clinic_a and stored.patient_id == 41
    assert (stored.action, stored.object_type, stored.object_id) == ("thing.update", "thing", "5")
    assert stored.before == {"colour": "red"} and stored.after == {"colour": "blue"}
    assert stored.reason == "typo"
    assert stored.occurred_at.utcoffset().total_seconds() == 0


def test_an_event_without_an_actor_is_recorded_as_the_system(db):
    event = record_for(None)
    assert event.actor_id is None and event.actor_name == "system"


AWKWARD_VALUES = [
    2.5,
    1.0,
    0.1 + 0.2,
    1.5e-7,
    -0.0,
    2.5e16,
    1e300,
    -3.75e21,
    2**70,
    "Zoë 李",
    ["cheek", None, True],
    {"b": 1, "a": [None, {"z": 0.5}]},
]


@pytest.mark.parametrize("value", AWKWARD_VALUES, ids=repr)
def test_the_stored_hash_matches_the_content_read_back_from_the_database(dr_ada, clinic_a, value):
    event = record_for(dr_ada, clinic_a, before=None, after={"value": value, "list": [value]})
    row = AuditEvent.objects.values("id", *HASHED_FIELDS, "prev_hash", "hash").get(pk=event.pk)
    assert event_hash(row, row["prev_hash"]) == row["hash"]
    stored = row["after"]["value"]
    assert stored == value or float(stored) == value, "the same number, perhaps spelled as an integer"


def call_through_middleware(headers=None):
    """Run an audited write inside a request, as a view would, and return (event, response)."""
    written = []

    def view(request):
        written.append(audit_record(actor=None, action="thing.create", object_type="thing", object_id=1))
        return HttpResponse("ok")

    response = RequestIdMiddleware(view)(RequestFactory().get("/", headers=headers or {}))
    return written[0], response


def test_the_request_id_is_the_servers_and_the_clients_is_kept_apart(db):
    event, response = call_through_middleware({"X-Request-ID": "proxy-7f3a9c21"})
    stored = AuditEvent.objects.get(pk=event.pk)
    assert re.fullmatch(r"[0-9a-f]{32}", stored.request_id)
    assert stored.request_id == response["X-Request-ID"] != "proxy-7f3a9c21"
    assert stored.client_request_id == "proxy-7f3a9c21"
    row = AuditEvent.objects.values("id", *HASHED_FIELDS, "client_request_id", "prev_hash", "hash").get(
        pk=event.pk
    )
    assert event_hash(row, row["prev_hash"]) == row["hash"]
    assert event_hash({**row, "client_request_id": "someone-else"}, row["prev_hash"]) != row["hash"], (
        "it is hashed"
    )


def test_two_requests_sending_the_same_id_get_different_ids(db):
    first, _ = call_through_middleware({"X-Request-ID": "same-id-every-time"})
    second, _ = call_through_middleware({"X-Request-ID": "same-id-every-time"})
    assert first.request_id != second.request_id
    assert first.client_request_id == second.client_request_id == "same-id-every-time"


def test_a_generated_request_id_is_recorded_when_the_proxy_sends_none_or_a_bad_one(db):
    event, response = call_through_middleware({"X-Request-ID": "bad id; DROP"})
    assert len(event.request_id) == 32 and event.request_id == response["X-Request-ID"]
    assert event.client_request_id == ""


def test_an_event_outside_a_request_has_no_request_id(db):
    call_through_middleware({"X-Request-ID": "proxy-7f3a9c21"})
    assert audit_record(actor=None, action="x", object_type="thing", object_id=2).request_id == ""


def sign(user, password, meaning="reviewed", **extra):
    return signature_create(
        signer=user,
        password=password,
        meaning=meaning,
        object_type="patient_history",
        object_id=41,
        record=RECORD,
        **extra,
    )


@pytest.mark.parametrize("password", ["", "not my password", PASSWORD.upper()])
def test_a_wrong_or_empty_password_signs_nothing(dr_ada, password):
    with pytest.raises(InvalidInput) as exc:
        sign(dr_ada, password)
    assert [e.field for e in exc.value.errors] == ["password"]
    assert exc.value.errors[0].message == WRONG_PASSWORD
    assert not Signature.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_unknown_meaning_signs_nothing(dr_ada):
    with pytest.raises(InvalidInput) as exc:
        sign(dr_ada, PASSWORD, meaning="liked")
    assert [e.field for e in exc.value.errors] == ["meaning"]
    assert not Signature.objects.exists() and not AuditEvent.objects.exists()


def test_the_right_password_signs_with_name_time_meaning_and_the_record_hash(dr_ada, clinic_a):
    signature = sign(dr_ada, PASSWORD, site=clinic_a, patient_id=41, statement="History reviewed")
    stored = Signature.objects.get()
    assert stored.pk == signature.pk and stored.signer == dr_ada
    assert stored.printed_name == "Ada Okafor"
    assert stored.meaning == Signature.Meaning.REVIEWED
    assert stored.signed_at.utcoffset().total_seconds() == 0
    assert stored.record_hash == record_hash(RECORD)
    assert (stored.object_type, stored.object_id, stored.site, stored.patient_id) == (
        "patient_history",
        "41",
        clinic_a,
        41,
    )
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.site, event.patient_id) == (
        "signature.create",
        dr_ada,
        clinic_a,
        41,
    )
    assert event.after == {
        "signature_id": stored.pk,
        "meaning": "reviewed",
        "printed_name": "Ada Okafor",
        "record_hash": record_hash(RECORD),
        "signer_id": dr_ada.pk,
        "signed_at": format_time(stored.signed_at),
        "statement": "History reviewed",
    }


def test_the_record_hash_binds_the_content_not_its_key_order():
    reordered = dict(reversed(list(RECORD.items())))
    assert record_hash(reordered) == record_hash(RECORD)
    assert record_hash({**RECORD, "notes": "Zoë: changed"}) != record_hash(RECORD)


def test_a_signature_is_shown_with_printed_name_utc_time_and_meaning(dr_ada):
    signature = sign(dr_ada, PASSWORD, meaning="approved")
    html = render_to_string("components/signature.html", {"signature": signature})
    when = signature.signed_at.astimezone(UTC)
    assert "Approved" in html and "Ada Okafor" in html
    assert f"{when:%H:%M} UTC" in html and f"{when.year}" in html
    assert signature.record_hash[:12] in html
