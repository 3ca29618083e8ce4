"""A staff member's page at /staff/<id>/."""

import pytest

from cellclinic.accounts.models import User
from cellclinic.accounts.tests.helpers import WRONG_ROLES
from cellclinic.patients.tests.helpers import page_text

pytestmark = pytest.mark.django_db


def _url(user) -> str:
    return f"/staff/{user.pk}/"


def test_it_shows_the_account_and_its_roles_at_the_admins_sites(client, admin_al, shared_nurse):
    client.force_login(admin_al)
    response = client.get(_url(shared_nurse))
    assert response.status_code == 200
    assert response.context["nav_active"] == "staff"
    assert [(m.site.code, m.role) for m in response.context["memberships"]] == [("NCL", "nurse")]
    body = response.content.decode()
    assert "<h1>Sam Okoro</h1>" in body
    assert "sam@example.org" in body
    assert "Riverside" not in body
    assert f'action="/staff/{shared_nurse.pk}/roles/"' in body


def test_it_offers_revoke_grant_deactivate_and_password_forms_with_csrf(client, admin_al, dr_ada):
    client.force_login(admin_al)
    response = client.get(_url(dr_ada))
    body = response.content.decode()
    membership = dr_ada.memberships.get()
    assert f'action="/staff/{dr_ada.pk}/roles/{membership.pk}/revoke/"' in body
    assert f'action="/staff/{dr_ada.pk}/deactivate/"' in body
    assert '<label for="id_reason">Reason' in body
    assert '<label for="id_site">Site' in body and '<label for="id_role">Role' in body
    assert f'action="/staff/{dr_ada.pk}/password/"' in body
    assert '<label for="id_reset-password">New password' in body
    # revoke, grant, deactivate, new password, sign out
    assert body.count('name="csrfmiddlewaretoken"') == 5


def test_an_inactive_member_is_offered_reactivation(client, admin_al, dr_ada):
    User.objects.filter(pk=dr_ada.pk).update(is_active=False)
    client.force_login(admin_al)
    body = client.get(_url(dr_ada)).content.decode()
    assert f'action="/staff/{dr_ada.pk}/reactivate/"' in body
    assert "/deactivate/" not in body
    assert "Deactivated: cannot sign in" in body


def test_the_admin_is_not_offered_to_deactivate_themself(client, admin_al):
    client.force_login(admin_al)
    body = client.get(_url(admin_al)).content.decode()
    assert "/deactivate/" not in body
    assert "This is your own account" in body


def test_someone_who_works_elsewhere_too_is_not_offered_deactivation(client, admin_al, shared_nurse):
    client.force_login(admin_al)
    body = client.get(_url(shared_nurse)).content.decode()
    assert "/deactivate/" not in body
    assert "also works at sites you do not manage" in body


def test_another_clinics_staff_are_not_found(client, admin_al, dr_cy, lab_li):
    client.force_login(admin_al)
    assert client.get(_url(dr_cy)).status_code == 404
    assert client.get(_url(lab_li)).status_code == 404


def test_another_clinics_admin_cannot_see_north_clinic_staff(client, admin_rex, dr_ada):
    client.force_login(admin_rex)
    response = client.get(_url(dr_ada))
    assert response.status_code == 404
    assert "Okafor" not in response.content.decode()


def test_a_missing_member_answers_like_another_clinics(client, admin_al, dr_cy):
    client.force_login(admin_al)
    other = client.get(_url(dr_cy))
    missing = client.get(f"/staff/{dr_cy.pk + 1000}/")
    assert other.status_code == missing.status_code == 404
    assert page_text(other) == page_text(missing)


def test_a_patient_portal_account_is_not_a_staff_member(client, admin_al, pat):
    client.force_login(admin_al)
    assert client.get(_url(pat)).status_code == 404


def test_it_sends_anonymous_visitors_to_sign_in(client, dr_ada):
    response = client.get(_url(dr_ada))
    assert response.status_code == 302
    assert response["Location"] == f"/sign-in/?next=/staff/{dr_ada.pk}/"


@pytest.mark.parametrize("user", WRONG_ROLES)
def test_it_is_not_found_for_anyone_but_clinic_admins(client, request, user, admin_al):
    client.force_login(request.getfixturevalue(user))
    assert client.get(_url(admin_al)).status_code == 404
