"""Changing one's own password at /account/password/ (POST)."""

import pytest
from django.test import Client

from cellclinic.accounts.models import User
from cellclinic.accounts.services import SAME_PASSWORD, WRONG_OLD_PASSWORD
from cellclinic.accounts.tests.helpers import NEW_PASSWORD, actions_since, row_counts
from cellclinic.audit.models import AuditEvent
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/account/password/"


def _form(**overrides) -> dict:
    data = {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    data.update(overrides)
    return data


@pytest.mark.parametrize("user", ["dr_ada", "pat"])
def test_it_changes_the_password_and_keeps_the_session(client, request, user):
    person = request.getfixturevalue(user)
    client.force_login(person)
    response = client.post(URL, _form(), follow=True)
    assert response.redirect_chain == [("/account/", 302)]
    assert "Your password is changed." in response.content.decode()
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD) and not person.check_password(PASSWORD)
    assert client.get("/account/").status_code == 200


def test_the_new_password_signs_in_and_the_old_does_not(client, dr_ada):
    client.force_login(dr_ada)
    client.post(URL, _form())
    client.logout()
    assert client.post("/sign-in/", {"username": "ada", "password": PASSWORD}).status_code == 200
    assert client.post("/sign-in/", {"username": "ada", "password": NEW_PASSWORD}).status_code == 302


def test_other_signed_in_browsers_are_signed_out(client, dr_ada):
    other = Client()
    other.force_login(dr_ada)
    client.force_login(dr_ada)
    client.post(URL, _form())
    assert other.get("/account/").status_code == 302


def test_it_records_one_event_without_the_password(client, dr_ada):
    client.force_login(dr_ada)
    before = AuditEvent.objects.count()
    client.post(URL, _form())
    assert actions_since(before) == ["user.change_password"]
    event = AuditEvent.objects.get(action="user.change_password")
    assert (event.actor, event.object_type, event.object_id) == (dr_ada, "user", str(dr_ada.pk))
    assert event.before is None and event.after is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"old_password": "not my password"}, "old_password", WRONG_OLD_PASSWORD),
        ({"old_password": ""}, "old_password", "This field is required."),
        ({"new_password": ""}, "new_password", "This field is required."),
        ({"new_password": "short", "new_password_again": "short"}, "new_password", "too short"),
        ({"new_password": "password123", "new_password_again": "password123"}, "new_password", "too common"),
        (
            {"new_password": "adaokafor1", "new_password_again": "adaokafor1"},
            "new_password",
            "too similar",
        ),
        ({"new_password": PASSWORD, "new_password_again": PASSWORD}, "new_password", SAME_PASSWORD),
        ({"new_password_again": "a different phrase"}, "new_password_again", "The two passwords differ."),
    ],
)
def test_it_refuses_bad_input_inline_and_changes_nothing(client, dr_ada, overrides, field, message):
    client.force_login(dr_ada)
    before = row_counts()
    response = client.post(URL, _form(**overrides))
    assert response.status_code == 422
    errors = response.context["password_form"].errors
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    body = response.content.decode()
    assert "Your password was not changed." in body
    assert f'id="id_{field}_error"' in body
    assert row_counts() == before
    assert User.objects.get(pk=dr_ada.pk).check_password(PASSWORD)


def test_it_sends_anonymous_visitors_to_sign_in(client, dr_ada):
    before = row_counts()
    response = client.post(URL, _form())
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/account/password/"
    assert row_counts() == before


def test_it_needs_a_post(client, dr_ada):
    client.force_login(dr_ada)
    assert client.get(URL).status_code == 405


def test_repeated_wrong_current_passwords_pause_password_entry(client, dr_ada, settings):
    from cellclinic.accounts.throttle import PAUSED

    client.force_login(dr_ada)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(URL, _form(old_password="a guess"))
    response = client.post(URL, _form())
    assert response.status_code == 429
    assert PAUSED in response.content.decode()
    dr_ada.refresh_from_db()
    assert dr_ada.check_password(PASSWORD)
    assert Client().post("/sign-in/", {"username": "ada", "password": PASSWORD}).status_code == 429
