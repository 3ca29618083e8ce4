"""Session lifetime and idle timeout, the session id at sign-in, and what a new password revokes."""

import time

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client

from cellclinic.accounts.services import api_token_create
from cellclinic.accounts.tests.helpers import NEW_PASSWORD
from conftest import PASSWORD
from tests.two_factor import TwoFactorClient, authenticator_of, current_code

pytestmark = pytest.mark.django_db


def _minutes_later(minutes: float):
    return time_machine.travel(time.time() + minutes * 60, tick=False)


# The session id changes whenever the session gains privileges


def test_the_session_id_rotates_at_sign_in_and_at_the_second_factor(dr_ada):
    device = authenticator_of(dr_ada)
    client = Client()
    anonymous = client.session
    anonymous["seen"] = True
    anonymous.save()
    before = client.cookies["sessionid"].value
    client.post("/sign-in/", {"username": "ada", "password": PASSWORD})
    after_password = client.cookies["sessionid"].value
    assert after_password != before
    assert not Session.objects.filter(session_key=before).exists()
    client.post("/sign-in/two-factor/", {"code": current_code(device)})
    after_code = client.cookies["sessionid"].value
    assert after_code != after_password
    assert not Session.objects.filter(session_key=after_password).exists()
    assert client.get("/patients/").status_code == 200


# Idle timeout (staff) and the longest a session lasts (everyone)


def test_a_staff_session_ends_after_the_idle_timeout(client, dr_ada, settings):
    assert settings.STAFF_IDLE_TIMEOUT_MINUTES == 15
    client.force_login(dr_ada)
    with _minutes_later(14):
        assert client.get("/patients/").status_code == 200
    with _minutes_later(14 + 16):
        response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=%2Fpatients%2F"
    assert client.get("/patients/").status_code == 302


def test_an_idle_session_is_not_credentials_for_the_api(client, dr_ada):
    client.force_login(dr_ada)
    with _minutes_later(16):
        assert client.get("/api/v1/accounts/me").status_code == 401


def test_the_idle_timeout_is_a_setting(client, dr_ada, settings):
    settings.STAFF_IDLE_TIMEOUT_MINUTES = 30
    client.force_login(dr_ada)
    with _minutes_later(20):
        assert client.get("/patients/").status_code == 200


def test_activity_keeps_a_session_open_until_its_longest_lifetime(client, dr_ada, settings):
    assert settings.SESSION_MAX_HOURS == 12
    client.force_login(dr_ada)
    minutes = 0
    while minutes < 12 * 60 - 10:
        minutes += 10
        with _minutes_later(minutes):
            assert client.get("/patients/").status_code == 200, minutes
    with _minutes_later(12 * 60 + 5):
        assert client.get("/patients/").status_code == 302


def test_a_patient_session_has_no_idle_timeout_but_the_same_longest_lifetime(client, pat, settings):
    settings.SESSION_MAX_HOURS = 2
    client.force_login(pat)
    with _minutes_later(60):
        assert client.get("/account/").status_code == 200
    with _minutes_later(125):
        assert client.get("/account/").status_code == 302


# A new password revokes API tokens and ends other sessions


def test_changing_the_password_revokes_api_tokens_and_other_sessions(client, dr_ada):
    _, key = api_token_create(user=dr_ada, name="laptop")
    other = TwoFactorClient()
    other.force_login(dr_ada)
    client.force_login(dr_ada)
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert Client().get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert other.get("/patients/").status_code == 302
    assert client.get("/patients/").status_code == 200


def test_a_password_reset_revokes_api_tokens_and_sessions(client, admin_al, nurse_bo):
    _, key = api_token_create(user=nurse_bo, name="laptop")
    nurse_browser = TwoFactorClient()
    nurse_browser.force_login(nurse_bo)
    client.force_login(admin_al)
    client.post(
        f"/staff/{nurse_bo.pk}/password/",
        {"reset-password": NEW_PASSWORD, "reset-password_again": NEW_PASSWORD, "reset-reason": "Forgot it"},
    )
    assert Client().get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert nurse_browser.get("/patients/").status_code == 302


# No copy of anything personal in a cache


@pytest.mark.parametrize("path", ["/", "/patients/", "/account/"])
def test_pages_for_a_signed_in_user_are_not_stored(client, dr_ada, path):
    client.force_login(dr_ada)
    response = client.get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and response["Pragma"] == "no-cache"


def test_a_redirect_to_the_second_factor_is_not_stored_either(password_only_client, dr_ada):
    password_only_client.force_login(dr_ada)
    assert "no-store" in password_only_client.get("/patients/")["Cache-Control"]


@pytest.mark.parametrize("path", ["/api/v1/accounts/me", "/api/v1/patients", "/api/v1/catalogue/therapies"])
def test_api_answers_are_not_stored(api_as, dr_ada, path):
    response = api_as(dr_ada).get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and response["Pragma"] == "no-cache"


def test_api_refusals_are_not_stored_either(api_as):
    response = api_as(None).get("/api/v1/patients")
    assert response.status_code == 401 and "no-store" in response["Cache-Control"]


def test_a_patients_portal_is_not_stored(client, pat):
    client.force_login(pat)
    response = client.get("/patients/portal/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
