"""Two-factor sign-in: every staff account needs it, patients may opt in, clinic admins reset it."""

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cellclinic.accounts import second_factor
from cellclinic.accounts.services import (
    NO_SECOND_FACTOR,
    OWN_SECOND_FACTOR_RESET,
    WORKS_ELSEWHERE,
    second_factor_reset,
)
from cellclinic.audit.models import AuditEvent
from cellclinic.core.errors import InvalidInput
from conftest import PASSWORD
from tests.two_factor import TwoFactorClient, authenticator_of, current_code

pytestmark = pytest.mark.django_db

REASON = {"factor-reason": "Lost her phone; checked her staff card in person"}
STAFF_PAGES = ["/", "/patients/", "/account/", "/audit/", "/staff/"]


def _sign_in(client, username="ada", password=PASSWORD, next_url=""):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/sign-in/", data)


def _codes_on(response) -> list[str]:
    return re.findall(
        r"<li>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</li>", response.content.decode()
    )


# A password-only session reaches nothing


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_password_only_staff_session_reaches_no_page(password_only_client, admin_al, path):
    authenticator_of(admin_al)
    password_only_client.force_login(admin_al)
    response = password_only_client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/two-factor/?next=")


@pytest.mark.parametrize("path", ["/api/v1/accounts/me", "/api/v1/patients", "/api/v1/accounts/tokens"])
def test_a_password_only_staff_session_is_not_credentials_for_the_api(password_only_client, dr_ada, path):
    password_only_client.force_login(dr_ada)
    response = password_only_client.get(path)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_password_only_session_cannot_create_an_api_token(password_only_client, dr_ada):
    password_only_client.force_login(dr_ada)
    response = password_only_client.post(
        "/api/v1/accounts/tokens", {"name": "x"}, content_type="application/json"
    )
    assert response.status_code in (401, 403)
    response = password_only_client.post("/account/tokens/", {"name": "laptop"})
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/two-factor/")
    assert not dr_ada.api_tokens.exists()


def test_a_verified_session_works_for_pages_and_the_api(client, dr_ada):
    client.force_login(dr_ada)
    assert client.get("/patients/").status_code == 200
    assert client.get("/api/v1/accounts/me").status_code == 200


def test_api_tokens_keep_working_without_a_session(api_as, dr_ada):
    assert api_as(dr_ada).get("/api/v1/accounts/me").status_code == 200


# Enrolment at the first sign-in


def test_staff_without_an_authenticator_enrol_after_the_password(client, nurse_bo):
    response = _sign_in(client, "bo", next_url="/patients/")
    assert response["Location"] == "/sign-in/two-factor/?next=%2Fpatients%2F"
    response = client.get(response["Location"])
    assert response["Location"] == "/sign-in/two-factor/set-up/?next=%2Fpatients%2F"
    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in body and "<img" not in body.split("<main", 1)[-1]  # drawn here, no outside service
    device = TOTPDevice.objects.get(user=nurse_bo, confirmed=False)
    assert second_factor.secret_text(device) in body
    assert client.get("/patients/")["Location"].startswith("/sign-in/two-factor/")

    done = client.post("/sign-in/two-factor/set-up/", {"code": current_code(device), "next": "/patients/"})
    assert done.status_code == 200
    codes = _codes_on(done)
    assert len(codes) == second_factor.RECOVERY_CODE_COUNT
    assert "no-store" in done["Cache-Control"]
    stored = set(StaticToken.objects.filter(device__user=nurse_bo).values_list("token", flat=True))
    assert stored == {second_factor.recovery_code_hash(code) for code in codes}
    assert not stored & {second_factor.normalise_recovery_code(code) for code in codes}  # only hashes kept
    assert client.get("/patients/").status_code == 200
    assert AuditEvent.objects.filter(action="user.enrol_second_factor", object_id=str(nurse_bo.pk)).exists()


def test_a_wrong_code_does_not_confirm_the_authenticator(client, nurse_bo):
    _sign_in(client, "bo")
    client.get("/sign-in/two-factor/set-up/")
    wrong = client.post("/sign-in/two-factor/set-up/", {"code": "000000"})
    assert wrong.status_code == 422
    assert second_factor.WRONG_CODE in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=nurse_bo, confirmed=True).exists()
    assert client.get("/patients/").status_code == 302


def test_the_set_up_page_cannot_replace_a_confirmed_authenticator(password_only_client, dr_ada):
    authenticator_of(dr_ada)
    password_only_client.force_login(dr_ada)
    response = password_only_client.get("/sign-in/two-factor/set-up/")
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=dr_ada).count() == 1
    assert password_only_client.get("/patients/").status_code == 302


# Signing in with a code


def test_staff_with_an_authenticator_give_a_code_and_reach_the_page_they_asked_for(client, dr_ada):
    device = authenticator_of(dr_ada)
    response = _sign_in(client, next_url="/patients/")
    page = client.get(response["Location"])
    assert page.status_code == 200 and 'name="code"' in page.content.decode()
    right = client.post("/sign-in/two-factor/", {"code": current_code(device), "next": "/patients/"})
    assert right.status_code == 302 and right["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200


def test_a_wrong_code_leaves_the_session_unverified(client, dr_ada):
    authenticator_of(dr_ada)
    _sign_in(client)
    assert client.post("/sign-in/two-factor/", {"code": "123456"}).status_code == 422
    assert client.get("/patients/").status_code == 302


def test_the_next_page_must_be_on_this_site(client, dr_ada):
    device = authenticator_of(dr_ada)
    _sign_in(client)
    response = client.post(
        "/sign-in/two-factor/", {"code": current_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_a_recovery_code_signs_in_once(client, nurse_bo):
    device = TOTPDevice.objects.create(user=nurse_bo, name="app", confirmed=False)
    _, codes = second_factor.enrolment_confirm(user=nurse_bo, code=current_code(device))
    _sign_in(client, "bo")
    response = client.post("/sign-in/two-factor/", {"code": codes[0].upper(), "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert second_factor.recovery_codes_left(nurse_bo) == second_factor.RECOVERY_CODE_COUNT - 1
    assert AuditEvent.objects.filter(action="user.use_recovery_code").count() == 1
    again = Client()
    _sign_in(again, "bo")
    assert again.post("/sign-in/two-factor/", {"code": codes[0], "next": "/"}).status_code == 422


def test_wrong_codes_count_towards_the_sign_in_pause(client, dr_ada, settings):
    authenticator_of(dr_ada)
    _sign_in(client)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/sign-in/two-factor/", {"code": "000000"})
    response = client.post("/sign-in/two-factor/", {"code": "000000"})
    assert response.status_code == 429
    assert _sign_in(Client()).status_code == 429


# Patients opt in


def test_a_patient_without_a_second_factor_signs_in_with_the_password(client, pat):
    response = _sign_in(client, "pat")
    assert not response["Location"].startswith("/sign-in/two-factor/")
    assert client.get("/account/").status_code == 200


def test_a_patient_turns_it_on_from_the_account_page_and_then_needs_it(client, pat):
    client.force_login(pat)
    body = client.get("/account/").content.decode()
    assert "Set up two-factor sign-in" in body
    client.get("/sign-in/two-factor/set-up/?next=/account/")
    device = TOTPDevice.objects.get(user=pat)
    done = client.post("/sign-in/two-factor/set-up/", {"code": current_code(device), "next": "/account/"})
    assert len(_codes_on(done)) == second_factor.RECOVERY_CODE_COUNT
    browser = Client()
    response = _sign_in(browser, "pat")
    assert response["Location"].startswith("/sign-in/two-factor/")
    assert browser.get("/account/").status_code == 302
    assert browser.get("/api/v1/accounts/me").status_code == 401


# Clinic admins reset a staff member's second factor


def test_a_clinic_admin_resets_a_staff_members_second_factor(client, admin_al, nurse_bo):
    nurse_browser = TwoFactorClient()
    nurse_browser.force_login(nurse_bo)
    assert nurse_browser.get("/patients/").status_code == 200
    client.force_login(admin_al)
    assert "Reset second factor" in client.get(f"/staff/{nurse_bo.pk}/").content.decode()
    response = client.post(f"/staff/{nurse_bo.pk}/two-factor/reset/", REASON)
    assert response.status_code == 302
    assert not second_factor.has_second_factor(nurse_bo)
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.actor_id, event.object_id) == (
        "user.reset_second_factor",
        admin_al.pk,
        str(nurse_bo.pk),
    )
    assert event.reason == REASON["factor-reason"] and event.after["sessions_ended"] == 1
    assert nurse_browser.get("/patients/")["Location"] == "/sign-in/?next=/patients/"


def test_a_reset_needs_a_reason_and_a_second_factor(client, admin_al, nurse_bo):
    client.force_login(admin_al)
    assert client.post(f"/staff/{nurse_bo.pk}/two-factor/reset/", {}).status_code == 422
    with pytest.raises(InvalidInput) as error:
        second_factor_reset(user=nurse_bo, actor=admin_al, reason="lost phone")
    assert error.value.errors[0].message == NO_SECOND_FACTOR


def test_nobody_resets_their_own_second_factor(admin_al):
    authenticator_of(admin_al)
    with pytest.raises(InvalidInput) as error:
        second_factor_reset(user=admin_al, actor=admin_al, reason="lost phone")
    assert error.value.errors[0].message == OWN_SECOND_FACTOR_RESET


def test_only_an_admin_of_every_site_they_work_at_resets_it(client, admin_al, shared_nurse):
    authenticator_of(shared_nurse)
    with pytest.raises(InvalidInput) as error:
        second_factor_reset(user=shared_nurse, actor=admin_al, reason="lost phone")
    assert error.value.errors[0].message == WORKS_ELSEWHERE
    assert second_factor.has_second_factor(shared_nurse)


@pytest.mark.parametrize("user", ["dr_ada", "admin_rex"])
def test_anyone_else_gets_not_found(client, request, user, nurse_bo):
    authenticator_of(nurse_bo)
    client.force_login(request.getfixturevalue(user))
    assert client.post(f"/staff/{nurse_bo.pk}/two-factor/reset/", REASON).status_code == 404
    assert second_factor.has_second_factor(nurse_bo)
