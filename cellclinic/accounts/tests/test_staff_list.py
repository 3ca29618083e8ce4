"""The staff list at /staff/: scope, roles, search, status, pagination, access and query count."""

from datetime import UTC, datetime

import pytest

from cellclinic.accounts.models import User
from cellclinic.accounts.tests.helpers import WRONG_ROLES
from conftest import make_user

pytestmark = pytest.mark.django_db

URL = "/staff/"


def _usernames(response) -> list[str]:
    return [member.username for member in response.context["staff"]]


def _hire(site, count: int, *, start: int = 0, role: str = "nurse") -> list[User]:
    return [
        make_user(f"n{i:03d}", first=f"Nia{i:03d}", last="Mensah", roles=[(site, role)])
        for i in range(start, start + count)
    ]


def test_it_lists_the_staff_of_the_admins_clinic_with_their_roles(
    client, admin_al, dr_ada, nurse_bo, dr_cy, lab_li
):
    client.force_login(admin_al)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["nav_active"] == "staff"
    assert _usernames(response) == ["bo", "ada", "al"]
    body = response.content.decode()
    assert f'href="/staff/{dr_ada.pk}/"' in body
    assert 'Practitioner <span class="muted">at</span> <abbr title="North Clinic">NCL</abbr>' in body
    assert "Cy Moreau" not in body and "Li Chen" not in body


def test_it_shows_active_inactive_and_last_sign_in(client, admin_al, dr_ada, nurse_bo):
    User.objects.filter(pk=nurse_bo.pk).update(is_active=False)
    User.objects.filter(pk=dr_ada.pk).update(last_login=datetime(2026, 3, 4, 9, 30, tzinfo=UTC))
    client.force_login(admin_al)
    body = client.get(URL).content.decode()
    assert body.count('<span class="badge badge-danger">Inactive</span>') == 1
    assert body.count('<span class="badge badge-ok">Active</span>') == 2
    assert "4 Mar 2026, 09:30" in body
    assert "Never" in body


def test_it_shows_only_the_roles_held_at_the_admins_sites(client, admin_al, shared_nurse):
    client.force_login(admin_al)
    response = client.get(URL, {"q": "sam"})
    [member] = response.context["staff"]
    assert [(m.site.code, m.role) for m in member.managed_memberships] == [("NCL", "nurse")]
    assert "Riverside" not in response.content.decode()


def test_an_admin_of_two_sites_sees_both(client, admin_two_sites, dr_ada, lab_li, dr_cy):
    client.force_login(admin_two_sites)
    assert _usernames(client.get(URL)) == ["li", "ada", "tess"]


def test_another_clinics_admin_sees_only_their_own_staff(client, admin_rex, dr_ada, admin_al, dr_cy):
    client.force_login(admin_rex)
    response = client.get(URL)
    assert _usernames(response) == ["rex", "cy"]
    body = response.content.decode()
    assert "Ada Okafor" not in body and "Al Rahman" not in body


def test_it_finds_staff_by_part_of_the_name_or_username(client, admin_al, dr_ada, nurse_bo):
    client.force_login(admin_al)
    assert _usernames(client.get(URL, {"q": "okaf"})) == ["ada"]
    assert _usernames(client.get(URL, {"q": "BO"})) == ["bo"]
    assert _usernames(client.get(URL, {"q": "  ada   okafor "})) == ["ada"]
    assert _usernames(client.get(URL, {"q": "ada lindqvist"})) == []


def test_it_does_not_find_another_clinics_staff_by_name(client, admin_al, dr_cy):
    client.force_login(admin_al)
    response = client.get(URL, {"q": "moreau"})
    assert _usernames(response) == []
    assert "No staff member matches “moreau”." in response.content.decode()


def test_it_filters_by_status(client, admin_al, dr_ada, nurse_bo):
    User.objects.filter(pk=nurse_bo.pk).update(is_active=False)
    client.force_login(admin_al)
    assert _usernames(client.get(URL, {"status": "inactive"})) == ["bo"]
    assert _usernames(client.get(URL, {"status": "active"})) == ["ada", "al"]
    assert _usernames(client.get(URL, {"status": "nonsense"})) == ["bo", "ada", "al"]


def test_the_search_is_labelled_and_searches_as_you_type(client, admin_al):
    client.force_login(admin_al)
    body = client.get(URL).content.decode()
    assert '<label for="staff-search">Search staff by name or username</label>' in body
    assert '<label for="staff-status">Status</label>' in body
    assert 'hx-target="#staff-table"' in body
    assert 'method="get" action="/staff/" role="search"' in body
    assert 'href="/staff/new/"' in body


def test_an_htmx_search_gets_only_the_table(client, admin_al, dr_ada):
    client.force_login(admin_al)
    response = client.get(URL, {"q": "ada"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "<html" not in body and "<form" not in body
    assert '<table class="data">' in body and "Ada Okafor" in body
    assert "HX-Request" in response["Vary"]


def test_it_paginates(client, admin_al, clinic_a):
    _hire(clinic_a, 30)
    client.force_login(admin_al)
    first = client.get(URL)
    assert len(first.context["staff"]) == 25
    assert "Page 1 of 2" in first.content.decode()
    second = client.get(URL, {"page": 2, "q": "nia"})
    assert len(second.context["staff"]) == 5
    assert 'href="?q=nia&amp;page=1"' in second.content.decode()


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/staff/"


@pytest.mark.parametrize("user", WRONG_ROLES)
def test_it_is_not_found_for_anyone_but_clinic_admins(client, request, user, dr_ada):
    client.force_login(request.getfixturevalue(user))
    response = client.get(URL)
    assert response.status_code == 404
    assert 'href="/staff/' not in response.content.decode()


def test_its_query_count_is_pinned(client, admin_al, dr_ada, nurse_bo, django_assert_num_queries):
    client.force_login(admin_al)
    # 1 session, 2 user, 3 the admin's memberships (read once, for access and navigation),
    # 4 count of matching staff, 5 the page of staff, 6 their roles at the admin's sites, with the sites,
    # 7 new consultation requests and 8 unread notifications, counted on the navigation links.
    with django_assert_num_queries(8):
        response = client.get(URL, {"q": "a"})
    assert response.status_code == 200


def test_its_query_count_does_not_grow_with_more_staff(
    client, admin_al, clinic_a, lab, django_assert_num_queries
):
    _hire(clinic_a, 2)
    client.force_login(admin_al)
    with django_assert_num_queries(8):
        client.get(URL)
    for member in _hire(clinic_a, 40, start=2)[:10]:
        member.memberships.create(site=clinic_a, role="practitioner")
        member.memberships.create(site=lab, role="lab_technician")
    with django_assert_num_queries(8):
        response = client.get(URL)
    assert len(response.context["staff"]) == 25
