"""The role-aware navigation: Staff for clinic admins, My account for everyone signed in."""

import pytest

from cellclinic.accounts.roles import ROLE_PERMISSIONS, Permission, Role

pytestmark = pytest.mark.django_db


def _links(client, user) -> dict[str, str]:
    client.force_login(user)
    response = client.get("/account/")
    return {key: href for key, _label, href, _count in response.context["nav_links"]}


def test_only_clinic_admins_hold_staff_manage():
    assert [role for role in Role if Permission.STAFF_MANAGE in ROLE_PERMISSIONS[role]] == [Role.CLINIC_ADMIN]


def test_a_clinic_admin_sees_staff_and_my_account(client, admin_al):
    links = _links(client, admin_al)
    assert links["staff"] == "/staff/"
    assert links["account"] == "/account/"


@pytest.mark.parametrize("user", ["dr_ada", "nurse_bo", "lab_li", "qa_quinn", "pat"])
def test_everyone_else_sees_my_account_and_no_staff(client, request, user):
    links = _links(client, request.getfixturevalue(user))
    assert "staff" not in links
    assert links["account"] == "/account/"


def test_the_account_link_is_marked_current_on_the_account_page(client, nurse_bo):
    client.force_login(nurse_bo)
    body = client.get("/account/").content.decode()
    assert '<a href="/account/" aria-current="page">My account</a>' in body


def test_the_staff_link_is_marked_current_on_the_staff_page(client, admin_al):
    client.force_login(admin_al)
    body = client.get("/staff/").content.decode()
    assert '<a href="/staff/" aria-current="page">Staff</a>' in body
