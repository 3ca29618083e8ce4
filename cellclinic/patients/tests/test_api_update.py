"""PATCH /api/v1/patients/{id}: correct a patient's record."""

import pytest

from cellclinic.audit.models import AuditEvent
from cellclinic.patients.models import Patient
from cellclinic.patients.tests.helpers import assert_no_patient_data, row_counts

pytestmark = pytest.mark.django_db


def _url(patient_id: int) -> str:
    return f"/api/v1/patients/{patient_id}"


def _fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def test_it_changes_only_the_given_fields(api_as, dr_ada, patient_a):
    response = api_as(dr_ada).patch(
        _url(patient_a.pk),
        {"email": "grace@example.org", "allergies": ["dmso", "antibiotic"], "reason": "New email"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "grace@example.org"
    assert body["allergies"] == ["antibiotic", "dmso"]
    assert body["family_name"] == "Hopper" and body["fitzpatrick_type"] == "II"
    assert body["site"] == "NCL"
    patient = Patient.objects.get(pk=patient_a.pk)
    assert patient.email == "grace@example.org"
    assert patient.presenting_concern == "scar"


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_correction_without_a_reason_is_refused_and_changes_nothing(api_as, dr_ada, patient_a, reason):
    body = (
        {"email": "grace@example.org"} if reason is None else {"email": "grace@example.org", "reason": reason}
    )
    api = api_as(dr_ada)
    before = row_counts()
    response = api.patch(_url(patient_a.pk), body)
    assert response.status_code == 422
    assert _fields(response) == ["reason"]
    assert row_counts() == before
    assert Patient.objects.get(pk=patient_a.pk).email == ""


def test_it_records_one_audit_event_with_the_changed_fields_and_reason(api_as, nurse_bo, patient_a):
    api = api_as(nurse_bo)
    before = AuditEvent.objects.count()
    api.patch(_url(patient_a.pk), {"phone": "0191 496 0000", "sex_at_birth": "female", "reason": "Phoned"})
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action="patient.update")
    assert event.before == {"phone": ""}
    assert event.after == {"phone": "0191 496 0000"}
    assert event.reason == "Phoned"
    assert event.actor == nurse_bo


def test_it_writes_nothing_when_nothing_changes(api_as, dr_ada, patient_a):
    api = api_as(dr_ada)
    before = row_counts()
    for body in ({}, {"family_name": "Hopper", "reason": "checked"}):
        response = api.patch(_url(patient_a.pk), body)
        assert response.status_code == 200
        assert response.json()["family_name"] == "Hopper"
    assert row_counts() == before
    assert Patient.objects.get(pk=patient_a.pk).updated_at == patient_a.updated_at


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": None}, "email"),
        ({"mrn": "NCL-000009-X"}, "mrn"),
        ({"site": "RSC"}, "site"),
        ({"date_of_birth": "yesterday"}, "date_of_birth"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"family_name": ""}, "family_name"),
        ({"history": ["made_up"]}, "history"),
        ({"fitzpatrick_type": "7"}, "fitzpatrick_type"),
        ({"reason": ["why"]}, "reason"),
    ],
)
def test_it_rejects_invalid_input_naming_the_field(api_as, dr_ada, patient_a, body, field):
    api = api_as(dr_ada)
    before = row_counts()
    response = api.patch(_url(patient_a.pk), {"email": "grace@example.org", **body})
    assert response.status_code == 422
    assert _fields(response) == [field]
    assert row_counts() == before
    assert Patient.objects.get(pk=patient_a.pk).email == ""


def test_it_rejects_other_clinic(api_as, dr_cy, patient_a):
    api = api_as(dr_cy)
    before = row_counts()
    other = api.patch(_url(patient_a.pk), {"email": "x@example.org"})
    missing = api.patch(_url(patient_a.pk + 1000), {"email": "x@example.org"})
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    assert_no_patient_data(other, patient_a)
    assert row_counts() == before


def test_a_portal_user_cannot_change_their_record(api_as, pat, patient_a):
    api = api_as(pat)
    before = row_counts()
    response = api.patch(_url(patient_a.pk), {"email": "me@example.org"})
    assert response.status_code == 404
    assert_no_patient_data(response, patient_a)
    assert row_counts() == before


@pytest.mark.parametrize("user", ["lab_li", "qa_quinn"])
def test_it_is_not_found_for_lab_and_qa_staff(api_as, request, user, patient_a):
    api = api_as(request.getfixturevalue(user))
    before = row_counts()
    for body in ({"email": "x@example.org"}, {"email": None}):
        response = api.patch(_url(patient_a.pk), body)
        assert response.status_code == 404
        assert_no_patient_data(response, patient_a)
    assert row_counts() == before


def test_it_requires_authentication(api_as, patient_a):
    before = row_counts()
    response = api_as(None).patch(_url(patient_a.pk), {"email": "x@example.org"})
    assert response.status_code == 401
    assert row_counts() == before
