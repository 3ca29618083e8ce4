"""Deactivating an account at /staff/<id>/deactivate/ (POST)."""

import pytest

from cellclinic.accounts.models import User
from cellclinic.accounts.services import (
    ALREADY_INACTIVE,
    OWN_ACCOUNT,
    REASON_REQUIRED,
    WORKS_ELSEWHERE,
    api_token_create,
    user_deactivate,
)
from cellclinic.accounts.tests.helpers import WRONG_ROLES, actions_since, roles_of, row_counts
from cellclinic.audit.models import AuditEvent
from cellclinic.core.errors import InvalidInput
from conftest import PASSWORD
from tests.two_factor import TwoFactorClient

pytestmark = pytest.mark.django_db

REASON = {"reason": "Left the clinic on 31 May"}


def _url(user) -> str:
    return f"/staff/{user.pk}/deactivate/"


def test_it_deactivates_the_account_and_keeps_its_roles(client, admin_al, nurse_bo):
    client.force_login(admin_al)
    response = client.post(_url(nurse_bo), REASON, follow=True)
    assert response.redirect_chain == [(f"/staff/{nurse_bo.pk}/", 302)]
    assert "Bo Lindqvist can no longer sign in; their API tokens are revoked." in response.content.decode()
    nurse_bo.refresh_from_db()
    assert nurse_bo.is_active is False
    assert roles_of(nurse_bo) == {("NCL", "nurse")}


def test_it_records_one_event_with_the_reason_and_the_revoked_tokens(client, admin_al, nurse_bo):
    first, _ = api_token_create(user=nurse_bo, name="laptop")
    second, _ = api_token_create(user=nurse_bo, name="printer")
    client.force_login(admin_al)
    before = AuditEvent.objects.count()
    client.post(_url(nurse_bo), REASON)
    assert actions_since(before) == ["user.deactivate"]
    event = AuditEvent.objects.get(action="user.deactivate")
    assert (event.actor, event.object_type, event.object_id) == (admin_al, "user", str(nurse_bo.pk))
    assert event.reason == "Left the clinic on 31 May"
    assert event.before == {"is_active": True}
    assert event.after == {"is_active": False, "api_tokens_revoked": sorted([first.prefix, second.prefix])}


def test_a_deactivated_user_cannot_sign_in(client, admin_al, nurse_bo):
    client.force_login(admin_al)
    client.post(_url(nurse_bo), REASON)
    client.logout()
    response = client.post("/sign-in/", {"username": "bo", "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/").status_code == 302


def test_a_deactivated_users_open_session_stops_working(client, admin_al, nurse_bo, patient_a):
    nurse_browser = TwoFactorClient()
    nurse_browser.force_login(nurse_bo)
    assert nurse_browser.get("/patients/").status_code == 200
    client.force_login(admin_al)
    client.post(_url(nurse_bo), REASON)
    response = nurse_browser.get("/patients/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_a_deactivated_users_tokens_are_revoked_and_stop_working(client, admin_al, nurse_bo):
    token, key = api_token_create(user=nurse_bo, name="laptop")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/accounts/me", headers=headers).status_code == 200
    client.force_login(admin_al)
    client.post(_url(nurse_bo), REASON)
    client.logout()
    assert client.get("/api/v1/accounts/me", headers=headers).status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_other_users_tokens_are_untouched(client, admin_al, nurse_bo, dr_ada):
    token, key = api_token_create(user=dr_ada, name="laptop")
    client.force_login(admin_al)
    client.post(_url(nurse_bo), REASON)
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_reason_is_required_and_nothing_changes_without_one(client, admin_al, nurse_bo, reason):
    api_token_create(user=nurse_bo, name="laptop")
    client.force_login(admin_al)
    before = row_counts()
    response = client.post(_url(nurse_bo), {"reason": reason})
    assert response.status_code == 422
    assert list(response.context["status_form"].errors) == ["reason"]
    assert 'id="id_reason_error"' in response.content.decode()
    assert row_counts() == before


def test_the_service_names_the_reason_when_it_is_blank(admin_al, nurse_bo):
    with pytest.raises(InvalidInput) as raised:
        user_deactivate(user=nurse_bo, actor=admin_al, reason="  ")
    assert [(e.field, e.message) for e in raised.value.errors] == [("reason", REASON_REQUIRED)]


def test_an_admin_cannot_deactivate_themself(client, admin_al):
    client.force_login(admin_al)
    before = row_counts()
    response = client.post(_url(admin_al), REASON)
    assert response.status_code == 422
    assert OWN_ACCOUNT in response.content.decode()
    assert row_counts() == before
    assert User.objects.get(pk=admin_al.pk).is_active


def test_an_inactive_account_is_not_deactivated_twice(client, admin_al, nurse_bo):
    User.objects.filter(pk=nurse_bo.pk).update(is_active=False)
    client.force_login(admin_al)
    before = row_counts()
    response = client.post(_url(nurse_bo), REASON)
    assert response.status_code == 422
    assert ALREADY_INACTIVE in response.content.decode()
    assert row_counts() == before


def test_someone_who_also_works_at_another_clinic_is_not_deactivated(client, admin_al, shared_nurse):
    client.force_login(admin_al)
    before = row_counts()
    response = client.post(_url(shared_nurse), REASON)
    assert response.status_code == 422
    assert WORKS_ELSEWHERE in response.content.decode()
    assert row_counts() == before


def test_another_clinics_admin_cannot_deactivate_north_clinic_staff(client, admin_rex, nurse_bo):
    client.force_login(admin_rex)
    before = row_counts()
    assert client.post(_url(nurse_bo), REASON).status_code == 404
    assert row_counts() == before


def test_it_sends_anonymous_visitors_to_sign_in(client, nurse_bo):
    before = row_counts()
    response = client.post(_url(nurse_bo), REASON)
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=")
    assert row_counts() == before


@pytest.mark.parametrize("user", WRONG_ROLES)
def test_it_is_not_found_for_anyone_but_clinic_admins(client, request, user, admin_al):
    client.force_login(request.getfixturevalue(user))
    before = row_counts()
    assert client.post(_url(admin_al), REASON).status_code == 404
    assert row_counts() == before


def test_it_needs_a_post(client, admin_al, nurse_bo):
    client.force_login(admin_al)
    assert client.get(_url(nurse_bo)).status_code == 405
