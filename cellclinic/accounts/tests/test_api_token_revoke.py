"""DELETE /api/v1/accounts/tokens/<id>: revoke one of the caller's own tokens."""

import pytest

from cellclinic.accounts.models import ApiToken
from cellclinic.accounts.services import api_token_create
from cellclinic.accounts.tests.helpers import actions_since, row_counts
from cellclinic.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _url(token) -> str:
    return f"/api/v1/accounts/tokens/{token.pk}"


def test_it_revokes_the_token_and_it_no_longer_authenticates(api_as, client, dr_ada):
    token, key = api_token_create(user=dr_ada, name="laptop")
    response = api_as(dr_ada).delete(_url(token))
    assert response.status_code == 204
    assert response.content == b""
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_a_token_can_revoke_itself(client, dr_ada):
    token, key = api_token_create(user=dr_ada, name="laptop")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.delete(_url(token), headers=headers).status_code == 204
    assert client.get("/api/v1/accounts/me", headers=headers).status_code == 401


def test_it_records_one_event_and_nothing_more_when_repeated(api_as, dr_ada):
    token, _ = api_token_create(user=dr_ada, name="laptop")
    api = api_as(dr_ada)
    before = AuditEvent.objects.count()
    assert api.delete(_url(token)).status_code == 204
    assert api.delete(_url(token)).status_code == 204
    assert actions_since(before) == ["api_token.revoke"]
    assert AuditEvent.objects.get(action="api_token.revoke").actor == dr_ada


def test_another_users_token_is_not_found(api_as, client, dr_ada, nurse_bo, admin_al):
    token, key = api_token_create(user=nurse_bo, name="tablet")
    for caller in (dr_ada, admin_al):
        api = api_as(caller)
        before = row_counts()
        response = api.delete(_url(token))
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "errors": []}
        assert row_counts() == before
    assert client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_a_missing_token_answers_like_another_users(api_as, dr_ada, nurse_bo):
    token, _ = api_token_create(user=nurse_bo, name="tablet")
    api = api_as(dr_ada)
    assert api.delete(_url(token)).json() == api.delete(f"/api/v1/accounts/tokens/{token.pk + 1000}").json()


def test_it_requires_authentication(api_as, dr_ada):
    token, _ = api_token_create(user=dr_ada, name="laptop")
    before = row_counts()
    assert api_as(None).delete(_url(token)).status_code == 401
    assert row_counts() == before


def test_a_patient_gets_not_found(api_as, pat):
    token, _ = api_token_create(user=pat, name="made elsewhere")
    api = api_as(pat)
    before = row_counts()
    assert api.delete(_url(token)).status_code == 404
    assert row_counts() == before
