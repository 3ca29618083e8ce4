"""The audit trail page: clinic admins see their own sites' events; everyone else gets a 404."""

import html
import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.http import HttpResponse
from django.test import RequestFactory

from cellclinic.accounts.services import api_token_create
from cellclinic.audit.selectors import (
    DATE_OUT_OF_RANGE,
    DATES_REVERSED,
    FIELD_LABELS,
    OBJECT_TYPES,
    PATIENT_UNKNOWN,
    register_field_labels,
)
from cellclinic.audit.services import audit_record
from cellclinic.audit.tests.conftest import NCL_REASON, RSC_REASON
from cellclinic.core.middleware import RequestIdMiddleware
from cellclinic.patients.services import patient_update

pytestmark = pytest.mark.django_db

URL = "/audit/"


def page(client, reader, **params):
    client.force_login(reader)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response


def text_of(response):
    return html.unescape(response.content.decode())


def words_of(body):
    """The text of BODY as read on the page: tags dropped, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def actions(response):
    return [row["action"] for row in response.context["rows"]]


def add_events(actor, site, count, **fields):
    return [
        audit_record(actor=actor, action="note.update", object_type="note", object_id=n, site=site, **fields)
        for n in range(count)
    ]


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=/audit/")


@pytest.mark.parametrize("persona", ["dr_ada", "nurse_bo", "dr_cy", "lab_li", "qa_quinn", "pat"])
def test_everyone_but_a_clinic_admin_gets_404(client, request, events, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL)
    assert response.status_code == 404
    assert NCL_REASON not in text_of(response)


def test_the_admin_sees_events_of_their_clinic_and_none_of_the_other(client, admin_al, events):
    response = page(client, admin_al)
    body = text_of(response)
    assert response.context["nav_active"] == "audit"
    assert NCL_REASON in body and events.patient_a.mrn in body
    for distinctive in (RSC_REASON, events.patient_b.mrn, "Franklin", "Rosalind", "RSC", "0207 999 0002"):
        assert distinctive not in body
    assert set(actions(response)) == {"patient.create", "patient.update", "user.create", "membership.grant"}


def test_an_event_without_a_site_is_shown_only_for_people_of_the_admins_clinics(
    client, admin_al, dr_cy, events
):
    api_token_create(user=dr_cy)
    _, al_key = api_token_create(user=admin_al)
    response = page(client, admin_al)
    shown = {(row["action"], row["object_id"]) for row in response.context["rows"]}
    assert ("user.create", str(events.ncl_staff.pk)) in shown
    assert ("user.create", str(events.rsc_staff.pk)) not in shown
    tokens = [row for row in response.context["rows"] if row["action"] == "api_token.create"]
    assert [row["after"]["prefix"] for row in tokens] == [al_key[:8]]
    body = text_of(response)
    assert "newhire" in body and "rivershire" not in body


def test_a_row_shows_time_actor_site_action_object_changes_reason_request_and_hash(
    client, admin_al, clinic_a
):
    written = []

    def view(request):
        written.append(
            audit_record(
                actor=admin_al,
                action="site.update",
                object_type="site",
                object_id=clinic_a.pk,
                site=clinic_a,
                before={"phone": "0191 111", "name": "North Clinic"},
                after={"phone": "0191 222", "name": "North Clinic"},
                reason="new switchboard",
            )
        )
        return HttpResponse()

    with time_machine.travel(datetime(2026, 7, 1, 8, 5, 9, tzinfo=UTC), tick=False):
        RequestIdMiddleware(view)(RequestFactory().get("/", headers={"X-Request-ID": "req-4f1c2a9e77"}))
    event = written[0]
    body = text_of(page(client, admin_al))
    assert "2026-07-01 08:05:09 UTC" in body and "1 Jul 2026, 09:05 BST" in body
    assert "Al Rahman" in body and ">NCL<" in body
    assert "site.<wbr>update" in body, "an action code may wrap at its dot"
    assert f'Site <span class="mono">{clinic_a.pk}</span>' in body
    assert "Phone: 0191 111 → 0191 222" in words_of(body)
    assert "North Clinic" not in body, "unchanged keys are left out"
    assert "new switchboard" in body
    assert event.request_id != "req-4f1c2a9e77"
    assert f'title="{event.request_id} (client: req-4f1c2a9e77)"' in body
    assert event.hash[:12] in body and event.hash not in body.replace(f'title="{event.hash}"', "")


def test_the_events_come_newest_first_a_page_at_a_time(client, admin_al, clinic_a):
    written = add_events(admin_al, clinic_a, 30)
    first = page(client, admin_al)
    assert [row["id"] for row in first.context["rows"]] == [e.pk for e in reversed(written)][:25]
    assert "Page 1 of 2 · 30 in all" in text_of(first)
    second = page(client, admin_al, page=2)
    assert [row["id"] for row in second.context["rows"]] == [e.pk for e in reversed(written)][25:]


def test_the_page_notes_that_the_chain_is_verified_by_the_command(client, admin_al, events):
    assert "cellclinic verify-audit" in text_of(page(client, admin_al))


@pytest.mark.parametrize("how", ["mrn", "lower-case mrn", "id"])
def test_filter_by_patient(client, admin_al, events, how):
    patient = events.patient_a
    value = {"mrn": patient.mrn, "lower-case mrn": f"  {patient.mrn.lower()} ", "id": str(patient.pk)}[how]
    response = page(client, admin_al, patient=value)
    assert sorted(actions(response)) == ["patient.create", "patient.update"]
    assert {row["patient_id"] for row in response.context["rows"]} == {patient.pk}


def test_filter_by_user(client, admin_al, events):
    assert sorted(actions(page(client, admin_al, user="ADA"))) == ["patient.create", "patient.update"]
    assert actions(page(client, admin_al, user="al")) == ["membership.grant"]
    assert actions(page(client, admin_al, user="cy")) == []


def test_filter_by_object_type_and_id(client, admin_al, events):
    by_type = page(client, admin_al, object_type="user")
    assert sorted(actions(by_type)) == ["membership.grant", "user.create"]
    by_object = page(client, admin_al, object_type="patient", object_id=str(events.patient_a.pk))
    assert sorted(actions(by_object)) == ["patient.create", "patient.update"]


def test_the_object_type_filter_offers_types_other_apps_register(client, admin_al, clinic_a, monkeypatch):
    monkeypatch.setitem(OBJECT_TYPES, "consent", "Consent")
    audit_record(actor=admin_al, action="consent.sign", object_type="consent", object_id=3, site=clinic_a)
    add_events(admin_al, clinic_a, 2)
    response = page(client, admin_al, object_type="consent")
    assert '<option value="consent" selected>Consent</option>' in text_of(response)
    assert actions(response) == ["consent.sign"]


def test_dates_are_whole_days_in_the_clinics_local_time(client, admin_al, clinic_a, settings):
    settings.TIME_ZONE = "Europe/London"
    with time_machine.travel(datetime(2026, 6, 30, 12, 0, tzinfo=UTC), tick=False):
        audit_record(actor=admin_al, action="at.noon", object_type="note", object_id=1, site=clinic_a)
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST).
    with time_machine.travel(datetime(2026, 6, 30, 23, 30, tzinfo=UTC), tick=False):
        audit_record(actor=admin_al, action="after.midnight", object_type="note", object_id=2, site=clinic_a)
    assert actions(page(client, admin_al, date_from="2026-07-01")) == ["after.midnight"]
    assert actions(page(client, admin_al, date_to="2026-06-30")) == ["at.noon"]
    assert actions(page(client, admin_al, date_from="2026-06-30", date_to="2026-06-30")) == ["at.noon"]
    assert actions(page(client, admin_al, date_from="2026-06-29", date_to="2026-07-01")) == [
        "after.midnight",
        "at.noon",
    ]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"date_from": "2026-07-02", "date_to": "2026-07-01"}, "date_to", DATES_REVERSED),
        ({"date_from": "2026-02-30"}, "date_from", "Enter a valid date."),
        ({"date_to": "yesterday"}, "date_to", "Enter a valid date."),
        ({"date_from": "1850-01-01"}, "date_from", DATE_OUT_OF_RANGE),
        ({"patient": "NCL-999999-X"}, "patient", PATIENT_UNKNOWN),
        ({"patient": "999999"}, "patient", PATIENT_UNKNOWN),
        ({"patient": "99999999999999999999999"}, "patient", PATIENT_UNKNOWN),
        ({"object_type": "spaceship"}, "object_type", "Select a valid choice."),
        ({"object_id": "x" * 65}, "object_id", "Ensure this value has at most 64 characters (it has 65)."),
    ],
)
def test_bad_filters_are_shown_next_to_the_field_and_list_nothing(
    client, admin_al, events, params, field, message
):
    response = page(client, admin_al, **params)
    assert response.context["form"].errors[field][0].startswith(message.split(" (")[0])
    body = text_of(response)
    assert f'id="id_{field}_error">' in body and message.split(" (")[0] in body
    assert response.context["rows"] == []
    assert NCL_REASON not in body


def test_another_clinics_mrn_is_unknown_here(client, admin_al, events):
    response = page(client, admin_al, patient=events.patient_b.mrn)
    assert response.context["form"].errors["patient"] == [PATIENT_UNKNOWN]
    assert "Franklin" not in text_of(response)


def test_the_filter_form_updates_the_table_in_place(client, admin_al, events):
    full = text_of(page(client, admin_al))
    assert (
        'hx-get="/audit/"' in full and 'hx-target="#audit-results"' in full and 'hx-push-url="true"' in full
    )
    client.force_login(admin_al)
    response = client.get(URL, {"user": "ada"}, headers={"HX-Request": "true"})
    assert [t.name for t in response.templates][0] == "audit/_results.html"
    body = text_of(response)
    assert "<html" not in body and "<table" in body
    assert 'id="audit-filters"' in body and 'hx-swap-oob="true"' in body
    assert "HX-Request" in response["Vary"]
    assert sorted(actions(response)) == ["patient.create", "patient.update"]


def test_going_back_in_history_gets_the_whole_page(client, admin_al, events):
    client.force_login(admin_al)
    response = client.get(
        URL, {"user": "ada"}, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert [t.name for t in response.templates][0] == "audit/event_list.html"
    assert "<html" in text_of(response)


def test_an_htmx_request_with_bad_filters_brings_back_the_errors(client, admin_al, events):
    client.force_login(admin_al)
    response = client.get(URL, {"date_from": "2026-13-01"}, headers={"HX-Request": "true"})
    body = text_of(response)
    assert 'hx-swap-oob="true"' in body and 'id="id_date_from_error"' in body
    assert "<table" not in body


def test_patient_details_of_a_patient_outside_the_admins_clinics_are_withheld(
    client, admin_al, events, clinic_a
):
    # An event recorded at North Clinic that names a Riverside patient.
    audit_record(
        actor=admin_al,
        action="referral.receive",
        object_type="referral",
        object_id=1,
        site=clinic_a,
        patient_id=events.patient_b.pk,
        after={"family_name": "Franklin"},
    )
    response = page(client, admin_al, object_type="", user="al")
    row = next(r for r in response.context["rows"] if r["action"] == "referral.receive")
    assert row["details_hidden"] and row["after"] is None and row["patient_mrn"] is None
    body = text_of(response)
    assert "Franklin" not in body and events.patient_b.mrn not in body


def test_the_page_runs_the_same_queries_however_many_events_there_are(
    client, admin_al, clinic_a, django_assert_num_queries
):
    add_events(admin_al, clinic_a, 3, before={"n": 1}, after={"n": 2}, patient_id=1)
    client.force_login(admin_al)
    # 1. the session, 2. the signed-in user, 3. the user's memberships (roles, read once per request),
    # 4. COUNT of the matching events, 5. the page of events with site code, actor username and MRN,
    # 6. new consultation requests and 7. unread notifications, counted on the navigation links.
    with django_assert_num_queries(7):
        assert client.get(URL).status_code == 200
    add_events(admin_al, clinic_a, 40, before={"n": 1}, after={"n": 2}, patient_id=1)
    with django_assert_num_queries(7):
        response = client.get(URL)
    assert len(response.context["rows"]) == 25


def test_filtering_by_mrn_adds_one_query_to_find_the_patient(
    client, admin_al, events, clinic_a, django_assert_num_queries
):
    add_events(admin_al, clinic_a, 30, patient_id=events.patient_a.pk)
    client.force_login(admin_al)
    # 1. session, 2. user, 3. memberships, 4. the patient with that MRN at the admin's sites,
    # 5. COUNT, 6. the page of events, 7.-8. the counts on the navigation links.
    with django_assert_num_queries(8):
        response = client.get(URL, {"patient": events.patient_a.mrn})
    assert len(response.context["rows"]) == 25


def test_actions_show_the_label_their_app_registered(client, admin_al, patient_a):
    client.force_login(admin_al)
    body = client.get("/audit/").content.decode()
    assert "Registered" in body and "patient.<wbr>create" in body


def test_a_change_reads_field_label_before_and_after_without_raw_json(client, admin_al, dr_ada, patient_a):
    patient_a.date_of_birth = date(1980, 1, 1)
    patient_a.save(update_fields=["date_of_birth"])
    patient_update(
        patient=patient_a,
        actor=dr_ada,
        data={"date_of_birth": date(1980, 1, 2), "history_notes": "Burns as a child. " * 20},
        reason="birth date typed wrong",
    )
    response = page(client, admin_al, object_type="patient", object_id=str(patient_a.pk))
    body = text_of(response)
    changes = body[body.index('<ul class="change-lines">') : body.index("birth date typed wrong")]
    shown = words_of(changes)
    assert "Date of birth: 1 Jan 1980 → 2 Jan 1980" in shown
    # A long value is cut short on its line, and the whole of it is a click away.
    assert "Notes on the history: — → Burns as a child. Burns as a child." in shown
    assert "Show “Notes on the history” in full" in shown
    assert ("Burns as a child. " * 20).strip() in shown
    assert not set('{}[]"') & set(shown), "values are words, not JSON"


def test_registering_field_labels_names_the_fields_of_an_object_type(client, admin_al, clinic_a):
    audit_record(
        actor=admin_al,
        action="widget.update",
        object_type="widget",
        object_id=1,
        site=clinic_a,
        before={"colour_code": "red", "in_stock": True},
        after={"colour_code": "blue", "in_stock": False},
    )
    shown = words_of(text_of(page(client, admin_al)))
    assert "Colour code: red → blue" in shown and "In stock: yes → no" in shown
    try:
        register_field_labels("widget", {"colour_code": "Colour", "in_stock": "Available"})
        shown = words_of(text_of(page(client, admin_al)))
        assert "Colour: red → blue" in shown and "Available: yes → no" in shown
    finally:
        FIELD_LABELS.pop("widget", None)
