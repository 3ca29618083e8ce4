"""Reactivating an account at /staff/<id>/reactivate/ (POST)."""

import pytest

from cellclinic.accounts.models import ApiToken, User
from cellclinic.accounts.services import ALREADY_ACTIVE, WORKS_ELSEWHERE, api_token_create, user_deactivate
from cellclinic.accounts.tests.helpers import WRONG_ROLES, actions_since, row_counts
from cellclinic.audit.models import AuditEvent
from conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

REASON = {"reason": "Back from leave"}


def _url(user) -> str:
    return f"/staff/{user.pk}/reactivate/"


@pytest.fixture
def former_nurse(clinic_a, admin_al):
    nurse = make_user("ivy", first="Ivy", last="Lund", roles=[(clinic_a, "nurse")])
    user_deactivate(user=nurse, actor=admin_al, reason="On leave")
    return nurse


def test_it_reactivates_the_account_and_they_can_sign_in_again(client, admin_al, former_nurse):
    client.force_login(admin_al)
    response = client.post(_url(former_nurse), REASON, follow=True)
    assert response.redirect_chain == [(f"/staff/{former_nurse.pk}/", 302)]
    assert "Ivy Lund can sign in again." in response.content.decode()
    assert User.objects.get(pk=former_nurse.pk).is_active
    client.logout()
    assert client.post("/sign-in/", {"username": "ivy", "password": PASSWORD}).status_code == 302


def test_it_records_one_event_with_the_reason(client, admin_al, former_nurse):
    client.force_login(admin_al)
    before = AuditEvent.objects.count()
    client.post(_url(former_nurse), REASON)
    assert actions_since(before) == ["user.reactivate"]
    event = AuditEvent.objects.get(action="user.reactivate")
    assert (event.actor, event.object_id, event.reason) == (admin_al, str(former_nurse.pk), "Back from leave")
    assert (event.before, event.after) == ({"is_active": False}, {"is_active": True})


def test_revoked_tokens_stay_revoked(client, admin_al, nurse_bo):
    _, key = api_token_create(user=nurse_bo, name="laptop")
    user_deactivate(user=nurse_bo, actor=admin_al, reason="On leave")
    client.force_login(admin_al)
    client.post(_url(nurse_bo), REASON)
    client.logout()
    assert client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 0


@pytest.mark.parametrize("reason", ["", "  "])
def test_a_reason_is_required_and_nothing_changes_without_one(client, admin_al, former_nurse, reason):
    client.force_login(admin_al)
    before = row_counts()
    response = client.post(_url(former_nurse), {"reason": reason})
    assert response.status_code == 422
    assert list(response.context["status_form"].errors) == ["reason"]
    assert row_counts() == before


def test_an_active_account_is_not_reactivated(client, admin_al, dr_ada):
    client.force_login(admin_al)
    before = row_counts()
    response = client.post(_url(dr_ada), REASON)
    assert response.status_code == 422
    assert ALREADY_ACTIVE in response.content.decode()
    assert row_counts() == before


def test_someone_who_also_works_at_another_clinic_is_not_reactivated_here(client, admin_al, shared_nurse):
    user_deactivate(user=shared_nurse, actor=None, reason="Left both clinics")
    client.force_login(admin_al)
    before = row_counts()
    response = client.post(_url(shared_nurse), REASON)
    assert response.status_code == 422
    assert WORKS_ELSEWHERE in response.content.decode()
    assert row_counts() == before


def test_another_clinics_admin_cannot_reactivate_north_clinic_staff(client, admin_rex, former_nurse):
    client.force_login(admin_rex)
    before = row_counts()
    assert client.post(_url(former_nurse), REASON).status_code == 404
    assert row_counts() == before


def test_it_sends_anonymous_visitors_to_sign_in(client, former_nurse):
    before = row_counts()
    response = client.post(_url(former_nurse), REASON)
    assert response.status_code == 302
    assert row_counts() == before


@pytest.mark.parametrize("user", WRONG_ROLES)
def test_it_is_not_found_for_anyone_but_clinic_admins(client, request, user, former_nurse):
    client.force_login(request.getfixturevalue(user))
    before = row_counts()
    assert client.post(_url(former_nurse), REASON).status_code == 404
    assert row_counts() == before
