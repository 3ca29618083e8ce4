"""Correcting a patient's record at /patients/<id>/edit/."""

import pytest

from cellclinic.audit.models import AuditEvent
from cellclinic.patients.models import Patient
from cellclinic.patients.services import DOB_IN_FUTURE
from cellclinic.patients.tests.helpers import assert_no_patient_data, chart_form_data, page_text, row_counts

pytestmark = pytest.mark.django_db


def _url(patient) -> str:
    return f"/patients/{patient.pk}/edit/"


def test_it_shows_the_form_filled_in(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    response = client.get(_url(patient_a))
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["nav_active"] == "patients"
    assert 'value="Hopper"' in body
    assert 'type="date" name="date_of_birth" value="1980-12-09"' in body
    assert '<option value="II" selected>' in body
    assert 'name="reason"' in body
    assert 'name="site"' not in body


def test_it_saves_the_change_and_opens_the_chart(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    data = chart_form_data(
        patient_a, email="grace@example.org", allergies=["dmso", "anaesthetic"], reason="New email"
    )
    response = client.post(_url(patient_a), data, follow=True)
    assert response.redirect_chain == [(f"/patients/{patient_a.pk}/", 302)]
    assert "The record is updated." in response.content.decode()
    patient_a.refresh_from_db()
    assert patient_a.email == "grace@example.org"
    assert patient_a.allergies == ["anaesthetic", "dmso"]


def test_a_change_without_a_reason_is_refused_beside_the_reason_field(client, nurse_bo, patient_a):
    client.force_login(nurse_bo)
    before = AuditEvent.objects.count()
    response = client.post(_url(patient_a), chart_form_data(patient_a, phone="0191 496 0000", reason=""))
    assert response.status_code == 422
    assert "give the reason for the change" in response.content.decode()
    patient_a.refresh_from_db()
    assert patient_a.phone == "" and AuditEvent.objects.count() == before


def test_it_records_only_the_changed_fields_with_the_reason(client, nurse_bo, patient_a):
    client.force_login(nurse_bo)
    data = chart_form_data(patient_a, phone="0191 496 0000", history=["herpes_labialis"], reason="Phoned in")
    client.post(_url(patient_a), data)
    event = AuditEvent.objects.get(action="patient.update")
    assert event.before == {"phone": "", "history": []}
    assert event.after == {"phone": "0191 496 0000", "history": ["herpes_labialis"]}
    assert event.reason == "Phoned in"
    assert event.actor == nurse_bo
    assert event.patient_id == patient_a.pk


def test_it_writes_nothing_when_nothing_changed(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    before = row_counts()
    updated_at = patient_a.updated_at
    response = client.post(_url(patient_a), chart_form_data(patient_a, reason="Checked"), follow=True)
    assert "Nothing was changed." in response.content.decode()
    assert row_counts() == before
    patient_a.refresh_from_db()
    assert patient_a.updated_at == updated_at


def test_it_rejects_invalid_input_and_changes_nothing(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    before = row_counts()
    data = chart_form_data(patient_a, given_name="", fitzpatrick_type="VII", email="grace@example.org")
    response = client.post(_url(patient_a), data)
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"given_name", "fitzpatrick_type"}
    assert row_counts() == before
    assert Patient.objects.get(pk=patient_a.pk).email == ""


def test_it_shows_the_services_errors_inline_and_keeps_the_header(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    before = row_counts()
    data = chart_form_data(patient_a, family_name="Changed", date_of_birth="2999-01-01")
    response = client.post(_url(patient_a), data)
    assert response.status_code == 422
    assert response.context["form"].errors == {"date_of_birth": [DOB_IN_FUTURE]}
    assert "<h1>Edit Grace HOPPER</h1>" in response.content.decode()
    assert row_counts() == before
    assert Patient.objects.get(pk=patient_a.pk).family_name == "Hopper"


def test_it_rejects_other_clinic(client, dr_cy, patient_a):
    client.force_login(dr_cy)
    before = row_counts()
    assert client.get(_url(patient_a)).status_code == 404
    response = client.post(_url(patient_a), chart_form_data(patient_a, email="x@example.org"))
    assert response.status_code == 404
    assert_no_patient_data(response, patient_a)
    assert row_counts() == before


def test_it_answers_a_missing_record_like_another_clinics(client, dr_cy, patient_a):
    client.force_login(dr_cy)
    other = client.get(_url(patient_a))
    missing = client.get(f"/patients/{patient_a.pk + 1000}/edit/")
    assert other.status_code == missing.status_code == 404
    assert page_text(other) == page_text(missing)


@pytest.mark.parametrize("user", ["lab_li", "qa_quinn", "pat"])
def test_it_is_not_found_for_users_who_cannot_edit_patients(client, request, user, patient_a):
    client.force_login(request.getfixturevalue(user))
    before = row_counts()
    assert client.get(_url(patient_a)).status_code == 404
    response = client.post(_url(patient_a), chart_form_data(patient_a, email="x@example.org"))
    assert response.status_code == 404
    assert_no_patient_data(response, patient_a, names=user != "pat")
    assert row_counts() == before


def test_it_sends_anonymous_visitors_to_sign_in(client, patient_a):
    before = row_counts()
    response = client.post(_url(patient_a), chart_form_data(patient_a, email="x@example.org"))
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")
    assert row_counts() == before


def test_a_change_made_meanwhile_by_someone_else_is_not_overwritten(client, dr_ada, nurse_bo, patient_a):
    from cellclinic.patients.services import CHANGED_MEANWHILE, patient_update

    client.force_login(dr_ada)
    opened = client.get(_url(patient_a)).context["form"]["version"].value()
    data = chart_form_data(patient_a, email="ada.saw.this@example.org", version=opened)
    patient_update(patient=patient_a, actor=nurse_bo, data={"phone": "0113 496 0999"}, reason="Phoned in")
    counts = row_counts()

    response = client.post(_url(patient_a), data)

    assert response.status_code == 422
    assert CHANGED_MEANWHILE in response.content.decode()
    patient_a.refresh_from_db()
    assert patient_a.phone == "0113 496 0999"
    assert patient_a.email == ""
    assert row_counts() == counts


def test_the_form_carries_the_version_it_was_opened_at(client, dr_ada, patient_a):
    from cellclinic.patients.services import patient_version

    client.force_login(dr_ada)
    body = client.get(_url(patient_a)).content.decode()
    assert f'type="hidden" name="version" value="{patient_version(patient_a)}"' in body
