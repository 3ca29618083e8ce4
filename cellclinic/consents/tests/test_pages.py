"""Consent pages: prepare, read, sign in the portal or in clinic, countersign, download, withdraw."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cellclinic.audit.models import AuditEvent
from cellclinic.consents.models import Consent
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _url(name, *args):
    """A consultation page, or (for names starting consent_) the consent page beside it."""
    if name.startswith("consent_"):
        return reverse(f"consents:{name.removeprefix('consent_')}", args=args)
    return reverse(f"consultations:{name}", args=args)


def test_consent_new_and_detail(client, dr_ada, decided):
    client.force_login(dr_ada)
    assert client.get(_url("consent_new", decided.pk)).status_code == 200
    response = client.post(_url("consent_new", decided.pk))
    consent = Consent.objects.get()
    assert response["Location"] == _url("consent_detail", consent.pk)
    again = client.post(_url("consent_new", decided.pk))
    assert again.status_code == 422 and Consent.objects.count() == 1
    page = client.get(_url("consent_detail", consent.pk))
    assert (
        page.status_code == 200
        and b"What the treatment is for and what it involves" in page.content
        and b"Patient signs here in clinic" in page.content
    )


def test_consent_new_is_refused_for_an_open_consultation(client, dr_ada, consultation):
    client.force_login(dr_ada)
    assert client.post(_url("consent_new", consultation.pk)).status_code == 422
    assert not Consent.objects.exists()


@pytest.mark.parametrize("persona", ["dr_cy", "lab_li", "qa_quinn"])
def test_consent_pages_are_404_for_other_staff(client, request, consent, persona):
    client.force_login(request.getfixturevalue(persona))
    for name in (
        "consent_detail",
        "consent_pdf",
        "consent_sign_in_clinic",
        "consent_withdraw",
        "consent_sign",
    ):
        assert client.get(_url(name, consent.pk)).status_code == 404
    assert client.post(_url("consent_countersign", consent.pk), {"password": PASSWORD}).status_code == 404


def test_the_patient_reads_and_signs_their_own_consent(client, pat, consent):
    client.force_login(pat)
    page = client.get(_url("consent_detail", consent.pk))
    assert page.status_code == 200 and b"read and sign it" in page.content
    assert client.get(_url("consent_sign", consent.pk)).status_code == 200
    missing = client.post(_url("consent_sign", consent.pk), {"password": PASSWORD})
    assert missing.status_code == 422
    response = client.post(
        _url("consent_sign", consent.pk),
        {"photographs": "yes", "outcome_reports": "no", "understood": "on", "password": PASSWORD},
    )
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.status == "awaiting_practitioner" and consent.photographs is True
    assert consent.outcome_reports is False
    # The patient never reaches the staff-only steps.
    assert client.get(_url("consent_sign_in_clinic", consent.pk)).status_code == 404
    assert client.post(_url("consent_countersign", consent.pk), {"password": PASSWORD}).status_code == 404
    assert client.get(_url("detail", consent.consultation_id)).status_code == 404


def test_the_patient_gets_404_on_another_patients_consent(client, consent, patient_b):
    from cellclinic.patients.services import patient_link_portal_user
    from conftest import make_user

    other = make_user("rosa", first="Rosalind", last="Franklin", kind="patient")
    patient_link_portal_user(patient=patient_b, user=other, actor=None)
    client.force_login(other)
    for name in ("consent_detail", "consent_pdf", "consent_sign", "consent_withdraw"):
        assert client.get(_url(name, consent.pk)).status_code == 404


def test_staff_cannot_use_the_portal_signature(client, dr_ada, consent):
    client.force_login(dr_ada)
    assert client.get(_url("consent_sign", consent.pk)).status_code == 404


def test_sign_in_clinic_then_countersign_and_download(client, dr_ada, consent, patient_a):
    client.force_login(dr_ada)
    bad = client.post(
        _url("consent_sign_in_clinic", consent.pk),
        {
            "photographs": "no",
            "outcome_reports": "no",
            "understood": "on",
            "patient_name": "Ada",
            "password": PASSWORD,
        },
    )
    assert bad.status_code == 422 and b"full name" in bad.content
    ok = client.post(
        _url("consent_sign_in_clinic", consent.pk),
        {
            "photographs": "no",
            "outcome_reports": "no",
            "understood": "on",
            "patient_name": "Grace Hopper",
            "password": PASSWORD,
        },
    )
    assert ok.status_code == 302
    wrong = client.post(_url("consent_countersign", consent.pk), {"password": "wrong"})
    assert wrong.status_code == 422
    assert client.post(_url("consent_countersign", consent.pk), {"password": PASSWORD}).status_code == 302
    consent.refresh_from_db()
    assert consent.status == "signed"
    response = client.get(_url("consent_pdf", consent.pk))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"].startswith("attachment;")
        and "signed" in response["Content-Disposition"]
    )
    assert response.content.startswith(b"%PDF-") and bytes(patient_a.full_name, "ascii") in response.content
    assert "no-store" in response["Cache-Control"]


def test_the_unsigned_pdf_says_so(client, pat, consent):
    client.force_login(pat)
    response = client.get(_url("consent_pdf", consent.pk))
    assert response.status_code == 200 and b"NOT SIGNED" in response.content
    assert "not-signed" in response["Content-Disposition"]


def test_withdrawal_pages(client, nurse_bo, pat, signed_consent):
    client.force_login(nurse_bo)
    assert client.get(_url("consent_withdraw", signed_consent.pk)).status_code == 200
    assert client.post(_url("consent_withdraw", signed_consent.pk), {"reason": ""}).status_code == 422
    signed_consent.refresh_from_db()
    assert signed_consent.status == "signed"
    client.force_login(pat)
    assert client.post(_url("consent_withdraw", signed_consent.pk), {"password": "nope"}).status_code == 422
    response = client.post(_url("consent_withdraw", signed_consent.pk), {"password": PASSWORD})
    assert response.status_code == 302
    signed_consent.refresh_from_db()
    assert signed_consent.status == "withdrawn"
    assert AuditEvent.objects.filter(action="consent.withdraw").count() == 1
    page = client.get(_url("consent_detail", signed_consent.pk))
    assert b"Withdrawn" in page.content and b"read and sign" not in page.content


def test_a_signed_consent_leads_the_practitioner_to_the_plan(client, dr_ada, nurse_bo, signed_consent):
    from cellclinic.treatment.services import plan_create

    plan_url = reverse("treatment:new", kwargs={"consultation_id": signed_consent.consultation_id})
    client.force_login(nurse_bo)
    assert plan_url not in client.get(_url("consent_detail", signed_consent.pk)).content.decode()
    client.force_login(dr_ada)
    assert plan_url in client.get(_url("consent_detail", signed_consent.pk)).content.decode()

    plan_create(
        consultation=signed_consent.consultation,
        actor=dr_ada,
        harvest_date=timezone.localdate() + timedelta(days=7),
    )
    assert plan_url not in client.get(_url("consent_detail", signed_consent.pk)).content.decode()
