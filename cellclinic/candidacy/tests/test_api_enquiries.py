"""The enquiries API: site-scoped list, read and status change."""

import pytest

from cellclinic.candidacy.models import Enquiry
from cellclinic.candidacy.tests.conftest import make_enquiry

URL = "/api/v1/enquiries"
pytestmark = pytest.mark.django_db


def test_staff_list_only_their_clinics_requests(api_as, nurse_bo, enquiry_a, enquiry_b):
    body = api_as(nurse_bo).get(URL).json()

    assert body["count"] == 1
    (item,) = body["items"]
    assert item["id"] == enquiry_a.pk and item["site"] == "NCL" and item["status"] == "new"
    assert item["assessment_id"] == str(enquiry_a.assessment.public_id) and item["outcome"] == "suitable"


def test_the_list_pages_and_filters_by_status(api_as, dr_ada, clinic_a, enquiry_a):
    second = make_enquiry(clinic_a, name="Second")
    second.status = "closed"
    second.save()
    api = api_as(dr_ada)

    assert [i["id"] for i in api.get(URL, limit=1).json()["items"]] == [second.pk]
    assert [i["id"] for i in api.get(URL, limit=1, offset=1).json()["items"]] == [enquiry_a.pk]
    assert [i["id"] for i in api.get(URL, status="new").json()["items"]] == [enquiry_a.pk]
    assert api.get(URL, status="lost").status_code == 422


def test_the_list_runs_a_bounded_number_of_queries(
    api_as, dr_ada, clinic_a, enquiry_a, django_assert_max_num_queries
):
    api = api_as(dr_ada)
    with django_assert_max_num_queries(8) as few:
        api.get(URL)
    for index in range(5):
        make_enquiry(clinic_a, name=f"Person {index}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert api.get(URL).json()["count"] == 6


def test_one_request_with_its_result(api_as, nurse_bo, enquiry_a):
    body = api_as(nurse_bo).get(f"{URL}/{enquiry_a.pk}").json()

    assert body["email"] == "mo@example.org"
    assert body["result"]["outcome"] == "suitable"


def test_patch_moves_the_request_on_and_adds_a_note(api_as, nurse_bo, enquiry_a):
    response = api_as(nurse_bo).patch(f"{URL}/{enquiry_a.pk}", {"status": "contacted", "notes": "Called"})

    assert response.status_code == 200
    assert response.json()["status"] == "contacted"
    assert response.json()["notes"].endswith("Bo Lindqvist: Called")


def test_patch_refuses_a_move_back_with_the_field_named(api_as, nurse_bo, enquiry_a):
    api = api_as(nurse_bo)
    api.patch(f"{URL}/{enquiry_a.pk}", {"status": "closed"})

    response = api.patch(f"{URL}/{enquiry_a.pk}", {"status": "new"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"
    assert Enquiry.objects.get(pk=enquiry_a.pk).status == "closed"


@pytest.mark.parametrize("body", [{"status": "lost"}, {"colour": "red"}, {"notes": 5}])
def test_patch_refuses_bad_input(api_as, nurse_bo, enquiry_a, body):
    response = api_as(nurse_bo).patch(f"{URL}/{enquiry_a.pk}", body)

    assert response.status_code == 422
    assert Enquiry.objects.get(pk=enquiry_a.pk).status == "new"


@pytest.mark.parametrize("persona", ["dr_cy", "lab_li", "qa_quinn", "pat"])
def test_anyone_else_gets_not_found(api_as, request, persona, enquiry_a):
    api = api_as(request.getfixturevalue(persona))

    assert api.get(f"{URL}/{enquiry_a.pk}").status_code == 404
    assert api.patch(f"{URL}/{enquiry_a.pk}", {"status": "closed"}).status_code == 404
    assert Enquiry.objects.get(pk=enquiry_a.pk).status == "new"


def test_another_clinics_list_is_empty(api_as, dr_cy, enquiry_a):
    assert api_as(dr_cy).get(URL).json() == {"count": 0, "items": []}


def test_lab_staff_cannot_list(api_as, lab_li, enquiry_a):
    assert api_as(lab_li).get(URL).status_code == 404


def test_anonymous_gets_401(api_as, enquiry_a):
    assert api_as(None).get(URL).status_code == 401
    assert api_as(None).patch(f"{URL}/{enquiry_a.pk}", {"status": "closed"}).status_code == 401


def test_a_missing_request_is_not_found(api_as, nurse_bo):
    assert api_as(nurse_bo).get(f"{URL}/999999").status_code == 404
