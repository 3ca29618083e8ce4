"""Signing the history review at /patients/<id>/sign/."""

import pytest

from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.audit.services import WRONG_PASSWORD, record_hash
from cellclinic.patients.services import REVIEW_STATEMENT, patient_update
from cellclinic.patients.tests.helpers import assert_no_patient_data, row_counts
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _url(patient) -> str:
    return f"/patients/{patient.pk}/sign/"


def test_it_signs_the_review_and_returns_to_the_chart(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    response = client.post(_url(patient_a), {"password": PASSWORD}, follow=True)
    assert response.redirect_chain == [(f"/patients/{patient_a.pk}/?section=history", 302)]
    assert "You signed the history review." in response.content.decode()
    signature = Signature.objects.get()
    assert signature.signer == dr_ada
    assert signature.meaning == "reviewed"
    assert (signature.object_type, signature.object_id) == ("patient", str(patient_a.pk))
    assert signature.patient_id == patient_a.pk
    assert signature.site_id == patient_a.site_id
    assert signature.statement == REVIEW_STATEMENT


def test_it_binds_the_signature_to_the_history_allergies_and_mrn(client, dr_ada, patient_a):
    patient_update(
        patient=patient_a,
        actor=dr_ada,
        data={"allergies": ["trypsin"], "history_notes": "none"},
        reason="Corrected at the visit",
    )
    client.force_login(dr_ada)
    client.post(_url(patient_a), {"password": PASSWORD})
    expected = {
        "mrn": patient_a.mrn,
        "history": [],
        "history_notes": "none",
        "allergies": ["trypsin"],
        "allergy_notes": "",
    }
    assert Signature.objects.get().record_hash == record_hash(expected)


def test_it_records_one_audit_event(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    before = AuditEvent.objects.count()
    client.post(_url(patient_a), {"password": PASSWORD})
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action="signature.create")
    assert event.patient_id == patient_a.pk
    assert event.after["meaning"] == "reviewed"


def test_the_chart_tells_when_the_record_changed_after_signing(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    client.post(_url(patient_a), {"password": PASSWORD})
    patient_update(
        patient=patient_a, actor=dr_ada, data={"email": "grace@example.org"}, reason="Corrected at the visit"
    )
    history = client.get(f"/patients/{patient_a.pk}/?section=history").content.decode()
    assert "Matches the current record" in history
    patient_update(
        patient=patient_a,
        actor=dr_ada,
        data={"history": ["immunosuppressed"]},
        reason="Corrected at the visit",
    )
    body = client.get(f"/patients/{patient_a.pk}/?section=history").content.decode()
    assert "The history or allergies changed after this signature" in body


@pytest.mark.parametrize("password", ["wrong password", ""])
def test_it_refuses_a_wrong_password_and_writes_nothing(client, dr_ada, patient_a, password):
    client.force_login(dr_ada)
    before = row_counts()
    response = client.post(_url(patient_a), {"password": password})
    assert response.status_code == 422
    assert "password" in response.context["sign_form"].errors
    if password:
        assert WRONG_PASSWORD in response.content.decode()
    assert row_counts() == before


@pytest.mark.parametrize("user", ["nurse_bo", "admin_al"])
def test_it_forbids_staff_who_cannot_sign(client, request, user, patient_a):
    client.force_login(request.getfixturevalue(user))
    before = row_counts()
    response = client.post(_url(patient_a), {"password": PASSWORD})
    assert response.status_code == 403
    assert_no_patient_data(response, patient_a)
    assert row_counts() == before


def test_it_rejects_other_clinic(client, dr_cy, patient_a):
    client.force_login(dr_cy)
    before = row_counts()
    response = client.post(_url(patient_a), {"password": PASSWORD})
    assert response.status_code == 404
    assert_no_patient_data(response, patient_a)
    assert row_counts() == before


@pytest.mark.parametrize("user", ["lab_li", "qa_quinn", "pat"])
def test_it_is_not_found_for_users_without_patient_access(client, request, user, patient_a):
    client.force_login(request.getfixturevalue(user))
    before = row_counts()
    response = client.post(_url(patient_a), {"password": PASSWORD})
    assert response.status_code == 404
    assert_no_patient_data(response, patient_a, names=user != "pat")
    assert row_counts() == before


def test_it_sends_anonymous_visitors_to_sign_in(client, patient_a):
    before = row_counts()
    response = client.post(_url(patient_a), {"password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")
    assert row_counts() == before


def test_it_only_accepts_post(client, dr_ada, patient_a):
    client.force_login(dr_ada)
    assert client.get(_url(patient_a)).status_code == 405


def test_repeated_wrong_passwords_pause_signing_and_sign_in(client, dr_ada, patient_a, settings):
    from django.test import Client

    from cellclinic.accounts.throttle import PAUSED

    client.force_login(dr_ada)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(_url(patient_a), {"password": "a guess"})
    before = row_counts()

    response = client.post(_url(patient_a), {"password": PASSWORD})

    assert response.status_code == 429
    assert PAUSED in response.content.decode()
    assert row_counts() == before
    assert not Signature.objects.exists()
    assert Client().post("/sign-in/", {"username": "ada", "password": PASSWORD}).status_code == 429


def test_a_few_wrong_passwords_do_not_stop_a_right_one(client, dr_ada, patient_a, settings):
    client.force_login(dr_ada)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(_url(patient_a), {"password": "a guess"})
    response = client.post(_url(patient_a), {"password": PASSWORD})
    assert response.status_code == 302
    assert Signature.objects.count() == 1
