"""GET /api/v1/accounts/tokens: the caller's own tokens, never their keys."""

import pytest

from cellclinic.accounts.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounts/tokens"


def test_it_lists_only_the_callers_tokens_newest_first(api_as, dr_ada, nurse_bo):
    laptop, laptop_key = api_token_create(user=dr_ada, name="laptop")
    api_token_revoke(token=laptop, actor=dr_ada)
    api_token_create(user=nurse_bo, name="tablet")
    api = api_as(dr_ada)  # a third token, named "cli"
    body = api.get(URL).json()
    assert body["count"] == 2
    assert [(i["name"], i["revoked_at"] is not None) for i in body["items"]] == [
        ("cli", False),
        ("laptop", True),
    ]
    assert set(body["items"][0]) == {"id", "name", "prefix", "created_at", "last_used_at", "revoked_at"}
    assert laptop_key not in str(body)


def test_it_pages_with_limit_and_offset(api_as, dr_ada):
    for i in range(4):
        api_token_create(user=dr_ada, name=f"t{i}")
    api = api_as(dr_ada)
    assert [i["name"] for i in api.get(URL, limit=2, offset=1).json()["items"]] == ["t3", "t2"]
    assert api.get(URL, limit=0).status_code == 422


def test_it_requires_authentication(api_as):
    assert api_as(None).get(URL).status_code == 401


def test_a_patient_gets_not_found(api_as, pat):
    assert api_as(pat).get(URL).status_code == 404
