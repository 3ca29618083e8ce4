"""consent_countersign renders and writes the signed PDF before its transaction opens, and removes the file
when that transaction fails."""

import re
from datetime import UTC
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection

from cellclinic.audit import services as audit_services
from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.consents.models import Consent
from cellclinic.consents.services import (
    CONSENT_CHANGED,
    CONSENT_WITHDRAWN,
    consent_countersign,
    consent_patient_sign,
    consent_stored_pdf,
)
from cellclinic.core.errors import InvalidInput
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient_signed(consent, pat) -> Consent:
    return consent_patient_sign(
        consent=consent,
        signer=pat,
        password=PASSWORD,
        photographs=True,
        outcome_reports=False,
        understood=True,
    )


def _files() -> list[Path]:
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


def _spy_on_saves(monkeypatch, during=None) -> list[tuple[str, int]]:
    """Each file saved, with how many atomic blocks were open while it was written; DURING runs after."""
    saved: list[tuple[str, int]] = []
    real = default_storage.save

    def save(name, content, **kwargs):
        stored = real(name, content, **kwargs)
        saved.append((stored, len(connection.atomic_blocks)))
        if during is not None:
            during()
        return stored

    monkeypatch.setattr(default_storage, "save", save)
    return saved


def _unchanged(consent: Consent, events: int, signatures: int) -> bool:
    stored = Consent.objects.get(pk=consent.pk)
    return (
        stored.status == "awaiting_practitioner"
        and not stored.pdf
        and not stored.pdf_sha256
        and stored.practitioner_signed_at is None
        and AuditEvent.objects.count() == events
        and Signature.objects.count() == signatures
        and _files() == []
    )


def test_the_pdf_is_written_before_the_transaction_opens(patient_signed, dr_ada, monkeypatch):
    saved = _spy_on_saves(monkeypatch)
    depth = len(connection.atomic_blocks)

    done = consent_countersign(consent=patient_signed, practitioner=dr_ada, password=PASSWORD)

    assert saved == [(done.pdf.name, depth)]
    assert done.status == "signed" and [path.name for path in _files()] == [Path(done.pdf.name).name]


def test_the_copy_shows_the_countersignature_exactly_as_stored(patient_signed, dr_ada):
    done = consent_countersign(consent=patient_signed, practitioner=dr_ada, password=PASSWORD)

    countersignature = Signature.objects.get(
        object_type="consent", object_id=str(done.pk), meaning="authored"
    )
    assert countersignature.signed_at == done.practitioner_signed_at
    text = " ".join(
        m.decode("latin-1") for m in re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", consent_stored_pdf(done))
    )
    assert countersignature.signed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") in text
    assert countersignature.record_hash in text.replace(" ", "")
    event = AuditEvent.objects.latest("id")
    assert event.action == "consent.countersign"
    assert (event.before["status"], event.after["status"]) == ("awaiting_practitioner", "signed")
    assert event.after["pdf_sha256"] == done.pdf_sha256 and event.after["pdf"] == done.pdf.name


def test_a_failure_after_the_file_is_written_leaves_no_file_and_no_change(
    patient_signed, dr_ada, monkeypatch
):
    saved = _spy_on_saves(monkeypatch)
    events, signatures = AuditEvent.objects.count(), Signature.objects.count()
    real = audit_services.audit_record

    def refuse_the_countersign(**event):
        if event["action"] == "consent.countersign":
            raise RuntimeError("the audit trail is not writable")
        return real(**event)

    monkeypatch.setattr(audit_services, "audit_record", refuse_the_countersign)
    with pytest.raises(RuntimeError):
        consent_countersign(consent=patient_signed, practitioner=dr_ada, password=PASSWORD)

    assert len(saved) == 1 and not default_storage.exists(saved[0][0])
    assert _unchanged(patient_signed, events, signatures)


def test_a_wrong_password_leaves_no_file(patient_signed, dr_ada):
    events, signatures = AuditEvent.objects.count(), Signature.objects.count()

    with pytest.raises(InvalidInput) as caught:
        consent_countersign(consent=patient_signed, practitioner=dr_ada, password="not it")

    assert [e.field for e in caught.value.errors] == ["password"]
    assert _unchanged(patient_signed, events, signatures)


def test_nothing_is_rendered_for_a_consent_that_is_not_waiting(consent, dr_ada, monkeypatch):
    saved = _spy_on_saves(monkeypatch)

    with pytest.raises(InvalidInput):
        consent_countersign(consent=consent, practitioner=dr_ada, password=PASSWORD)

    assert saved == [] and _files() == []


def test_a_withdrawal_while_the_pdf_is_written_signs_nothing(patient_signed, dr_ada, monkeypatch):
    def withdraw():
        Consent.objects.filter(pk=patient_signed.pk).update(status=Consent.Status.WITHDRAWN)

    saved = _spy_on_saves(monkeypatch, during=withdraw)
    events, signatures = AuditEvent.objects.count(), Signature.objects.count()

    with pytest.raises(InvalidInput) as caught:
        consent_countersign(consent=patient_signed, practitioner=dr_ada, password=PASSWORD)

    assert caught.value.detail == CONSENT_WITHDRAWN
    assert len(saved) == 1 and _files() == []
    assert (AuditEvent.objects.count(), Signature.objects.count()) == (events, signatures)


def test_a_record_changed_while_the_pdf_is_written_signs_nothing(patient_signed, dr_ada, monkeypatch):
    def change_a_choice():
        Consent.objects.filter(pk=patient_signed.pk).update(outcome_reports=True)

    _spy_on_saves(monkeypatch, during=change_a_choice)
    events, signatures = AuditEvent.objects.count(), Signature.objects.count()

    with pytest.raises(InvalidInput) as caught:
        consent_countersign(consent=patient_signed, practitioner=dr_ada, password=PASSWORD)

    assert caught.value.detail == CONSENT_CHANGED and caught.value.errors[0].field == "status"
    assert _files() == [] and (AuditEvent.objects.count(), Signature.objects.count()) == (events, signatures)
    assert Consent.objects.get(pk=patient_signed.pk).status == "awaiting_practitioner"
