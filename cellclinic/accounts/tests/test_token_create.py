"""Creating an API token at /account/tokens/ (POST): the key is shown once, only its hash is kept."""

import pytest

from cellclinic.accounts.models import ApiToken
from cellclinic.accounts.tests.helpers import actions_since, row_counts
from cellclinic.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/account/tokens/"


def test_it_shows_the_new_key_once_with_a_warning(client, lab_li):
    client.force_login(lab_li)
    response = client.post(URL, {"name": "label printer"})
    assert response.status_code == 201
    key = response.context["key"]
    assert key.startswith("cc_")
    body = response.content.decode()
    assert f'value="{key}"' in body
    assert "This is the only time the token is shown." in body
    assert "no-store" in response["Cache-Control"]
    assert key not in client.get("/account/").content.decode()


def test_only_the_hash_of_the_key_is_stored(client, lab_li):
    client.force_login(lab_li)
    key = client.post(URL, {"name": "label printer"}).context["key"]
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.prefix) == (lab_li, "label printer", key[:8])
    assert token.key_hash == ApiToken.hash_key(key)
    stored = [str(value) for value in ApiToken.objects.values_list(flat=False).get()]
    assert key not in " ".join(stored)


def test_the_new_key_authenticates_as_the_user(client, lab_li):
    client.force_login(lab_li)
    key = client.post(URL, {"name": "label printer"}).context["key"]
    client.logout()
    response = client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key}"})
    assert response.json()["username"] == "li"


def test_it_records_one_event_without_the_key(client, lab_li):
    client.force_login(lab_li)
    before = AuditEvent.objects.count()
    key = client.post(URL, {"name": "label printer"}).context["key"]
    assert actions_since(before) == ["api_token.create"]
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.actor == lab_li
    assert event.after == {"user": "li", "name": "label printer", "prefix": key[:8]}


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_it_refuses_a_bad_name_inline_and_creates_nothing(client, lab_li, name):
    client.force_login(lab_li)
    before = row_counts()
    response = client.post(URL, {"name": name})
    assert response.status_code == 422
    assert list(response.context["token_form"].errors) == ["name"]
    assert 'id="id_name_error"' in response.content.decode()
    assert row_counts() == before


def test_a_patient_cannot_create_a_token(client, pat):
    client.force_login(pat)
    before = row_counts()
    assert client.post(URL, {"name": "mine"}).status_code == 404
    assert row_counts() == before


def test_it_sends_anonymous_visitors_to_sign_in(client):
    before = row_counts()
    response = client.post(URL, {"name": "mine"})
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=")
    assert row_counts() == before


def test_it_needs_a_post(client, lab_li):
    client.force_login(lab_li)
    assert client.get(URL).status_code == 405
