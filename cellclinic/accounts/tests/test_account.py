"""My account at /account/: who I am, my roles, and (staff) my API tokens."""

from datetime import UTC, datetime

import pytest

from cellclinic.accounts.models import ApiToken
from cellclinic.accounts.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

URL = "/account/"


def test_it_shows_name_username_and_roles(client, admin_two_sites):
    client.force_login(admin_two_sites)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["nav_active"] == "account"
    body = response.content.decode()
    assert "<dd>Tess Varga</dd>" in body
    assert '<dd class="mono">tess</dd>' in body
    assert "Clinic admin at Central Cell Lab<br>Clinic admin at North Clinic" in body


def test_it_lists_the_users_own_tokens_without_their_keys(client, dr_ada, nurse_bo):
    used, used_key = api_token_create(user=dr_ada, name="laptop")
    ApiToken.objects.filter(pk=used.pk).update(last_used_at=datetime(2026, 2, 1, 8, 15, tzinfo=UTC))
    revoked, revoked_key = api_token_create(user=dr_ada, name="old printer")
    api_token_revoke(token=revoked, actor=dr_ada)
    api_token_create(user=nurse_bo, name="bo's tablet")
    client.force_login(dr_ada)
    response = client.get(URL)
    assert [t.name for t in response.context["tokens"]] == ["old printer", "laptop"]
    body = response.content.decode()
    assert f"{used.prefix}…" in body and f"{revoked.prefix}…" in body
    assert "1 Feb 2026, 08:15" in body
    assert "Never" in body
    assert '<span class="badge badge-danger">Revoked' in body
    assert body.count('<span class="badge badge-ok">Active</span>') == 1
    assert f'action="/account/tokens/{used.pk}/revoke/"' in body
    assert f'action="/account/tokens/{revoked.pk}/revoke/"' not in body
    assert used_key not in body and revoked_key not in body
    assert "tablet" not in body


def test_it_offers_the_token_and_password_forms_to_staff(client, lab_li):
    client.force_login(lab_li)
    body = client.get(URL).content.decode()
    assert 'action="/account/tokens/"' in body
    assert '<label for="id_name">Token name' in body
    assert 'action="/account/password/"' in body
    assert '<label for="id_old_password">Current password' in body
    assert "You have no API token." in body


def test_a_patient_sees_their_account_and_password_form_but_no_tokens(client, pat):
    client.force_login(pat)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<dd class="mono">pat</dd>' in body
    assert 'action="/account/password/"' in body
    assert "API token" not in body
    assert "/account/tokens/" not in body
    assert "Roles" not in body


def test_it_pages_a_long_token_list(client, dr_ada):
    for i in range(23):
        api_token_create(user=dr_ada, name=f"t{i}")
    client.force_login(dr_ada)
    response = client.get(URL)
    assert len(response.context["tokens"]) == 20
    assert "Page 1 of 2" in response.content.decode()


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/account/"
