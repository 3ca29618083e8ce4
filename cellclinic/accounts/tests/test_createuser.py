"""cellclinic createuser USERNAME --role ROLE [--site CODE] [--token]"""

import io

import pytest
from django.core.management import CommandError, call_command

from cellclinic.accounts.models import ApiToken, Membership, User
from cellclinic.audit.models import AuditEvent


def run(*args, **env):
    out = io.StringIO()
    call_command("createuser", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_it_creates_a_user_at_the_first_clinic_with_a_token(monkeypatch, clinic_a, clinic_b, client):
    monkeypatch.setenv("CELLCLINIC_PASSWORD", "a long enough passphrase")
    output = run("nina", "--role", "nurse", "--token")
    user = User.objects.get(username="nina")
    assert user.check_password("a long enough passphrase")
    assert list(Membership.objects.filter(user=user).values_list("site__code", "role")) == [("NCL", "nurse")]
    key = output.strip().splitlines()[-1]
    assert key.startswith("cc_")
    assert ApiToken.objects.filter(user=user, key_hash=ApiToken.hash_key(key)).exists()
    response = client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key}"})
    assert response.json()["username"] == "nina"
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {"user.create", "membership.grant"}


@pytest.mark.django_db
def test_it_uses_the_named_site(monkeypatch, clinic_a, clinic_b, lab):
    monkeypatch.setenv("CELLCLINIC_PASSWORD", "a long enough passphrase")
    run("tech", "--role", "lab_technician", "--site", "lab")
    assert Membership.objects.get(user__username="tech").site == lab


@pytest.mark.django_db
def test_an_unknown_site_is_named_and_nothing_is_created(monkeypatch, clinic_a):
    monkeypatch.setenv("CELLCLINIC_PASSWORD", "a long enough passphrase")
    with pytest.raises(CommandError, match=r"--site: no site with code 'XYZ' \(known: LAB, NCL\)"):
        run("tech", "--role", "nurse", "--site", "XYZ")
    assert not User.objects.filter(username="tech").exists()


@pytest.mark.django_db
def test_a_weak_password_is_refused_and_nothing_is_created(monkeypatch, clinic_a):
    monkeypatch.setenv("CELLCLINIC_PASSWORD", "short")
    with pytest.raises(CommandError, match="password: This password is too short"):
        run("weak", "--role", "nurse", "--token")
    assert not User.objects.filter(username="weak").exists()
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_a_taken_username_is_refused(monkeypatch, dr_ada):
    monkeypatch.setenv("CELLCLINIC_PASSWORD", "a long enough passphrase")
    with pytest.raises(CommandError, match="username: 'ADA' is already taken"):
        run("ADA", "--role", "nurse")


@pytest.mark.django_db
def test_without_a_password_or_terminal_it_explains(monkeypatch, clinic_a):
    monkeypatch.delenv("CELLCLINIC_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="CELLCLINIC_PASSWORD"):
        run("nopass", "--role", "nurse")


@pytest.mark.django_db
def test_an_unknown_role_is_refused(monkeypatch, clinic_a):
    monkeypatch.setenv("CELLCLINIC_PASSWORD", "a long enough passphrase")
    with pytest.raises(CommandError, match="invalid choice: 'surgeon'"):
        run("x", "--role", "surgeon")
