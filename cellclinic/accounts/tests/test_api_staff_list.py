"""GET /api/v1/accounts/staff: staff of the admin's sites, paged."""

import pytest

from cellclinic.accounts.models import User
from cellclinic.accounts.tests.helpers import WRONG_ROLES
from conftest import make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounts/staff"


def _hire(site, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        make_user(f"n{i:03d}", first=f"Nia{i:03d}", last="Mensah", roles=[(site, "nurse")])


def test_it_lists_the_staff_of_the_admins_sites_with_their_roles_there(
    api_as, admin_al, dr_ada, nurse_bo, shared_nurse, dr_cy, lab_li
):
    response = api_as(admin_al).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert body["items"] == [
        {
            "id": nurse_bo.pk,
            "username": "bo",
            "name": "Bo Lindqvist",
            "active": True,
            "roles": [{"site": "NCL", "role": "nurse"}],
        },
        {
            "id": dr_ada.pk,
            "username": "ada",
            "name": "Ada Okafor",
            "active": True,
            "roles": [{"site": "NCL", "role": "practitioner"}],
        },
        {
            "id": shared_nurse.pk,
            "username": "sam",
            "name": "Sam Okoro",
            "active": True,
            "roles": [{"site": "NCL", "role": "nurse"}],
        },
        {
            "id": admin_al.pk,
            "username": "al",
            "name": "Al Rahman",
            "active": True,
            "roles": [{"site": "NCL", "role": "clinic_admin"}],
        },
    ]


def test_an_admin_of_two_sites_sees_roles_at_both(api_as, admin_two_sites, nurse_bo, clinic_a, lab):
    nurse_bo.memberships.create(site=lab, role="qa_reviewer")
    items = api_as(admin_two_sites).get(URL, q="bo").json()["items"]
    assert items[0]["roles"] == [{"site": "LAB", "role": "qa_reviewer"}, {"site": "NCL", "role": "nurse"}]


def test_it_shows_inactive_accounts_and_filters_by_status(api_as, admin_al, nurse_bo, dr_ada):
    User.objects.filter(pk=nurse_bo.pk).update(is_active=False)
    api = api_as(admin_al)
    assert [(i["username"], i["active"]) for i in api.get(URL).json()["items"]] == [
        ("bo", False),
        ("ada", True),
        ("al", True),
    ]
    assert [i["username"] for i in api.get(URL, status="inactive").json()["items"]] == ["bo"]
    assert [i["username"] for i in api.get(URL, status="active").json()["items"]] == ["ada", "al"]


def test_it_searches_by_name_or_username(api_as, admin_al, dr_ada, nurse_bo):
    api = api_as(admin_al)
    assert [i["username"] for i in api.get(URL, q="lindq").json()["items"]] == ["bo"]
    assert api.get(URL, q="nobody").json() == {"count": 0, "items": []}


def test_another_clinics_admin_sees_only_their_staff(api_as, admin_rex, dr_ada, dr_cy):
    body = api_as(admin_rex).get(URL).json()
    assert [i["username"] for i in body["items"]] == ["rex", "cy"]


def test_it_pages_with_limit_and_offset(api_as, admin_al, clinic_a):
    _hire(clinic_a, 12)
    api = api_as(admin_al)
    first = api.get(URL, limit=5).json()
    assert first["count"] == 13
    assert [i["username"] for i in first["items"]] == ["n000", "n001", "n002", "n003", "n004"]
    last = api.get(URL, limit=5, offset=10).json()
    assert [i["username"] for i in last["items"]] == ["n010", "n011", "al"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
        ({"limit": "ten"}, "limit"),
        ({"status": "retired"}, "status"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_it_rejects_bad_parameters_naming_them(api_as, admin_al, params, field):
    response = api_as(admin_al).get(URL, **params)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_it_requires_authentication(api_as, admin_al):
    response = api_as(None).get(URL)
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication required.", "errors": []}


@pytest.mark.parametrize("user", WRONG_ROLES)
def test_it_is_not_found_for_anyone_but_clinic_admins(api_as, request, user):
    api = api_as(request.getfixturevalue(user))
    for params in ({}, {"limit": "nonsense"}):
        response = api.get(URL, **params)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "errors": []}


def test_a_session_works_too(client, admin_al, dr_ada):
    client.force_login(admin_al)
    assert client.get(URL).json()["count"] == 2


def test_its_query_count_is_pinned(api_as, admin_al, dr_ada, django_assert_num_queries):
    api = api_as(admin_al)
    api.get(URL)  # the token's first use is recorded once; later requests within a minute write nothing
    # 1 the token joined to its user, 2 the admin's memberships, 3 the page of staff,
    # 4 their roles at the admin's sites with the sites, 5 the count.
    with django_assert_num_queries(5):
        response = api.get(URL)
    assert response.status_code == 200


def test_its_query_count_does_not_grow_with_more_staff(
    api_as, admin_al, clinic_a, lab, django_assert_num_queries
):
    _hire(clinic_a, 2)
    api = api_as(admin_al)
    api.get(URL)
    with django_assert_num_queries(5):
        api.get(URL)
    _hire(clinic_a, 60, start=2)
    for member in User.objects.filter(username__startswith="n0")[:10]:
        member.memberships.create(site=lab, role="lab_technician")
    with django_assert_num_queries(5):
        response = api.get(URL, limit=50)
    assert len(response.json()["items"]) == 50
