"""Adding a staff member at /staff/new/: account and first role together, or nothing."""

import pytest

from cellclinic.accounts.models import User
from cellclinic.accounts.tests.helpers import NEW_PASSWORD, WRONG_ROLES, actions_since, roles_of, row_counts
from cellclinic.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/staff/new/"


def _form(at, **overrides) -> dict:
    data = {
        "username": "nina",
        "first_name": "Nina",
        "last_name": "Sato",
        "email": "nina@example.org",
        "role": "nurse",
        "site": at.pk,
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def test_it_creates_the_account_with_its_role_and_shows_the_new_page(client, admin_al, clinic_a):
    client.force_login(admin_al)
    response = client.post(URL, _form(clinic_a), follow=True)
    nina = User.objects.get(username="nina")
    assert response.redirect_chain == [(f"/staff/{nina.pk}/", 302)]
    assert (nina.first_name, nina.last_name, nina.email, nina.kind) == (
        "Nina",
        "Sato",
        "nina@example.org",
        "staff",
    )
    assert nina.is_active and nina.check_password(NEW_PASSWORD)
    assert roles_of(nina) == {("NCL", "nurse")}
    body = response.content.decode()
    assert "Nina Sato can now sign in as nina." in body
    assert "change the initial password" in body


def test_the_new_member_can_sign_in_with_the_initial_password(client, admin_al, clinic_a):
    client.force_login(admin_al)
    client.post(URL, _form(clinic_a))
    client.logout()
    response = client.post("/sign-in/", {"username": "nina", "password": NEW_PASSWORD})
    # Signed in with the password; a new staff member sets up the second factor before anything else.
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/two-factor/")
    assert client.get(response["Location"])["Location"].startswith("/sign-in/two-factor/set-up/")


def test_it_records_the_account_and_the_role_once_each(client, admin_al, clinic_a):
    client.force_login(admin_al)
    before = AuditEvent.objects.count()
    client.post(URL, _form(clinic_a))
    assert actions_since(before) == ["user.create", "membership.grant"]
    grant = AuditEvent.objects.get(action="membership.grant")
    assert grant.actor == admin_al
    assert grant.site == clinic_a
    assert grant.after == {"site": "NCL", "role": "nurse"}
    assert "password" not in AuditEvent.objects.get(action="user.create").after


def test_the_form_offers_only_the_admins_sites(client, admin_al, admin_two_sites, clinic_a, clinic_b, lab):
    client.force_login(admin_al)
    assert list(client.get(URL).context["form"].fields["site"].queryset) == [clinic_a]
    client.force_login(admin_two_sites)
    assert list(client.get(URL).context["form"].fields["site"].queryset) == [lab, clinic_a]


def test_an_admin_of_the_lab_adds_a_lab_technician(client, admin_two_sites, lab):
    client.force_login(admin_two_sites)
    response = client.post(URL, _form(lab, role="lab_technician"))
    assert response.status_code == 302
    assert roles_of(User.objects.get(username="nina")) == {("LAB", "lab_technician")}


def test_the_form_is_labelled_and_warns_about_the_initial_password(client, admin_al):
    client.force_login(admin_al)
    body = client.get(URL).content.decode()
    for name, label in [
        ("username", "Username"),
        ("first_name", "First name"),
        ("last_name", "Last name"),
        ("email", "Email"),
        ("role", "Role"),
        ("site", "Site"),
        ("password", "Initial password"),
    ]:
        assert f'<label for="id_{name}">{label}' in body
    assert 'type="password" name="password" autocomplete="new-password"' in body
    assert "change it under “My account” when they first sign in" in body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "ADA"}, "username"),
        ({"username": "has space"}, "username"),
        ({"first_name": ""}, "first_name"),
        ({"last_name": "   "}, "last_name"),
        ({"email": "not-an-email"}, "email"),
        ({"role": "surgeon"}, "role"),
        ({"role": ""}, "role"),
        ({"site": ""}, "site"),
        ({"password": "short", "password_again": "short"}, "password"),
        ({"password": "password123", "password_again": "password123"}, "password"),
        ({"password": "nina.sato.example", "password_again": "nina.sato.example"}, "password"),
        ({"password_again": "something else entirely"}, "password_again"),
    ],
)
def test_it_shows_invalid_input_inline_and_saves_nothing(
    client, admin_al, dr_ada, clinic_a, overrides, field
):
    client.force_login(admin_al)
    before = row_counts()
    response = client.post(URL, _form(clinic_a, **overrides))
    assert response.status_code == 422
    assert list(response.context["form"].errors) == [field]
    body = response.content.decode()
    assert "Nothing was saved." in body
    assert f'id="id_{field}_error"' in body
    assert row_counts() == before


def test_another_clinic_is_not_a_choice(client, admin_al, clinic_a, clinic_b, lab):
    client.force_login(admin_al)
    before = row_counts()
    for site in (clinic_b, lab):
        response = client.post(URL, _form(site))
        assert response.status_code == 422
        assert list(response.context["form"].errors) == ["site"]
    assert row_counts() == before


def test_another_clinics_admin_cannot_add_staff_at_north_clinic(client, admin_rex, clinic_a):
    client.force_login(admin_rex)
    before = row_counts()
    response = client.post(URL, _form(clinic_a))
    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["site"]
    assert row_counts() == before


def test_it_sends_anonymous_visitors_to_sign_in(client, clinic_a):
    before = row_counts()
    for response in (client.get(URL), client.post(URL, _form(clinic_a))):
        assert response.status_code == 302
        assert response["Location"] == "/sign-in/?next=/staff/new/"
    assert row_counts() == before


@pytest.mark.parametrize("user", WRONG_ROLES)
def test_it_is_not_found_for_anyone_but_clinic_admins(client, request, user, clinic_a):
    client.force_login(request.getfixturevalue(user))
    before = row_counts()
    assert client.get(URL).status_code == 404
    assert client.post(URL, _form(clinic_a)).status_code == 404
    assert row_counts() == before
