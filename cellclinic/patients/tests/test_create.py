"""Registering a patient at /patients/new/."""

import pytest

from cellclinic.accounts.models import Site
from cellclinic.audit.models import AuditEvent
from cellclinic.patients.identifiers import mrn_is_valid
from cellclinic.patients.models import Patient
from cellclinic.patients.services import DOB_IN_FUTURE
from cellclinic.patients.tests.helpers import assert_no_patient_data, form_data, row_counts
from conftest import make_user

pytestmark = pytest.mark.django_db

URL = "/patients/new/"


@pytest.fixture
def nurse_two_clinics(clinic_a, clinic_b, lab):
    """A nurse who works at both clinics, and holds a lab role too."""
    return make_user(
        "dee", first="Dee", last="Nwosu", roles=[(clinic_a, "nurse"), (clinic_b, "nurse"), (lab, "nurse")]
    )


def test_it_shows_an_empty_form(client, dr_ada):
    client.force_login(dr_ada)
    response = client.get(URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["nav_active"] == "patients"
    assert 'type="date" name="date_of_birth"' in body
    assert 'type="checkbox" name="history" value="keloid_history"' in body
    assert 'type="checkbox" name="allergies" value="trypsin"' in body
    assert "Keloid or hypertrophic scar may form at the biopsy or injection site" in body
    assert 'name="site"' not in body
    assert 'name="reason"' not in body


def test_it_registers_a_patient_and_opens_the_chart(client, dr_ada, clinic_a):
    client.force_login(dr_ada)
    response = client.post(URL, form_data(), follow=True)
    patient = Patient.objects.get()
    assert response.redirect_chain == [(f"/patients/{patient.pk}/", 302)]
    assert f"Ada Lovelace is registered with MRN {patient.mrn}." in response.content.decode()
    assert patient.site == clinic_a
    assert mrn_is_valid(patient.mrn) and patient.mrn.startswith("NCL-")
    assert patient.date_of_birth.isoformat() == "1985-12-10"
    assert patient.history == ["keloid_history"]
    assert patient.allergies == ["trypsin"]
    assert patient.email == "ada@example.org"


def test_it_records_one_audit_event(client, dr_ada):
    client.force_login(dr_ada)
    client.post(URL, form_data())
    patient = Patient.objects.get()
    event = AuditEvent.objects.get(action="patient.create")
    assert event.object_id == str(patient.pk)
    assert event.patient_id == patient.pk
    assert event.actor == dr_ada
    assert event.after["family_name"] == "Lovelace"
    assert event.after["mrn"] == patient.mrn
    assert event.after["history"] == ["keloid_history"]
    assert AuditEvent.objects.filter(patient_id=patient.pk).count() == 1


def test_it_rejects_missing_and_malformed_fields_inline(client, dr_ada):
    client.force_login(dr_ada)
    before = row_counts()
    response = client.post(URL, form_data(family_name="  ", email="not-an-email", date_of_birth="31/02/1990"))
    assert response.status_code == 422
    form = response.context["form"]
    assert set(form.errors) == {"family_name", "email", "date_of_birth"}
    body = response.content.decode()
    assert "Nothing was saved." in body
    assert 'id="id_family_name_error"' in body
    assert row_counts() == before


def test_it_puts_the_services_errors_on_the_form(client, dr_ada):
    client.force_login(dr_ada)
    before = row_counts()
    response = client.post(URL, form_data(date_of_birth="2999-01-01"))
    assert response.status_code == 422
    assert response.context["form"].errors == {"date_of_birth": [DOB_IN_FUTURE]}
    assert f'<p class="error" id="id_date_of_birth_error">{DOB_IN_FUTURE}</p>' in response.content.decode()
    assert row_counts() == before


def test_it_rejects_an_unknown_history_code(client, dr_ada):
    client.force_login(dr_ada)
    before = row_counts()
    response = client.post(URL, form_data(history=["keloid_history", "made_up"]))
    assert response.status_code == 422
    assert "history" in response.context["form"].errors
    assert row_counts() == before


def test_it_keeps_what_was_typed_after_an_error(client, dr_ada):
    client.force_login(dr_ada)
    body = client.post(URL, form_data(email="nope")).content.decode()
    assert 'value="Lovelace"' in body
    assert 'value="keloid_history" id="id_history_3" checked' in body


def test_it_asks_for_the_clinic_when_the_user_works_at_several(client, nurse_two_clinics):
    client.force_login(nurse_two_clinics)
    body = client.get(URL).content.decode()
    assert 'name="site"' in body
    assert "North Clinic (NCL)" in body and "Riverside Clinic (RSC)" in body
    assert "Central Cell Lab" not in body
    before = row_counts()
    response = client.post(URL, form_data())
    assert response.status_code == 422
    assert "site" in response.context["form"].errors
    assert row_counts() == before


def test_it_registers_at_the_chosen_clinic(client, nurse_two_clinics, clinic_b):
    client.force_login(nurse_two_clinics)
    client.post(URL, form_data(site=clinic_b.pk))
    patient = Patient.objects.get()
    assert patient.site == clinic_b
    assert patient.mrn.startswith("RSC-")


def test_it_rejects_other_clinic(client, nurse_two_clinics, lab):
    elsewhere = Site.objects.create(code="ELS", name="Elsewhere Clinic", kind="clinic", lab=lab)
    client.force_login(nurse_two_clinics)
    before = row_counts()
    for site_id in (elsewhere.pk, lab.pk):
        response = client.post(URL, form_data(site=site_id))
        assert response.status_code == 422
        assert "site" in response.context["form"].errors
    assert row_counts() == before


def test_it_sends_anonymous_visitors_to_sign_in(client):
    before = row_counts()
    response = client.post(URL, form_data())
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")
    assert row_counts() == before


@pytest.mark.parametrize("user", ["lab_li", "qa_quinn", "pat"])
def test_it_is_not_found_for_users_who_cannot_edit_patients(client, request, user, patient_a):
    client.force_login(request.getfixturevalue(user))
    before = row_counts()
    assert client.get(URL).status_code == 404
    response = client.post(URL, form_data())
    assert response.status_code == 404
    assert row_counts() == before
    assert_no_patient_data(response, patient_a, names=user != "pat")
