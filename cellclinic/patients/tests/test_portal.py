"""The patient's own record at /patients/portal/."""

import pytest

from cellclinic.patients.services import patient_update
from cellclinic.patients.tests.helpers import assert_no_patient_data
from conftest import make_user

pytestmark = pytest.mark.django_db

URL = "/patients/portal/"


def test_it_shows_the_patient_their_own_record(client, pat, patient_a, dr_ada):
    patient_update(
        patient=patient_a,
        actor=dr_ada,
        data={"email": "grace@example.org", "postcode": "NE1 4LP", "allergies": ["antiseptic"]},
        reason="Corrected at the visit",
    )
    client.force_login(pat)
    response = client.get(URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["nav_active"] == "portal"
    assert "Grace Hopper" in body
    assert patient_a.mrn in body
    assert "9 December 1980" in body
    assert "North Clinic" in body
    assert "grace@example.org" in body and "NE1 4LP" in body
    assert "Fitzpatrick II — fair" in body
    assert "<li>Antiseptics (povidone-iodine, chlorhexidine)</li>" in body
    assert "please contact North Clinic" in body


def test_it_says_none_recorded_when_nothing_is_recorded(client, pat):
    client.force_login(pat)
    assert client.get(URL).content.decode().count("None recorded.") == 2


def test_it_shows_no_other_patient(client, pat, patient_b):
    client.force_login(pat)
    assert_no_patient_data(client.get(URL), patient_b)


def test_it_shows_no_staff_information(client, pat, patient_a, dr_ada):
    patient_update(patient=patient_a, actor=dr_ada, data={"pronouns": "she/her"}, reason="Asked at visit")
    client.force_login(pat)
    body = client.get(URL).content.decode()
    assert "Ada Okafor" not in body
    assert "Asked at visit" not in body
    assert "/edit/" not in body


def test_it_explains_when_the_account_is_not_linked(client, patient_a):
    unlinked = make_user("newpat", first="Alan", last="Turing", kind="patient")
    client.force_login(unlinked)
    response = client.get(URL)
    assert response.status_code == 200
    assert "not linked to a clinic record yet" in response.content.decode()
    assert_no_patient_data(response, patient_a)


@pytest.mark.parametrize("user", ["dr_ada", "nurse_bo", "admin_al", "lab_li", "qa_quinn"])
def test_it_is_not_found_for_staff(client, request, user, pat, patient_a):
    client.force_login(request.getfixturevalue(user))
    response = client.get(URL)
    assert response.status_code == 404
    assert_no_patient_data(response, patient_a)


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/patients/portal/"
