"""The start page and navigation follow the user's roles."""

import pytest

from cellclinic.demo.builder import at_stage
from conftest import PASSWORD


@pytest.mark.django_db
def test_practitioner_sees_patients_and_no_audit_link(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    body = client.get("/").content.decode()
    assert 'href="/patients/"' in body
    assert 'href="/audit/"' not in body
    assert '<p class="stat">1</p>' in body  # the patients registered at their clinic


@pytest.mark.django_db
def test_clinic_admin_sees_the_audit_link(client, admin_al):
    client.force_login(admin_al)
    body = client.get("/").content.decode()
    assert 'href="/audit/"' in body


@pytest.mark.django_db
def test_lab_technician_home_shows_no_patient_data(client, lab_li, patient_a, clinic_a):
    client.force_login(lab_li)
    body = client.get("/").content.decode()
    assert 'href="/patients/"' not in body
    assert "Hopper" not in body and "HOPPER" not in body
    assert patient_a.mrn not in body
    assert "North Clinic" in body  # the clinics the lab serves


@pytest.mark.django_db
def test_other_clinic_patients_are_not_listed_on_home(client, dr_ada, dr_cy, patient_a, patient_b):
    at_stage("consultation_open", patient=patient_a, practitioner=dr_ada, password=PASSWORD)
    at_stage("consultation_open", patient=patient_b, practitioner=dr_cy, password=PASSWORD)
    client.force_login(dr_cy)
    body = client.get("/").content.decode()
    assert "FRANKLIN" in body  # their own clinic's consultation in progress
    assert "HOPPER" not in body
    assert '<p class="stat">1</p>' in body  # only their clinic's patients are counted


@pytest.mark.django_db
def test_patient_portal_user_is_sent_to_the_portal(client, pat):
    client.force_login(pat)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/patients/portal/"
