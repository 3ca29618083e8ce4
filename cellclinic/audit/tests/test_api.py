"""GET /api/v1/audit/events: the audit trail for clinic admins, with the page's filters."""

from datetime import UTC, datetime

import pytest
import time_machine

from cellclinic.audit.selectors import DATES_REVERSED
from cellclinic.audit.services import audit_record
from cellclinic.audit.tests.conftest import NCL_REASON, RSC_REASON

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit/events"
ITEM_KEYS = {
    "id",
    "occurred_at",
    "actor",
    "actor_username",
    "site",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "before",
    "after",
    "details_hidden",
    "reason",
    "request_id",
    "client_request_id",
    "prev_hash",
    "hash",
}


def listed(api, **params):
    response = api.get(URL, **params)
    assert response.status_code == 200, response.content
    return response.json()


def actions(body):
    return [item["action"] for item in body["items"]]


def assert_invalid(response, field):
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert field in [e["field"] for e in body["errors"]], body
    return body


def test_anonymous_clients_get_401(api_as, events):
    response = api_as(None).get(URL)
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication required.", "errors": []}


@pytest.mark.parametrize("persona", ["dr_ada", "nurse_bo", "dr_cy", "lab_li", "qa_quinn", "pat"])
def test_everyone_but_a_clinic_admin_gets_404(api_as, request, events, persona):
    response = api_as(request.getfixturevalue(persona)).get(URL)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": []}


def test_the_admin_gets_their_clinics_events_newest_first(api_as, admin_al, events):
    body = listed(api_as(admin_al))
    # The admin's own token creation is the newest event (it has no site; its actor works at NCL).
    assert actions(body) == [
        "api_token.create",
        "membership.grant",
        "user.create",
        "patient.update",
        "patient.create",
    ]
    assert body["count"] == 5
    ids = [item["id"] for item in body["items"]]
    assert ids == sorted(ids, reverse=True)
    text = str(body)
    assert NCL_REASON in text
    for distinctive in (RSC_REASON, events.patient_b.mrn, "Franklin", "rivershire", "RSC"):
        assert distinctive not in text


def test_an_item_carries_the_whole_event(api_as, admin_al, events):
    item = next(i for i in listed(api_as(admin_al))["items"] if i["action"] == "patient.update")
    assert set(item) == ITEM_KEYS
    patient = events.patient_a
    assert item["actor"] == "Ada Okafor" and item["actor_username"] == "ada" and item["site"] == "NCL"
    assert (item["object_type"], item["object_id"], item["patient_id"]) == (
        "patient",
        str(patient.pk),
        patient.pk,
    )
    assert item["before"] == {"phone": ""} and item["after"] == {"phone": "0191 000 0001"}
    assert item["reason"] == NCL_REASON and item["details_hidden"] is False
    assert len(item["hash"]) == 64 and len(item["prev_hash"]) == 64
    assert datetime.fromisoformat(item["occurred_at"]).utcoffset().total_seconds() == 0


def test_limit_and_offset_page_through_the_events(api_as, admin_al, clinic_a):
    for n in range(7):
        audit_record(actor=admin_al, action=f"note.{n}", object_type="note", object_id=n, site=clinic_a)
    api = api_as(admin_al)
    everything = listed(api, limit=200)
    assert everything["count"] == 8
    second_page = listed(api, limit=3, offset=3)
    assert second_page["count"] == 8
    assert second_page["items"] == everything["items"][3:6]


def test_the_filters_match_the_page(api_as, admin_al, events):
    api = api_as(admin_al)
    patient = events.patient_a
    assert sorted(actions(listed(api, patient_id=patient.pk))) == ["patient.create", "patient.update"]
    assert actions(listed(api, patient_id=events.patient_b.pk)) == []
    assert actions(listed(api, user="AL")) == ["api_token.create", "membership.grant"]
    assert sorted(actions(listed(api, object_type="user"))) == ["membership.grant", "user.create"]
    assert actions(listed(api, object_type="user", object_id=str(events.ncl_staff.pk), user="al")) == [
        "membership.grant"
    ]


def test_dates_are_whole_days_in_the_clinics_local_time(api_as, admin_al, clinic_a, settings):
    settings.TIME_ZONE = "Europe/London"
    api = api_as(admin_al)
    with time_machine.travel(datetime(2026, 1, 15, 23, 59, 59, tzinfo=UTC), tick=False):
        audit_record(actor=admin_al, action="last.second", object_type="note", object_id=1, site=clinic_a)
    with time_machine.travel(datetime(2026, 6, 30, 23, 30, tzinfo=UTC), tick=False):
        audit_record(actor=admin_al, action="after.midnight", object_type="note", object_id=2, site=clinic_a)
    assert actions(listed(api, date_from="2026-01-15", date_to="2026-01-15")) == ["last.second"]
    assert actions(listed(api, date_from="2026-06-30", date_to="2026-06-30")) == []
    assert actions(listed(api, date_from="2026-07-01", date_to="2026-07-01")) == ["after.midnight"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-02-30"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"date_from": "1850-01-01"}, "date_from"),
        ({"patient_id": "NCL-000001-1"}, "patient_id"),
        ({"patient_id": "0"}, "patient_id"),
        ({"patient_id": str(2**64)}, "patient_id"),
        ({"limit": "201"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"object_id": "x" * 65}, "object_id"),
    ],
)
def test_bad_filter_values_get_422_naming_the_field(api_as, admin_al, events, params, field):
    assert_invalid(api_as(admin_al).get(URL, **params), field)


def test_reversed_dates_get_422_naming_date_to(api_as, admin_al, events):
    body = assert_invalid(api_as(admin_al).get(URL, date_from="2026-07-02", date_to="2026-07-01"), "date_to")
    assert body["errors"] == [{"field": "date_to", "message": DATES_REVERSED}]


def test_the_endpoint_runs_the_same_queries_however_many_events_there_are(
    api_as, admin_al, clinic_a, django_assert_num_queries
):
    api = api_as(admin_al)
    listed(api)  # The first use of a token records when it was used; later requests within a minute do not.
    for n in range(3):
        audit_record(
            actor=admin_al, action="note", object_type="note", object_id=n, site=clinic_a, patient_id=1
        )
    # 1. the token and its user, 2. the user's memberships, 3. COUNT of the matching events,
    # 4. the page of events with site code, actor username and MRN.
    with django_assert_num_queries(4):
        assert len(listed(api)["items"]) == 4
    for n in range(60):
        audit_record(
            actor=admin_al, action="note", object_type="note", object_id=n, site=clinic_a, patient_id=1
        )
    with django_assert_num_queries(4):
        assert len(listed(api)["items"]) == 50
