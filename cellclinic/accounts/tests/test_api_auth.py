"""Bearer tokens and sessions for the API; one error shape for 401."""

import pytest
from django.utils import timezone

from cellclinic.accounts.models import ApiToken
from cellclinic.accounts.services import api_token_create


@pytest.mark.django_db
def test_me_with_a_bearer_token(api_as, dr_ada):
    response = api_as(dr_ada).get("/api/v1/accounts/me")
    assert response.status_code == 200
    assert response.json() == {
        "username": "ada",
        "name": "Ada Okafor",
        "kind": "staff",
        "roles": [{"site": "NCL", "site_name": "North Clinic", "role": "practitioner"}],
    }


@pytest.mark.django_db
def test_me_with_a_session(client, dr_ada):
    client.force_login(dr_ada)
    assert client.get("/api/v1/accounts/me").json()["username"] == "ada"


@pytest.mark.django_db
def test_only_the_token_hash_is_stored(dr_ada):
    token, key = api_token_create(user=dr_ada)
    assert key not in token.key_hash
    assert token.key_hash == ApiToken.hash_key(key)
    assert ApiToken.objects.filter(key_hash=key).count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [None, "Bearer nonsense", "Bearer cc_wrong", "Token cc_wrong", "Bearer "],
)
def test_it_answers_401_without_valid_credentials(client, dr_ada, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/accounts/me", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication required.", "errors": []}


@pytest.mark.django_db
def test_a_revoked_token_or_inactive_user_is_refused(client, dr_ada):
    token, key = api_token_create(user=dr_ada)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/accounts/me", headers=headers).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert client.get("/api/v1/accounts/me", headers=headers).status_code == 401
    _, key2 = api_token_create(user=dr_ada)
    type(dr_ada).objects.filter(pk=dr_ada.pk).update(is_active=False)
    assert client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key2}"}).status_code == 401


@pytest.mark.django_db
def test_session_writes_need_the_csrf_token(dr_ada, patient_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(dr_ada)
    response = client.patch(
        f"/api/v1/patients/{patient_a.pk}", '{"phone": "0113 000"}', content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["detail"]
