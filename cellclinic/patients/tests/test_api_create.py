"""POST /api/v1/patients: register a patient."""

import pytest

from cellclinic.audit.models import AuditEvent
from cellclinic.patients.identifiers import mrn_is_valid
from cellclinic.patients.models import Patient
from cellclinic.patients.tests.helpers import assert_no_patient_data, row_counts
from conftest import make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/patients"


def _body(**overrides) -> dict:
    body = {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": "1985-12-10",
        "sex_at_birth": "female",
        "gender_identity": "woman",
        "pronouns": "she/her",
        "email": "ada@example.org",
        "phone": "+44 20 7946 0000",
        "address": "12 St James's Square, London",
        "postcode": "SW1Y 4JH",
        "fitzpatrick_type": "II",
        "presenting_concern": "scar",
        "concern_details": "Acne scarring",
        "history": ["keloid_history", "immunosuppressed"],
        "allergies": ["trypsin"],
        "allergy_notes": "Plasters",
        "history_notes": "Keloid after ear piercing",
    }
    body.update(overrides)
    return body


@pytest.fixture
def nurse_two_clinics(clinic_a, clinic_b):
    return make_user("dee", first="Dee", last="Nwosu", roles=[(clinic_a, "nurse"), (clinic_b, "nurse")])


def _fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def test_it_registers_a_patient(api_as, dr_ada, clinic_a):
    response = api_as(dr_ada).post(URL, _body())
    assert response.status_code == 201
    body = response.json()
    patient = Patient.objects.get()
    assert body["id"] == patient.pk
    assert body["mrn"] == patient.mrn and mrn_is_valid(patient.mrn)
    assert body["site"] == "NCL"
    assert body["date_of_birth"] == "1985-12-10"
    # Codes come back in the checklist's order.
    assert body["history"] == ["immunosuppressed", "keloid_history"]
    assert body["allergies"] == ["trypsin"]
    assert body["history_notes"] == "Keloid after ear piercing"
    assert body["created_at"] and body["updated_at"]
    assert patient.site == clinic_a


def test_it_needs_only_names_and_date_of_birth(api_as, nurse_bo):
    body = {"given_name": "Alan", "family_name": "Turing", "date_of_birth": "1912-06-23"}
    response = api_as(nurse_bo).post(URL, body)
    assert response.status_code == 201
    assert response.json()["sex_at_birth"] == "not_recorded"
    assert response.json()["history"] == []


def test_it_records_one_audit_event(api_as, dr_ada):
    api = api_as(dr_ada)
    before = AuditEvent.objects.count()
    patient_id = api.post(URL, _body()).json()["id"]
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action="patient.create")
    assert event.patient_id == patient_id
    assert event.actor == dr_ada
    assert event.after["mrn"] == Patient.objects.get().mrn
    assert event.after["history"] == ["immunosuppressed", "keloid_history"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({"date_of_birth": "10/12/1985"}, "date_of_birth"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"given_name": 42}, "given_name"),
        ({"given_name": "   "}, "given_name"),
        ({"sex_at_birth": "unknown"}, "sex_at_birth"),
        ({"fitzpatrick_type": "VII"}, "fitzpatrick_type"),
        ({"presenting_concern": "wrinkles"}, "presenting_concern"),
        ({"history": ["made_up"]}, "history"),
        ({"history": "keloid_history"}, "history"),
        ({"allergies": ["peanuts"]}, "allergies"),
        ({"email": "not-an-email"}, "email"),
        ({"postcode": "X" * 17}, "postcode"),
    ],
)
def test_it_rejects_invalid_input_naming_the_field(api_as, dr_ada, overrides, field):
    api = api_as(dr_ada)
    before = row_counts()
    response = api.post(URL, _body(**overrides))
    assert response.status_code == 422
    assert _fields(response) == [field]
    assert response.json()["detail"]
    assert row_counts() == before


def test_it_names_each_missing_field(api_as, dr_ada):
    api = api_as(dr_ada)
    before = row_counts()
    response = api.post(URL, {"pronouns": "they/them"})
    assert response.status_code == 422
    assert sorted(_fields(response)) == ["date_of_birth", "family_name", "given_name"]
    assert row_counts() == before


def test_it_asks_for_the_site_when_the_user_works_at_several_clinics(api_as, nurse_two_clinics):
    api = api_as(nurse_two_clinics)
    before = row_counts()
    response = api.post(URL, _body())
    assert response.status_code == 422
    assert _fields(response) == ["site"]
    assert "NCL, RSC" in response.json()["errors"][0]["message"]
    assert row_counts() == before
    response = api.post(URL, _body(site="RSC"))
    assert response.status_code == 201
    assert response.json()["site"] == "RSC"
    assert response.json()["mrn"].startswith("RSC-")


def test_it_rejects_other_clinic(api_as, dr_ada, clinic_b, lab):
    api = api_as(dr_ada)
    before = row_counts()
    answers = [api.post(URL, _body(site=code)) for code in ("RSC", "LAB", "NOPE")]
    assert {r.status_code for r in answers} == {422}
    # The same answer whether the site exists, is a lab, or does not exist.
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert _fields(answers[0]) == ["site"]
    assert row_counts() == before


def test_it_is_not_found_for_a_portal_user(api_as, pat, patient_a):
    api = api_as(pat)
    before = row_counts()
    response = api.post(URL, _body())
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": []}
    assert_no_patient_data(response, patient_a)
    assert row_counts() == before


@pytest.mark.parametrize("user", ["lab_li", "qa_quinn"])
def test_it_is_not_found_for_lab_and_qa_staff(api_as, request, user, patient_a):
    api = api_as(request.getfixturevalue(user))
    before = row_counts()
    for body in (_body(), {"nonsense": True}):
        response = api.post(URL, body)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "errors": []}
    assert row_counts() == before


def test_it_requires_authentication(api_as):
    before = row_counts()
    response = api_as(None).post(URL, _body())
    assert response.status_code == 401
    assert row_counts() == before


def test_a_site_is_never_a_lab(api_as, lab):
    lab_nurse = make_user("odd", first="Odd", last="Case", roles=[(lab, "nurse")])
    api = api_as(lab_nurse)
    before = row_counts()
    assert api.post(URL, _body()).status_code == 404
    assert api.post(URL, _body(site="LAB")).status_code == 422
    assert row_counts() == before
