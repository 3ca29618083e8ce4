"""Granting a role at /staff/<id>/roles/ (POST)."""

import pytest

from cellclinic.accounts.tests.helpers import WRONG_ROLES, actions_since, roles_of, row_counts
from cellclinic.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _url(user) -> str:
    return f"/staff/{user.pk}/roles/"


def test_it_grants_a_role_and_returns_to_the_page(client, admin_al, nurse_bo, clinic_a):
    client.force_login(admin_al)
    response = client.post(_url(nurse_bo), {"site": clinic_a.pk, "role": "practitioner"}, follow=True)
    assert response.redirect_chain == [(f"/staff/{nurse_bo.pk}/", 302)]
    assert "Bo Lindqvist is now Practitioner at North Clinic." in response.content.decode()
    assert roles_of(nurse_bo) == {("NCL", "nurse"), ("NCL", "practitioner")}


def test_it_records_one_audit_event(client, admin_al, nurse_bo, clinic_a):
    client.force_login(admin_al)
    before = AuditEvent.objects.count()
    client.post(_url(nurse_bo), {"site": clinic_a.pk, "role": "clinic_admin"})
    assert actions_since(before) == ["membership.grant"]
    event = AuditEvent.objects.get(action="membership.grant", object_id=str(nurse_bo.pk))
    assert (event.actor, event.site, event.after) == (
        admin_al,
        clinic_a,
        {"site": "NCL", "role": "clinic_admin"},
    )


def test_an_admin_of_the_lab_grants_a_role_there_to_clinic_staff(client, admin_two_sites, nurse_bo, lab):
    client.force_login(admin_two_sites)
    assert client.post(_url(nurse_bo), {"site": lab.pk, "role": "qa_reviewer"}).status_code == 302
    assert roles_of(nurse_bo) == {("NCL", "nurse"), ("LAB", "qa_reviewer")}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"site": "", "role": "nurse"}, "site"),
        ({"role": "nurse"}, "site"),
        ({"site": "x", "role": "nurse"}, "site"),
        ({"site": "SITE", "role": "surgeon"}, "role"),
        ({"site": "SITE", "role": "nurse"}, "role"),
    ],
)
def test_it_shows_invalid_input_inline_and_changes_nothing(client, admin_al, nurse_bo, clinic_a, data, field):
    data = {k: (clinic_a.pk if v == "SITE" else v) for k, v in data.items()}
    client.force_login(admin_al)
    before = row_counts()
    response = client.post(_url(nurse_bo), data)
    assert response.status_code == 422
    assert list(response.context["grant_form"].errors) == [field]
    assert f'id="id_{field}_error"' in response.content.decode()
    assert row_counts() == before


def test_it_names_a_role_already_held(client, admin_al, nurse_bo, clinic_a):
    client.force_login(admin_al)
    response = client.post(_url(nurse_bo), {"site": clinic_a.pk, "role": "nurse"})
    assert response.context["grant_form"].errors["role"] == ["They already hold this role at North Clinic."]


def test_it_does_not_grant_a_role_at_another_site(client, admin_al, nurse_bo, clinic_b, lab):
    client.force_login(admin_al)
    before = row_counts()
    for site in (clinic_b, lab):
        response = client.post(_url(nurse_bo), {"site": site.pk, "role": "nurse"})
        assert response.status_code == 422
        assert list(response.context["grant_form"].errors) == ["site"]
    assert row_counts() == before


def test_another_clinics_admin_cannot_grant_roles_to_north_clinic_staff(
    client, admin_rex, nurse_bo, clinic_b
):
    client.force_login(admin_rex)
    before = row_counts()
    assert client.post(_url(nurse_bo), {"site": clinic_b.pk, "role": "nurse"}).status_code == 404
    assert row_counts() == before


def test_it_sends_anonymous_visitors_to_sign_in(client, nurse_bo, clinic_a):
    before = row_counts()
    response = client.post(_url(nurse_bo), {"site": clinic_a.pk, "role": "practitioner"})
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=")
    assert row_counts() == before


@pytest.mark.parametrize("user", WRONG_ROLES)
def test_it_is_not_found_for_anyone_but_clinic_admins(client, request, user, nurse_bo, clinic_a):
    client.force_login(request.getfixturevalue(user))
    before = row_counts()
    assert client.post(_url(nurse_bo), {"site": clinic_a.pk, "role": "clinic_admin"}).status_code == 404
    assert row_counts() == before


def test_it_needs_a_post(client, admin_al, nurse_bo):
    client.force_login(admin_al)
    assert client.get(_url(nurse_bo)).status_code == 405


# Segregation of duties: an admin never gives themselves a role


CLINICAL_ROLES = ["practitioner", "nurse", "lab_technician", "qa_reviewer"]


@pytest.mark.parametrize("role", CLINICAL_ROLES)
def test_an_admin_cannot_grant_themselves_a_clinical_role(admin_al, clinic_a, role):
    from cellclinic.accounts.services import SELF_GRANT, membership_grant
    from cellclinic.core.errors import InvalidInput

    before = row_counts()
    with pytest.raises(InvalidInput) as error:
        membership_grant(user=admin_al, site=clinic_a, role=role, actor=admin_al)
    assert error.value.errors[0].message == SELF_GRANT
    assert roles_of(admin_al) == {("NCL", "clinic_admin")}
    assert row_counts() == before


@pytest.mark.parametrize("role", CLINICAL_ROLES)
def test_the_page_refuses_a_role_for_oneself(client, admin_two_sites, clinic_a, lab, role):
    client.force_login(admin_two_sites)
    page = client.get(f"/staff/{admin_two_sites.pk}/").content.decode()
    assert f'action="/staff/{admin_two_sites.pk}/roles/"' not in page
    assert "another clinic admin grants you a role" in page
    before = row_counts()
    for site in (clinic_a, lab):
        response = client.post(_url(admin_two_sites), {"site": site.pk, "role": role})
        assert response.status_code == 422
        assert "you cannot grant a role to yourself" in response.content.decode()
    assert row_counts() == before


def test_another_admin_grants_the_role(client, admin_al, admin_two_sites, clinic_a):
    client.force_login(admin_two_sites)
    client.post(_url(admin_al), {"site": clinic_a.pk, "role": "nurse"})
    assert roles_of(admin_al) == {("NCL", "clinic_admin"), ("NCL", "nurse")}


def test_the_api_has_no_way_to_give_oneself_a_role(api_as, admin_al, clinic_a):
    """The API adds new staff only; an existing account, the admin's own included, gets no role there."""
    response = api_as(admin_al).post(
        "/api/v1/accounts/staff",
        {
            "username": "al",
            "first_name": "Al",
            "last_name": "Rahman",
            "role": "practitioner",
            "site": "NCL",
            "password": "plum tarts on a windy pier",
        },
    )
    assert response.status_code == 422
    assert roles_of(admin_al) == {("NCL", "clinic_admin")}
