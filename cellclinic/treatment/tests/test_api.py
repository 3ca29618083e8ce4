"""The plans API: GET /api/v1/plans, GET /api/v1/plans/{plan_id}, POST /api/v1/plans."""

import pytest

from cellclinic.treatment.models import TreatmentPlan
from cellclinic.treatment.services import HARVEST_NEEDED, NO_CONSENT
from cellclinic.treatment.tests.helpers import (
    CULTURED,
    DONOR,
    counts,
    in_days,
    pathway_to,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/plans"


def test_it_lists_a_patients_plans(api_as, dr_ada, patient_a, patient_b, dr_cy):
    first = pathway_to("planned", patient_a, dr_ada).plan
    second = pathway_to("planned", patient_a, dr_ada, DONOR).plan
    pathway_to("planned", patient_b, dr_cy)
    response = api_as(dr_ada).get(URL, patient_id=patient_a.pk)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["items"]] == [second.pk, first.pk]
    item = body["items"][1]
    assert item["therapy_code"] == CULTURED and item["site"] == "NCL" and item["status"] == "active"
    assert item["patient_id"] == patient_a.pk and item["consent_id"] == first.consent_id
    assert "steps" not in item


def test_the_list_is_site_scoped(api_as, dr_ada, dr_cy, patient_a, patient_b):
    pathway_to("planned", patient_a, dr_ada)
    mine = pathway_to("planned", patient_b, dr_cy).plan
    body = api_as(dr_cy).get(URL).json()
    assert [item["id"] for item in body["items"]] == [mine.pk]
    assert api_as(dr_cy).get(URL, patient_id=patient_a.pk).json() == {"count": 0, "items": []}


def test_it_reads_one_plan_with_its_steps(api_as, nurse_bo, dr_ada, patient_a):
    plan = pathway_to("planned", patient_a, dr_ada).plan
    response = api_as(nurse_bo).get(f"{URL}/{plan.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == plan.pk and body["harvest_date"] == in_days(7).isoformat()
    steps = body["steps"]
    assert [step["sequence"] for step in steps] == list(range(1, len(steps) + 1))
    assert steps[0]["kind"] == "harvest" and steps[0]["due_date"] == in_days(7).isoformat()
    assert [step for step in steps if step["primary_endpoint"]][0]["label"] == "Efficacy assessment"


def test_it_makes_a_plan(api_as, dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    response = api_as(dr_ada).post(
        URL, {"consultation_id": consultation.pk, "harvest_date": in_days(5).isoformat()}
    )
    assert response.status_code == 201
    plan = TreatmentPlan.objects.get()
    assert response.json()["id"] == plan.pk and len(response.json()["steps"]) == plan.steps.count()


def test_it_makes_a_donor_plan_from_the_start_date(api_as, dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada, DONOR).consultation
    response = api_as(dr_ada).post(
        URL, {"consultation_id": consultation.pk, "start_date": in_days(5).isoformat()}
    )
    assert response.status_code == 201
    assert response.json()["harvest_date"] is None


def test_no_plan_without_signed_consent(api_as, dr_ada, patient_a):
    consultation = pathway_to("decided", patient_a, dr_ada).consultation
    api = api_as(dr_ada)
    before = counts()
    response = api.post(URL, {"consultation_id": consultation.pk, "harvest_date": in_days(5).isoformat()})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "consent", "message": NO_CONSENT}]
    assert counts() == before


def test_bad_input_names_the_field(api_as, dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    api = api_as(dr_ada)
    before = counts()
    response = api.post(URL, {"consultation_id": consultation.pk})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "harvest_date", "message": HARVEST_NEEDED}]
    response = api.post(URL, {"consultation_id": consultation.pk, "harvest_date": "tomorrow"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "harvest_date"
    response = api.post(URL, {"consultation_id": consultation.pk, "harvest_date": None, "colour": "blue"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "colour"
    assert counts() == before


@pytest.mark.parametrize("persona", ["nurse_bo", "admin_al", "dr_cy"])
def test_only_a_practitioner_at_the_clinic_makes_plans(api_as, request, dr_ada, patient_a, persona):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    api = api_as(request.getfixturevalue(persona))
    before = counts()
    response = api.post(URL, {"consultation_id": consultation.pk, "harvest_date": in_days(5).isoformat()})
    assert response.status_code == 404
    assert counts() == before


@pytest.mark.parametrize("persona", ["lab_li", "qa_quinn", "pat"])
def test_patients_and_lab_staff_get_not_found_everywhere(api_as, request, dr_ada, patient_a, persona):
    plan = pathway_to("planned", patient_a, dr_ada).plan
    api = api_as(request.getfixturevalue(persona))
    before = counts()
    for response in (
        api.get(URL),
        api.get(URL, patient_id=patient_a.pk),
        api.get(f"{URL}/{plan.pk}"),
        api.post(URL, {"consultation_id": plan.consultation_id, "harvest_date": in_days(5).isoformat()}),
    ):
        assert response.status_code == 404
        assert "HOPPER" not in response.content.decode().upper()
    assert counts() == before


def test_another_clinics_plan_is_not_found(api_as, dr_ada, dr_cy, patient_a):
    plan = pathway_to("planned", patient_a, dr_ada).plan
    assert api_as(dr_cy).get(f"{URL}/{plan.pk}").status_code == 404
    assert api_as(dr_ada).get(f"{URL}/999999").status_code == 404


def test_anonymous_callers_must_authenticate(api_as):
    api = api_as(None)
    for response in (api.get(URL), api.get(f"{URL}/1"), api.post(URL, {"consultation_id": 1})):
        assert response.status_code == 401


def test_the_list_runs_a_fixed_number_of_queries(api_as, dr_ada, patient_a, django_assert_max_num_queries):
    api = api_as(dr_ada)
    pathway_to("planned", patient_a, dr_ada)
    api.get(URL)
    with django_assert_max_num_queries(8) as one:
        api.get(URL, patient_id=patient_a.pk)
    for _ in range(4):
        pathway_to("planned", patient_a, dr_ada, DONOR)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert api.get(URL, patient_id=patient_a.pk).json()["count"] == 5


def test_one_plan_runs_a_fixed_number_of_queries(api_as, dr_ada, patient_a, django_assert_max_num_queries):
    api = api_as(dr_ada)
    small = pathway_to("planned", patient_a, dr_ada, "autologous_skin_cell_suspension").plan
    large = pathway_to("planned", patient_a, dr_ada, DONOR).plan
    api.get(f"{URL}/{small.pk}")
    with django_assert_max_num_queries(8) as one:
        api.get(f"{URL}/{small.pk}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        api.get(f"{URL}/{large.pk}")


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths[URL]) == {"get", "post"}
    assert set(paths[URL + "/{plan_id}"]) == {"get"}
