"""Creating a patient's portal account from the chart: /patients/<id>/portal-account/ (POST)."""

import pytest

from cellclinic.accounts.models import User
from cellclinic.audit.models import AuditEvent
from cellclinic.core.errors import InvalidInput
from cellclinic.patients.models import Patient
from cellclinic.patients.services import HAS_PORTAL_ACCOUNT, patient_portal_account_create
from cellclinic.patients.tests.helpers import assert_no_patient_data
from conftest import make_user

pytestmark = pytest.mark.django_db

INITIAL = "violet kettles sing at dawn"


def _url(patient) -> str:
    return f"/patients/{patient.pk}/portal-account/"


def _form(**overrides) -> dict:
    data = {"portal-username": "", "portal-password": INITIAL, "portal-password_again": INITIAL}
    data.update(overrides)
    return data


def _counts() -> tuple[int, int, int]:
    return (
        User.objects.count(),
        Patient.objects.filter(portal_user__isnull=False).count(),
        AuditEvent.objects.count(),
    )


def test_it_creates_and_links_an_account_named_after_the_patient(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    response = client.post(_url(patient_a), _form(), follow=True)
    assert response.redirect_chain == [(f"/patients/{patient_a.pk}/?section=record", 302)]
    user = User.objects.get(username="grace.hopper")
    assert (user.kind, user.first_name, user.last_name, user.is_active) == (
        "patient",
        "Grace",
        "Hopper",
        True,
    )
    assert user.check_password(INITIAL)
    assert Patient.objects.get(pk=patient_a.pk).portal_user == user
    body = response.content.decode()
    assert "Portal account grace.hopper is created for Grace Hopper." in body
    assert "change the password when they first sign in" in body


def test_a_taken_suggestion_is_made_unique(client, dr_ada, patient_a):
    make_user("Grace.Hopper", first="Other", last="Person", kind="patient")
    make_user("grace.hopper2", first="Another", last="Person", kind="patient")
    client.force_login(dr_ada)
    client.post(_url(patient_a), _form())
    assert Patient.objects.get(pk=patient_a.pk).portal_user.username == "grace.hopper3"


def test_staff_may_choose_the_username(client, nurse_bo, patient_a):
    client.force_login(nurse_bo)
    client.post(_url(patient_a), _form(**{"portal-username": "ghopper"}))
    assert Patient.objects.get(pk=patient_a.pk).portal_user.username == "ghopper"


def test_the_patient_signs_in_to_the_portal_with_it(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    client.post(_url(patient_a), _form())
    client.logout()
    response = client.post("/sign-in/", {"username": "grace.hopper", "password": INITIAL}, follow=True)
    assert response.redirect_chain[-1] == ("/patients/portal/", 302)
    assert patient_a.mrn in response.content.decode()


def test_it_records_the_account_and_the_link_once_each(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    before = AuditEvent.objects.count()
    client.post(_url(patient_a), _form())
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [e.action for e in events] == ["user.create", "patient.link_portal_user"]
    assert all(e.actor == dr_ada for e in events)
    assert events[0].after["kind"] == "patient" and "password" not in events[0].after
    assert (events[1].patient_id, events[1].after) == (patient_a.pk, {"portal_user": "grace.hopper"})


def test_the_chart_offers_the_form_to_those_who_may_edit(client, nurse_bo, patient_a):
    client.force_login(nurse_bo)
    body = client.get(f"/patients/{patient_a.pk}/?section=record").content.decode()
    assert f'action="/patients/{patient_a.pk}/portal-account/"' in body
    assert '<label for="id_portal-username">Username' in body
    assert 'placeholder="grace.hopper"' in body
    assert '<label for="id_portal-password">Initial password' in body
    assert "change it under “My account” when they first sign in" in body


@pytest.mark.parametrize("user", ["lab_li", "qa_quinn"])
def test_the_chart_is_not_theirs_to_see(client, request, user, patient_a):
    client.force_login(request.getfixturevalue(user))
    assert client.get(f"/patients/{patient_a.pk}/").status_code == 404


def test_a_linked_account_shows_its_username_and_nothing_else(client, dr_ada, pat, patient_a):
    client.force_login(dr_ada)
    body = client.get(f"/patients/{patient_a.pk}/?section=record").content.decode()
    assert '<dd class="mono">pat</dd>' in body
    assert "/portal-account/" not in body
    assert 'name="portal-password"' not in body


def test_posting_for_a_patient_who_has_an_account_changes_nothing(client, dr_ada, pat, patient_a):
    client.force_login(dr_ada)
    before = _counts()
    response = client.post(_url(patient_a), _form(), follow=True)
    assert "already has a portal account: pat" in response.content.decode()
    assert _counts() == before
    assert Patient.objects.get(pk=patient_a.pk).portal_user == pat


def test_the_service_refuses_a_second_account(dr_ada, pat, patient_a):
    before = _counts()
    with pytest.raises(InvalidInput) as raised:
        patient_portal_account_create(patient=patient_a, username="", password=INITIAL, actor=dr_ada)
    assert [(e.field, e.message) for e in raised.value.errors] == [("portal_user", HAS_PORTAL_ACCOUNT)]
    assert _counts() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"portal-username": "ada"}, "username"),
        ({"portal-username": "two words"}, "username"),
        ({"portal-password": "short", "portal-password_again": "short"}, "password"),
        ({"portal-password": "password123", "portal-password_again": "password123"}, "password"),
        ({"portal-password": "gracehopper1", "portal-password_again": "gracehopper1"}, "password"),
        ({"portal-password": ""}, "password"),
        ({"portal-password_again": "something else"}, "password_again"),
    ],
)
def test_it_shows_invalid_input_inline_and_saves_nothing(client, dr_ada, patient_a, overrides, field):
    client.force_login(dr_ada)
    before = _counts()
    response = client.post(_url(patient_a), _form(**overrides))
    assert response.status_code == 422
    assert list(response.context["portal_form"].errors) == [field]
    body = response.content.decode()
    assert "No account was created." in body
    assert f'id="id_portal-{field}_error"' in body
    assert _counts() == before


def test_another_clinic_cannot_create_an_account_for_the_patient(client, dr_cy, patient_a):
    client.force_login(dr_cy)
    before = _counts()
    response = client.post(_url(patient_a), _form())
    assert response.status_code == 404
    assert_no_patient_data(response, patient_a)
    assert _counts() == before


@pytest.mark.parametrize("user", ["lab_li", "qa_quinn"])
def test_it_is_not_found_for_lab_and_qa_staff(client, request, user, patient_a):
    client.force_login(request.getfixturevalue(user))
    before = _counts()
    assert client.post(_url(patient_a), _form()).status_code == 404
    assert _counts() == before


def test_it_is_not_found_for_a_portal_user(client, pat, patient_b):
    client.force_login(pat)
    before = _counts()
    assert client.post(_url(patient_b), _form()).status_code == 404
    assert _counts() == before


def test_it_sends_anonymous_visitors_to_sign_in(client, patient_a):
    before = _counts()
    response = client.post(_url(patient_a), _form())
    assert response.status_code == 302
    assert response["Location"] == f"/sign-in/?next=/patients/{patient_a.pk}/portal-account/"
    assert _counts() == before


def test_it_needs_a_post(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    assert client.get(_url(patient_a)).status_code == 405


def test_the_chart_query_count_is_unchanged_by_the_form(client, dr_ada, patient_a, django_assert_num_queries):
    client.force_login(dr_ada)
    # The record section: 1 session, 2 user, 3 memberships, 4 the patient, 5 the read logged in the
    # access log, 6-9 the stages of the pathway in the header, 10-11 the counts beside the navigation
    # links: the suggested username comes from the name alone and is made unique only when the
    # account is created.
    with django_assert_num_queries(11):
        response = client.get(f"/patients/{patient_a.pk}/?section=record")
    assert response.context["portal_form"] is not None
