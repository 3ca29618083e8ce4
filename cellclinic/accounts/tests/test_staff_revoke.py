"""Revoking a role at /staff/<id>/roles/<membership id>/revoke/ (POST)."""

import pytest

from cellclinic.accounts.models import Membership
from cellclinic.accounts.services import LAST_ADMIN_ROLE
from cellclinic.accounts.tests.helpers import WRONG_ROLES, actions_since, roles_of, row_counts
from cellclinic.audit.models import AuditEvent
from conftest import make_user

pytestmark = pytest.mark.django_db


def _url(membership) -> str:
    return f"/staff/{membership.user_id}/roles/{membership.pk}/revoke/"


def _role(user, code: str, role: str) -> Membership:
    return Membership.objects.get(user=user, site__code=code, role=role)


def test_it_revokes_one_role_and_returns_to_the_page(client, admin_al, nurse_bo, clinic_a):
    Membership.objects.create(user=nurse_bo, site=clinic_a, role="practitioner")
    client.force_login(admin_al)
    response = client.post(_url(_role(nurse_bo, "NCL", "nurse")), follow=True)
    assert response.redirect_chain == [(f"/staff/{nurse_bo.pk}/", 302)]
    assert "Bo Lindqvist is no longer Nurse at North Clinic." in response.content.decode()
    assert roles_of(nurse_bo) == {("NCL", "practitioner")}


def test_it_records_one_event_with_the_roles_before_and_after(client, admin_al, nurse_bo, clinic_a):
    Membership.objects.create(user=nurse_bo, site=clinic_a, role="practitioner")
    client.force_login(admin_al)
    before = AuditEvent.objects.count()
    client.post(_url(_role(nurse_bo, "NCL", "nurse")))
    assert actions_since(before) == ["membership.revoke"]
    event = AuditEvent.objects.get(action="membership.revoke")
    assert (event.actor, event.site, event.object_type, event.object_id) == (
        admin_al,
        clinic_a,
        "user",
        str(nurse_bo.pk),
    )
    assert event.before == {"site": "NCL", "roles": ["nurse", "practitioner"]}
    assert event.after == {"site": "NCL", "roles": ["practitioner"]}


def test_after_the_last_role_at_the_admins_sites_it_returns_to_the_list(client, admin_al, nurse_bo):
    client.force_login(admin_al)
    response = client.post(_url(_role(nurse_bo, "NCL", "nurse")), follow=True)
    assert response.redirect_chain == [("/staff/", 302)]
    assert "Bo Lindqvist holds no role at your sites now." in response.content.decode()
    assert client.get(f"/staff/{nurse_bo.pk}/").status_code == 404


def test_an_admin_cannot_revoke_their_own_last_clinic_admin_role(client, admin_al):
    client.force_login(admin_al)
    before = row_counts()
    response = client.post(_url(_role(admin_al, "NCL", "clinic_admin")))
    assert response.status_code == 422
    body = response.content.decode()
    assert "The role was not revoked:" in body
    assert LAST_ADMIN_ROLE in body
    assert row_counts() == before


def test_an_admin_may_give_up_one_of_two_clinic_admin_roles(client, admin_two_sites):
    client.force_login(admin_two_sites)
    assert client.post(_url(_role(admin_two_sites, "LAB", "clinic_admin"))).status_code == 302
    assert roles_of(admin_two_sites) == {("NCL", "clinic_admin")}
    response = client.post(_url(_role(admin_two_sites, "NCL", "clinic_admin")))
    assert response.status_code == 422
    assert roles_of(admin_two_sites) == {("NCL", "clinic_admin")}


def test_an_admin_may_revoke_another_admins_role(client, admin_al, clinic_a):
    other = make_user("ola", first="Ola", last="Berg", roles=[(clinic_a, "clinic_admin")])
    client.force_login(admin_al)
    assert client.post(_url(_role(other, "NCL", "clinic_admin"))).status_code == 302
    assert roles_of(other) == set()


def test_it_does_not_revoke_a_role_at_another_site(client, admin_al, shared_nurse):
    client.force_login(admin_al)
    before = row_counts()
    response = client.post(_url(_role(shared_nurse, "RSC", "nurse")))
    assert response.status_code == 404
    assert row_counts() == before


def test_a_role_of_someone_else_in_the_url_is_not_found(client, admin_al, nurse_bo, dr_ada):
    client.force_login(admin_al)
    before = row_counts()
    ada_role = _role(dr_ada, "NCL", "practitioner")
    response = client.post(f"/staff/{nurse_bo.pk}/roles/{ada_role.pk}/revoke/")
    assert response.status_code == 404
    assert row_counts() == before


def test_another_clinics_admin_cannot_revoke_north_clinic_roles(client, admin_rex, nurse_bo):
    client.force_login(admin_rex)
    before = row_counts()
    assert client.post(_url(_role(nurse_bo, "NCL", "nurse"))).status_code == 404
    assert row_counts() == before


def test_it_sends_anonymous_visitors_to_sign_in(client, nurse_bo):
    before = row_counts()
    response = client.post(_url(_role(nurse_bo, "NCL", "nurse")))
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=")
    assert row_counts() == before


@pytest.mark.parametrize("user", WRONG_ROLES)
def test_it_is_not_found_for_anyone_but_clinic_admins(client, request, user, nurse_bo):
    client.force_login(request.getfixturevalue(user))
    before = row_counts()
    assert client.post(_url(_role(nurse_bo, "NCL", "nurse"))).status_code == 404
    assert row_counts() == before


def test_it_needs_a_post(client, admin_al, nurse_bo):
    client.force_login(admin_al)
    assert client.get(_url(_role(nurse_bo, "NCL", "nurse"))).status_code == 405
