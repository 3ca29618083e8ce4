"""Revoking one's own API token at /account/tokens/<id>/revoke/ (POST)."""

import pytest

from cellclinic.accounts.models import ApiToken
from cellclinic.accounts.services import api_token_create
from cellclinic.accounts.tests.helpers import actions_since, row_counts
from cellclinic.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _url(token) -> str:
    return f"/account/tokens/{token.pk}/revoke/"


def test_it_revokes_the_token_and_it_no_longer_authenticates(client, dr_ada):
    token, key = api_token_create(user=dr_ada, name="laptop")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/accounts/me", headers=headers).status_code == 200
    client.force_login(dr_ada)
    response = client.post(_url(token), follow=True)
    assert response.redirect_chain == [("/account/", 302)]
    assert f"The token “laptop” ({token.prefix}…) is revoked." in response.content.decode()
    client.logout()
    assert client.get("/api/v1/accounts/me", headers=headers).status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_records_one_event_and_nothing_more_when_repeated(client, dr_ada):
    token, _ = api_token_create(user=dr_ada, name="laptop")
    client.force_login(dr_ada)
    before = AuditEvent.objects.count()
    client.post(_url(token))
    client.post(_url(token))
    assert actions_since(before) == ["api_token.revoke"]
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert (event.actor, event.object_type, event.object_id) == (dr_ada, "api_token", str(token.pk))
    assert event.before == {"revoked_at": None}
    assert event.after["prefix"] == token.prefix and event.after["revoked_at"]


def test_another_users_token_is_not_found_and_keeps_working(client, dr_ada, nurse_bo):
    token, key = api_token_create(user=nurse_bo, name="tablet")
    client.force_login(dr_ada)
    before = row_counts()
    assert client.post(_url(token)).status_code == 404
    assert row_counts() == before
    client.logout()
    assert client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_a_clinic_admin_cannot_revoke_a_staff_members_token_here(client, admin_al, nurse_bo):
    token, _ = api_token_create(user=nurse_bo, name="tablet")
    client.force_login(admin_al)
    assert client.post(_url(token)).status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_a_patient_has_no_tokens_to_revoke(client, pat):
    token, _ = api_token_create(user=pat, name="made elsewhere")
    client.force_login(pat)
    before = row_counts()
    assert client.post(_url(token)).status_code == 404
    assert row_counts() == before


def test_it_sends_anonymous_visitors_to_sign_in(client, dr_ada):
    token, _ = api_token_create(user=dr_ada, name="laptop")
    before = row_counts()
    response = client.post(_url(token))
    assert response.status_code == 302
    assert row_counts() == before


def test_it_needs_a_post(client, dr_ada):
    token, _ = api_token_create(user=dr_ada, name="laptop")
    client.force_login(dr_ada)
    assert client.get(_url(token)).status_code == 405
