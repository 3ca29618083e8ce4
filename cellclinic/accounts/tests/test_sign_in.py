import pytest

from cellclinic.accounts.models import User
from conftest import PASSWORD
from tests.two_factor import authenticator_of, current_code


def test_production_hashes_passwords_with_argon2():
    from cellclinic import settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.django_db
def test_passwords_are_stored_as_argon2_hashes(dr_ada):
    assert dr_ada.password.startswith("argon2$argon2id$")
    assert PASSWORD not in dr_ada.password
    assert dr_ada.check_password(PASSWORD)


@pytest.mark.django_db
def test_it_signs_in_and_out(client, dr_ada):
    device = authenticator_of(dr_ada)
    response = client.post("/sign-in/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302
    response = client.post("/sign-in/two-factor/", {"code": current_code(device), "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    response = client.post("/sign-out/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_a_wrong_password_shows_an_error_and_does_not_sign_in(client, dr_ada):
    response = client.post("/sign-in/", {"username": "ada", "password": "wrong"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_sign_out_needs_a_post(client, dr_ada):
    client.force_login(dr_ada)
    assert client.get("/sign-out/").status_code == 405


@pytest.mark.django_db
def test_an_inactive_user_cannot_sign_in(client, dr_ada):
    User.objects.filter(pk=dr_ada.pk).update(is_active=False)
    response = client.post("/sign-in/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_repeated_failures_pause_signing_in_even_with_the_right_password(client, dr_ada, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/sign-in/", {"username": "ada", "password": "guess"})
    assert response.status_code == 429
    assert b"Signing in is paused" in response.content
    response = client.post("/sign-in/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 429
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_a_lockout_of_one_account_does_not_lock_another(client, dr_ada, nurse_bo, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/sign-in/", {"username": "ada", "password": "guess"})
    response = client.post("/sign-in/", {"username": "bo", "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.django_db
def test_password_spraying_from_one_address_pauses_that_address(client, dr_ada, nurse_bo, settings):
    """Many usernames, one failure each: no username reaches its limit, the address does."""
    assert settings.SIGN_IN_ADDRESS_FAILURE_LIMIT > settings.AXES_FAILURE_LIMIT
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 6
    for number in range(6):
        response = client.post("/sign-in/", {"username": f"user{number}", "password": "Summer2026!"})
        assert response.status_code == 200
    response = client.post("/sign-in/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 429
    assert b"Signing in is paused" in response.content
    assert client.get("/").status_code == 302
    # Another address is not paused.
    response = client.post("/sign-in/", {"username": "bo", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302


@pytest.mark.django_db
def test_the_address_pause_ends_with_the_cool_off(client, dr_ada, settings):
    import time

    import time_machine

    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 3
    for number in range(3):
        client.post("/sign-in/", {"username": f"user{number}", "password": "guess"})
    assert client.post("/sign-in/", {"username": "ada", "password": PASSWORD}).status_code == 429
    later = time.time() + settings.AXES_COOLOFF_TIME.total_seconds() + 60
    with time_machine.travel(later, tick=False):
        assert client.post("/sign-in/", {"username": "ada", "password": PASSWORD}).status_code == 302
