"""GET /api/v1/patients: list and search."""

import pytest

from cellclinic.patients.tests.helpers import assert_no_patient_data, register_many

pytestmark = pytest.mark.django_db

URL = "/api/v1/patients"
FIELDS = {
    "id",
    "mrn",
    "site",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex_at_birth",
    "gender_identity",
    "pronouns",
    "email",
    "phone",
    "address",
    "postcode",
    "fitzpatrick_type",
    "presenting_concern",
    "concern_details",
    "history",
    "allergies",
    "allergy_notes",
    "history_notes",
    "created_at",
    "updated_at",
}


def test_it_lists_the_patients_of_the_users_clinic(api_as, dr_ada, patient_a, patient_b):
    response = api_as(dr_ada).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [item] = body["items"]
    assert set(item) == FIELDS
    assert item["id"] == patient_a.pk
    assert item["mrn"] == patient_a.mrn
    assert item["site"] == "NCL"
    assert item["date_of_birth"] == "1980-12-09"
    assert item["fitzpatrick_type"] == "II"
    assert item["history"] == [] and item["allergies"] == []
    assert_no_patient_data(response, patient_b)


def test_it_pages_with_limit_and_offset(api_as, dr_ada, clinic_a):
    register_many(clinic_a, dr_ada, 60)
    api = api_as(dr_ada)
    default = api.get(URL).json()
    assert default["count"] == 60
    assert len(default["items"]) == 50
    page = api.get(URL, limit=7, offset=55).json()
    assert page["count"] == 60
    assert [p["id"] for p in page["items"]] == [p["id"] for p in api.get(URL, limit=200).json()["items"][55:]]
    assert api.get(URL, limit=10, offset=100).json() == {"count": 60, "items": []}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
    ],
)
def test_it_rejects_a_bad_page(api_as, dr_ada, params, field):
    response = api_as(dr_ada).get(URL, **params)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize("q", ["hopp", "grace hopper", "1980-12-09", "09/12/1980"])
def test_it_searches_by_name_and_date_of_birth(api_as, dr_ada, patient_a, clinic_a, q):
    register_many(clinic_a, dr_ada, 3)
    body = api_as(dr_ada).get(URL, q=q).json()
    assert [p["id"] for p in body["items"]] == [patient_a.pk]
    assert body["count"] == 1


def test_it_searches_by_mrn(api_as, dr_ada, patient_a, clinic_a):
    register_many(clinic_a, dr_ada, 3)
    assert [p["id"] for p in api_as(dr_ada).get(URL, q=patient_a.mrn).json()["items"]] == [patient_a.pk]


def test_it_rejects_other_clinic(api_as, dr_cy, patient_a, patient_b):
    response = api_as(dr_cy).get(URL, q=patient_a.mrn)
    assert response.json() == {"count": 0, "items": []}
    response = api_as(dr_cy).get(URL)
    assert [p["id"] for p in response.json()["items"]] == [patient_b.pk]
    assert_no_patient_data(response, patient_a)


def test_a_portal_user_gets_only_their_own_record(api_as, pat, patient_a, patient_b, clinic_a, dr_ada):
    register_many(clinic_a, dr_ada, 3)
    response = api_as(pat).get(URL)
    body = response.json()
    assert body["count"] == 1
    assert [p["id"] for p in body["items"]] == [patient_a.pk]
    assert api_as(pat).get(URL, q="franklin").json() == {"count": 0, "items": []}
    assert_no_patient_data(response, patient_b)


@pytest.mark.parametrize("user", ["lab_li", "qa_quinn"])
def test_it_is_not_found_for_lab_and_qa_staff(api_as, request, user, patient_a, patient_b):
    api = api_as(request.getfixturevalue(user))
    for params in ({}, {"q": "hopper"}, {"limit": 0}):
        response = api.get(URL, **params)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "errors": []}


def test_it_requires_authentication(api_as, patient_a):
    response = api_as(None).get(URL)
    assert response.status_code == 401
    assert_no_patient_data(response, patient_a)


def test_it_accepts_a_browser_session(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_its_query_count_is_pinned(api_as, dr_ada, patient_a, django_assert_num_queries):
    api = api_as(dr_ada)
    # 1 the token and its user, 2 stamp the token's first use, 3 the user's memberships,
    # 4 the search logged in the access log, 5 count of matching patients, 6 the page of patients
    # joined to their site.
    with django_assert_num_queries(6):
        response = api.get(URL)
    assert response.status_code == 200
    # Within a minute of its last use the token is not stamped again.
    with django_assert_num_queries(5):
        api.get(URL)


def test_its_query_count_does_not_grow_with_the_registry(api_as, dr_ada, clinic_a, django_assert_num_queries):
    register_many(clinic_a, dr_ada, 2)
    api = api_as(dr_ada)
    api.get(URL)
    with django_assert_num_queries(5):
        api.get(URL)
    register_many(clinic_a, dr_ada, 30)
    with django_assert_num_queries(5):
        response = api.get(URL)
    assert len(response.json()["items"]) == 32
