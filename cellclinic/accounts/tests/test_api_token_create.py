"""POST /api/v1/accounts/tokens: a new token for the caller, its key returned once."""

import pytest

from cellclinic.accounts.models import ApiToken
from cellclinic.accounts.tests.helpers import actions_since, field_errors, row_counts
from cellclinic.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounts/tokens"


def test_it_creates_a_token_and_returns_the_key_once(api_as, client, lab_li):
    response = api_as(lab_li).post(URL, {"name": "label printer"})
    assert response.status_code == 201
    body = response.json()
    token = ApiToken.objects.get(pk=body["id"])
    assert set(body) == {"id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "key"}
    assert (body["name"], body["prefix"], body["revoked_at"], body["last_used_at"]) == (
        "label printer",
        token.prefix,
        None,
        None,
    )
    assert body["key"].startswith("cc_") and body["key"][:8] == token.prefix
    assert token.user == lab_li
    listed = api_as(lab_li).get(URL).json()
    assert body["key"] not in str(listed)


def test_only_the_hash_of_the_key_is_stored(api_as, lab_li):
    key = api_as(lab_li).post(URL, {"name": "label printer"}).json()["key"]
    token = ApiToken.objects.get(name="label printer")
    assert token.key_hash == ApiToken.hash_key(key)
    assert key not in " ".join(str(v) for v in ApiToken.objects.filter(pk=token.pk).values().get().values())


def test_the_new_key_authenticates_as_the_caller(api_as, client, lab_li):
    key = api_as(lab_li).post(URL, {"name": "label printer"}).json()["key"]
    response = client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key}"})
    assert response.json()["username"] == "li"


def test_it_records_one_event(api_as, lab_li):
    api = api_as(lab_li)
    before = AuditEvent.objects.count()
    api.post(URL, {"name": "label printer"})
    assert actions_since(before) == ["api_token.create"]
    assert AuditEvent.objects.filter(action="api_token.create").last().actor == lab_li


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": 7}, "name"),
        ({"name": "ok", "user": "ada"}, "user"),
    ],
)
def test_it_rejects_invalid_input_naming_the_field(api_as, lab_li, body, field):
    api = api_as(lab_li)
    before = row_counts()
    response = api.post(URL, body)
    assert response.status_code == 422
    assert field_errors(response) == [field]
    assert row_counts() == before


def test_it_requires_authentication(api_as):
    before = row_counts()
    assert api_as(None).post(URL, {"name": "x"}).status_code == 401
    assert row_counts() == before


def test_a_patient_cannot_create_a_token(api_as, pat):
    api = api_as(pat)
    before = row_counts()
    response = api.post(URL, {"name": "mine"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": []}
    assert row_counts() == before
