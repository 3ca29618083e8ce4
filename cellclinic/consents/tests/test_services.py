"""Consent: prepared from the catalogue, signed by both, kept as a PDF, withdrawn."""

import hashlib
import re

import pytest
from django.core.files.storage import default_storage

from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.audit.services import record_hash
from cellclinic.consents.document import TEMPLATE_VERSION
from cellclinic.consents.models import Consent
from cellclinic.consents.pdf import NOT_SIGNED
from cellclinic.consents.selectors import consent_in_force, consents_for_patient
from cellclinic.consents.services import (
    CONSENT_EXISTS,
    CONSENT_NEEDS_PROCEED,
    CONSENT_WITHDRAWN,
    consent_countersign,
    consent_patient_sign,
    consent_prepare,
    consent_record,
    consent_render_pdf,
    consent_sign_in_clinic,
    consent_stored_pdf,
    consent_withdraw,
)
from cellclinic.consultations.selectors import consultations_for_patient
from cellclinic.consultations.services import consultation_decide
from cellclinic.core import plugs
from cellclinic.core.errors import Forbidden, InvalidInput
from conftest import PASSWORD

from .conftest import THERAPY

pytestmark = pytest.mark.django_db


def _fields(exc) -> set[str]:
    return {e.field for e in exc.value.errors}


def _pdf_text(content: bytes) -> str:
    """The literal strings drawn on the pages (streams are stored uncompressed)."""
    return " ".join(m.decode("latin-1") for m in re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", content))


def test_prepare_makes_the_document_from_the_catalogue(consent, decided, dr_ada):
    assert consent.status == Consent.Status.AWAITING_PATIENT
    assert consent.therapy_code == THERAPY and consent.template_version == TEMPLATE_VERSION
    # THERAPY is offered only within a study: its consent is a research consent.
    assert consent.document["title"].startswith("Consent to take part in research")
    assert consent.document_hash == record_hash(consent.document)
    assert consent.consultation == decided and consent.patient_id == decided.patient_id
    assert AuditEvent.objects.filter(action="consent.prepare", object_id=str(consent.pk)).count() == 1


def test_prepare_needs_a_decided_proceed_consultation(consultation, dr_ada, patient_a):
    with pytest.raises(InvalidInput) as exc:
        consent_prepare(consultation=consultation, actor=dr_ada)
    assert exc.value.errors[0].message == CONSENT_NEEDS_PROCEED
    declined = consultation_decide(
        consultation=consultation, actor=dr_ada, password=PASSWORD, decision="decline"
    )
    with pytest.raises(InvalidInput):
        consent_prepare(consultation=declined, actor=dr_ada)
    assert not Consent.objects.exists()


def test_one_live_consent_per_consultation(consent, decided, dr_ada):
    with pytest.raises(InvalidInput) as exc:
        consent_prepare(consultation=decided, actor=dr_ada)
    assert exc.value.errors[0].message == CONSENT_EXISTS
    assert Consent.objects.count() == 1


def test_a_nurse_cannot_prepare(decided, nurse_bo, dr_cy):
    for user in (nurse_bo, dr_cy):
        with pytest.raises(Forbidden):
            consent_prepare(consultation=decided, actor=user)


def test_the_patient_signs_then_the_practitioner_countersigns(signed_consent, pat, dr_ada):
    consent = signed_consent
    assert consent.status == Consent.Status.SIGNED and consent.in_force
    assert consent.photographs is True and consent.outcome_reports is False
    assert (
        consent.patient_signed_at and consent.practitioner_signed_at and not consent.patient_signed_in_clinic
    )
    signatures = list(
        Signature.objects.filter(object_type="consent", object_id=str(consent.pk)).order_by("id")
    )
    assert [(s.signer, s.meaning) for s in signatures] == [(pat, "consented"), (dr_ada, "authored")]
    assert {s.record_hash for s in signatures} == {record_hash(consent_record(consent))}
    assert consent_in_force(consent.consultation) == consent


def test_the_signed_pdf_is_stored_with_its_hash(signed_consent, patient_a):
    consent = signed_consent
    assert consent.pdf.name.startswith("consents/")
    content = consent_stored_pdf(consent)
    assert content.startswith(b"%PDF-") and hashlib.sha256(content).hexdigest() == consent.pdf_sha256
    text = _pdf_text(content)
    assert patient_a.full_name in text and patient_a.mrn in text
    assert "Consent to take part in research" in text and "acne scars" in text.lower()
    assert "CONSENTED: Grace Hopper" in text and "AUTHORED: Ada Okafor" in text
    assert " UTC" in text and "record SHA-256" in text
    assert NOT_SIGNED.replace("—", "") not in text.replace("\x97", "")
    assert default_storage.exists(consent.pdf.name)


def test_an_unsigned_copy_is_marked_and_reproducible(consent, patient_a):
    first, second = consent_render_pdf(consent), consent_render_pdf(consent)
    assert first == second  # invariant output
    text = _pdf_text(first)
    assert "NOT SIGNED" in text and patient_a.full_name in text
    assert "Not yet chosen" in text


def test_choices_and_understanding_are_required(consent, pat):
    with pytest.raises(InvalidInput) as exc:
        consent_patient_sign(
            consent=consent,
            signer=pat,
            password=PASSWORD,
            photographs=None,
            outcome_reports=None,
            understood=False,
        )
    assert _fields(exc) == {"photographs", "outcome_reports", "understood"}
    consent.refresh_from_db()
    assert consent.status == "awaiting_patient" and consent.photographs is None
    assert not Signature.objects.filter(object_type="consent").exists()


def test_a_wrong_patient_password_changes_nothing(consent, pat):
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as exc:
        consent_patient_sign(
            consent=consent,
            signer=pat,
            password="nope",
            photographs=True,
            outcome_reports=True,
            understood=True,
        )
    assert _fields(exc) == {"password"}
    consent.refresh_from_db()
    assert consent.status == "awaiting_patient" and consent.photographs is None
    assert AuditEvent.objects.count() == events


def test_only_the_patient_themself_signs_in_the_portal(consent, dr_ada, patient_b):
    from cellclinic.patients.services import patient_link_portal_user
    from conftest import make_user

    other = make_user("rosa", first="Rosalind", last="Franklin", kind="patient")
    patient_link_portal_user(patient=patient_b, user=other, actor=None)
    for signer in (dr_ada, other):
        with pytest.raises(Forbidden):
            consent_patient_sign(
                consent=consent,
                signer=signer,
                password=PASSWORD,
                photographs=True,
                outcome_reports=True,
                understood=True,
            )


def test_signing_in_clinic_checks_the_typed_name(consent, dr_ada, patient_a):
    with pytest.raises(InvalidInput) as exc:
        consent_sign_in_clinic(
            consent=consent,
            practitioner=dr_ada,
            password=PASSWORD,
            typed_name="Grace Hoper",
            photographs=False,
            outcome_reports=True,
            understood=True,
        )
    assert _fields(exc) == {"patient_name"}
    signed = consent_sign_in_clinic(
        consent=consent,
        practitioner=dr_ada,
        password=PASSWORD,
        typed_name="  grace   HOPPER ",
        photographs=False,
        outcome_reports=True,
        understood=True,
    )
    assert signed.status == "awaiting_practitioner" and signed.patient_signed_in_clinic
    [signature] = Signature.objects.filter(object_type="consent", object_id=str(consent.pk))
    assert signature.meaning == "witnessed" and signature.signer == dr_ada
    assert patient_a.full_name in signature.statement and patient_a.mrn in signature.statement
    done = consent_countersign(consent=signed, practitioner=dr_ada, password=PASSWORD)
    assert done.status == "signed" and done.pdf_sha256


def test_a_nurse_cannot_witness_or_countersign(consent, nurse_bo):
    with pytest.raises(Forbidden):
        consent_sign_in_clinic(
            consent=consent,
            practitioner=nurse_bo,
            password=PASSWORD,
            typed_name="Grace Hopper",
            photographs=True,
            outcome_reports=True,
            understood=True,
        )
    with pytest.raises(Forbidden):
        consent_countersign(consent=consent, practitioner=nurse_bo, password=PASSWORD)


def test_countersigning_waits_for_the_patient(consent, dr_ada):
    with pytest.raises(InvalidInput) as exc:
        consent_countersign(consent=consent, practitioner=dr_ada, password=PASSWORD)
    assert _fields(exc) == {"status"}
    consent.refresh_from_db()
    assert not consent.pdf and consent.status == "awaiting_patient"


def test_staff_withdraw_with_a_reason_and_the_plans_stop(signed_consent, nurse_bo, monkeypatch):
    stopped = []
    assert "treatment.stop_plans" in plugs.hooks_for("consent_withdrawn")
    monkeypatch.setitem(
        plugs._HOOKS["consent_withdrawn"], "zz.spy", lambda **details: stopped.append(details)
    )
    with pytest.raises(InvalidInput) as exc:
        consent_withdraw(consent=signed_consent, actor=nurse_bo, reason="  ")
    assert _fields(exc) == {"reason"}
    withdrawn = consent_withdraw(consent=signed_consent, actor=nurse_bo, reason="Changed their mind")
    assert withdrawn.status == "withdrawn" and withdrawn.withdrawn_by == nurse_bo
    assert withdrawn.withdrawn_reason == "Changed their mind" and not withdrawn.in_force
    assert stopped and stopped[0]["consent"].pk == withdrawn.pk
    assert consent_in_force(withdrawn.consultation) is None
    assert Consent.objects.filter(pk=withdrawn.pk).exists()  # recorded, never erased
    [event] = AuditEvent.objects.filter(action="consent.withdraw")
    assert event.reason == "Changed their mind"
    with pytest.raises(InvalidInput):
        consent_withdraw(consent=withdrawn, actor=nurse_bo, reason="again")


def test_withdrawal_stops_an_active_plan(signed_consent, dr_ada):
    from datetime import timedelta

    from django.utils import timezone

    from cellclinic.treatment.models import TreatmentPlan
    from cellclinic.treatment.services import plan_create

    plan = plan_create(
        consultation=signed_consent.consultation,
        actor=dr_ada,
        harvest_date=timezone.localdate() + timedelta(days=7),
    )
    consent_withdraw(consent=signed_consent, actor=dr_ada, reason="Patient asked to stop")
    plan.refresh_from_db()
    assert plan.status == TreatmentPlan.Status.STOPPED


def test_the_patient_withdraws_with_their_password(signed_consent, pat):
    with pytest.raises(InvalidInput) as exc:
        consent_withdraw(consent=signed_consent, actor=pat, password="wrong")
    assert _fields(exc) == {"password"}
    signed_consent.refresh_from_db()
    assert signed_consent.status == "signed"
    withdrawn = consent_withdraw(consent=signed_consent, actor=pat, password=PASSWORD)
    assert withdrawn.status == "withdrawn" and withdrawn.withdrawn_by == pat


def test_the_patient_cannot_withdraw_what_they_have_not_signed(consent, pat):
    with pytest.raises(InvalidInput) as exc:
        consent_withdraw(consent=consent, actor=pat, password=PASSWORD)
    assert _fields(exc) == {"status"}
    assert "nothing to withdraw" in exc.value.detail
    consent.refresh_from_db()
    assert consent.status == "awaiting_patient" and consent.withdrawn_at is None


def test_a_withdrawn_consent_cannot_be_signed_and_a_new_one_can_be_prepared(consent, pat, dr_ada, decided):
    consent_withdraw(consent=consent, actor=dr_ada, reason="Wrong therapy version")
    with pytest.raises(InvalidInput) as exc:
        consent_patient_sign(
            consent=consent,
            signer=pat,
            password=PASSWORD,
            photographs=True,
            outcome_reports=True,
            understood=True,
        )
    assert exc.value.detail == CONSENT_WITHDRAWN
    fresh = consent_prepare(consultation=decided, actor=dr_ada)
    assert fresh.pk != consent.pk and fresh.status == "awaiting_patient"


def test_withdrawal_needs_the_role_at_the_clinic(consent, dr_cy, lab_li):
    for user in (dr_cy, lab_li):
        with pytest.raises(Forbidden):
            consent_withdraw(consent=consent, actor=user, reason="x")


def test_selectors_for_other_apps(consent, patient_a, patient_b):
    assert list(consultations_for_patient(patient_a)) == [consent.consultation]
    assert list(consents_for_patient(patient_a)) == [consent]
    assert not consultations_for_patient(patient_b).exists() and not consents_for_patient(patient_b).exists()
    assert consent_in_force(consent.consultation) is None


def test_a_failing_hook_rolls_the_withdrawal_back(signed_consent, nurse_bo, monkeypatch):
    def refuse(**details):
        raise RuntimeError("a later stage could not react")

    monkeypatch.setitem(plugs._HOOKS["consent_withdrawn"], "zz.refuse", refuse)
    events = AuditEvent.objects.count()
    with pytest.raises(RuntimeError):
        consent_withdraw(consent=signed_consent, actor=nurse_bo, reason="Changed their mind")
    signed_consent.refresh_from_db()
    assert signed_consent.status == "signed" and AuditEvent.objects.count() == events
