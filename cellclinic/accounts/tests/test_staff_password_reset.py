"""An admin sets a new password at /staff/<id>/password/ (POST); it also lifts a sign-in lockout."""

import pytest
from django.test import Client

from cellclinic.accounts.services import OWN_PASSWORD_RESET, WORKS_ELSEWHERE
from cellclinic.accounts.tests.helpers import NEW_PASSWORD, WRONG_ROLES, actions_since, row_counts
from cellclinic.audit.models import AuditEvent
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

REASON = "Forgot the password after leave"


def _url(user) -> str:
    return f"/staff/{user.pk}/password/"


def _data(password=NEW_PASSWORD, again=None, reason=REASON) -> dict:
    return {"reset-password": password, "reset-password_again": again or password, "reset-reason": reason}


def _sign_in(username: str, password: str) -> int:
    return Client().post("/sign-in/", {"username": username, "password": password}).status_code


def test_it_sets_the_password_and_records_one_event_without_it(client, admin_al, nurse_bo):
    before = AuditEvent.objects.count()
    client.force_login(admin_al)
    response = client.post(_url(nurse_bo), _data(), follow=True)
    assert response.redirect_chain == [(f"/staff/{nurse_bo.pk}/", 302)]
    nurse_bo.refresh_from_db()
    assert nurse_bo.check_password(NEW_PASSWORD)
    assert actions_since(before) == ["user.reset_password"]
    event = AuditEvent.objects.latest("id")
    assert event.reason == REASON
    assert NEW_PASSWORD not in str(event.after) and NEW_PASSWORD not in event.reason


def test_it_lifts_a_sign_in_lockout(client, admin_al, nurse_bo, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in("bo", "wrong guess")
    assert _sign_in("bo", PASSWORD) == 429
    client.force_login(admin_al)
    client.post(_url(nurse_bo), _data())
    assert AuditEvent.objects.latest("id").after == {"sign_in_lockout_lifted": True, "api_tokens_revoked": []}
    assert _sign_in("bo", NEW_PASSWORD) == 302


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (_data(password="short"), "password"),
        (_data(again="something else entirely"), "password_again"),
        (_data(reason=""), "reason"),
    ],
)
def test_bad_input_is_named_and_changes_nothing(client, admin_al, nurse_bo, data, field):
    counts = row_counts()
    client.force_login(admin_al)
    response = client.post(_url(nurse_bo), data)
    assert response.status_code == 422
    assert field in response.context["reset_form"].errors
    nurse_bo.refresh_from_db()
    assert nurse_bo.check_password(PASSWORD)
    assert row_counts() == counts


def test_an_admin_cannot_reset_their_own_password_here(client, admin_al):
    client.force_login(admin_al)
    response = client.post(_url(admin_al), _data())
    assert response.status_code == 422
    assert OWN_PASSWORD_RESET in response.content.decode()
    admin_al.refresh_from_db()
    assert admin_al.check_password(PASSWORD)


def test_someone_who_also_works_elsewhere_is_left_alone(client, admin_al, shared_nurse):
    client.force_login(admin_al)
    response = client.post(_url(shared_nurse), _data())
    assert response.status_code == 422
    assert WORKS_ELSEWHERE in response.content.decode()
    shared_nurse.refresh_from_db()
    assert shared_nurse.check_password(PASSWORD)


@pytest.mark.parametrize("persona", WRONG_ROLES)
def test_other_roles_get_not_found(client, request, persona, nurse_bo):
    client.force_login(request.getfixturevalue(persona))
    counts = row_counts()
    assert client.post(_url(nurse_bo), _data()).status_code == 404
    assert row_counts() == counts


def test_an_admin_of_another_clinic_gets_not_found(client, admin_rex, nurse_bo):
    client.force_login(admin_rex)
    assert client.post(_url(nurse_bo), _data()).status_code == 404
    nurse_bo.refresh_from_db()
    assert nurse_bo.check_password(PASSWORD)


def test_anonymous_is_sent_to_sign_in(client, nurse_bo):
    response = client.post(_url(nurse_bo), _data())
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")
