"""GET /api/v1/patients/{id}: one patient."""

import pytest

from cellclinic.patients.tests.helpers import assert_no_patient_data

pytestmark = pytest.mark.django_db


def _url(patient_id: int) -> str:
    return f"/api/v1/patients/{patient_id}"


@pytest.mark.parametrize("user", ["dr_ada", "nurse_bo", "admin_al"])
def test_it_returns_a_patient_of_the_users_clinic(api_as, request, user, patient_a):
    response = api_as(request.getfixturevalue(user)).get(_url(patient_a.pk))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == patient_a.pk
    assert body["mrn"] == patient_a.mrn
    assert body["site"] == "NCL"
    assert body["family_name"] == "Hopper"
    assert body["presenting_concern"] == "scar"


def test_it_rejects_other_clinic(api_as, dr_cy, patient_a):
    api = api_as(dr_cy)
    other = api.get(_url(patient_a.pk))
    missing = api.get(_url(patient_a.pk + 1000))
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json() == {"detail": "Not found.", "errors": []}
    assert_no_patient_data(other, patient_a)


def test_a_portal_user_reads_only_their_own_record(api_as, pat, patient_a, patient_b):
    api = api_as(pat)
    assert api.get(_url(patient_a.pk)).json()["mrn"] == patient_a.mrn
    response = api.get(_url(patient_b.pk))
    assert response.status_code == 404
    assert_no_patient_data(response, patient_b)


@pytest.mark.parametrize("user", ["lab_li", "qa_quinn"])
def test_it_is_not_found_for_lab_and_qa_staff(api_as, request, user, patient_a):
    response = api_as(request.getfixturevalue(user)).get(_url(patient_a.pk))
    assert response.status_code == 404
    assert_no_patient_data(response, patient_a)


def test_it_requires_authentication(api_as, patient_a):
    response = api_as(None).get(_url(patient_a.pk))
    assert response.status_code == 401
    assert_no_patient_data(response, patient_a)


def test_it_rejects_an_id_that_is_not_a_number(api_as, dr_ada):
    assert api_as(dr_ada).get("/api/v1/patients/abc").status_code == 404
