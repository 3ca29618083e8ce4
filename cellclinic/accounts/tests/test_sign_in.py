import pytest

from cellclinic.accounts.models import User
from conftest import PASSWORD


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
    response = client.post("/sign-in/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302
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
