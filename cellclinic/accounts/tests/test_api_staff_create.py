"""POST /api/v1/accounts/staff: a staff member and their first role, or nothing."""

import pytest
from django.test import Client

from cellclinic.accounts.models import User
from cellclinic.accounts.tests.helpers import (
    NEW_PASSWORD,
    WRONG_ROLES,
    actions_since,
    field_errors,
    roles_of,
    row_counts,
)
from cellclinic.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounts/staff"


def _body(**overrides) -> dict:
    body = {
        "username": "nina",
        "first_name": "Nina",
        "last_name": "Sato",
        "email": "nina@example.org",
        "role": "nurse",
        "site": "NCL",
        "password": NEW_PASSWORD,
    }
    body.update(overrides)
    return body


def test_it_creates_the_account_and_role(api_as, admin_al, clinic_a):
    response = api_as(admin_al).post(URL, _body())
    assert response.status_code == 201
    nina = User.objects.get(username="nina")
    assert response.json() == {
        "id": nina.pk,
        "username": "nina",
        "name": "Nina Sato",
        "active": True,
        "roles": [{"site": "NCL", "role": "nurse"}],
    }
    assert nina.check_password(NEW_PASSWORD) and nina.kind == "staff"
    assert roles_of(nina) == {("NCL", "nurse")}


def test_the_site_code_is_not_case_sensitive(api_as, admin_two_sites, lab):
    response = api_as(admin_two_sites).post(URL, _body(site="lab", role="lab_technician"))
    assert response.status_code == 201
    assert response.json()["roles"] == [{"site": "LAB", "role": "lab_technician"}]


def test_it_records_the_account_and_the_role_once_each(api_as, admin_al, clinic_a):
    api = api_as(admin_al)
    before = AuditEvent.objects.count()
    api.post(URL, _body())
    assert actions_since(before) == ["user.create", "membership.grant"]
    assert set(
        AuditEvent.objects.filter(action__in=["user.create", "membership.grant"]).values_list(
            "actor", flat=True
        )
    ) == {admin_al.pk}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"favourite_colour": "teal"}, "favourite_colour"),
        ({"username": ""}, "username"),
        ({"username": "ADA"}, "username"),
        ({"username": "two words"}, "username"),
        ({"first_name": ""}, "first_name"),
        ({"last_name": "   "}, "last_name"),
        ({"email": "nope"}, "email"),
        ({"role": "surgeon"}, "role"),
        ({"site": ""}, "site"),
        ({"password": "short"}, "password"),
        ({"password": "password123"}, "password"),
        ({"password": 12345678901}, "password"),
    ],
)
def test_it_rejects_invalid_input_naming_the_field(api_as, admin_al, dr_ada, overrides, field):
    api = api_as(admin_al)
    before = row_counts()
    response = api.post(URL, _body(**overrides))
    assert response.status_code == 422
    assert field_errors(response) == [field]
    assert response.json()["detail"]
    assert row_counts() == before


def test_it_names_each_missing_field(api_as, admin_al):
    api = api_as(admin_al)
    before = row_counts()
    response = api.post(URL, {})
    assert response.status_code == 422
    assert sorted(field_errors(response)) == [
        "first_name",
        "last_name",
        "password",
        "role",
        "site",
        "username",
    ]
    assert row_counts() == before


def test_it_rejects_malformed_json(api_as, admin_al):
    api = api_as(admin_al)
    before = row_counts()
    response = api.post(URL, raw="{not json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert row_counts() == before


def test_a_site_the_admin_does_not_manage_is_not_found(api_as, admin_al, clinic_b, lab):
    api = api_as(admin_al)
    before = row_counts()
    answers = [api.post(URL, _body(site=code)) for code in ("RSC", "LAB", "NOPE")]
    assert {r.status_code for r in answers} == {404}
    assert (
        answers[0].json() == answers[1].json() == answers[2].json() == {"detail": "Not found.", "errors": []}
    )
    assert row_counts() == before


def test_another_clinics_admin_cannot_add_staff_at_north_clinic(api_as, admin_rex, clinic_a):
    api = api_as(admin_rex)
    before = row_counts()
    assert api.post(URL, _body(site="NCL")).status_code == 404
    assert row_counts() == before


def test_it_requires_authentication(api_as, clinic_a):
    before = row_counts()
    assert api_as(None).post(URL, _body()).status_code == 401
    assert row_counts() == before


@pytest.mark.parametrize("user", WRONG_ROLES)
def test_it_is_not_found_for_anyone_but_clinic_admins(api_as, request, user, clinic_a):
    api = api_as(request.getfixturevalue(user))
    before = row_counts()
    for body in (_body(), {"nonsense": True}):
        response = api.post(URL, body)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "errors": []}
    assert row_counts() == before


def test_a_session_needs_the_csrf_token(admin_al, clinic_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_al)
    before = row_counts()
    response = client.post(URL, _body(), content_type="application/json")
    assert response.status_code == 403
    assert row_counts() == before
