"""state_change: the one way a status changes, on real models of the later apps."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cellclinic.audit import services
from cellclinic.audit.models import AuditEvent
from cellclinic.audit.services import state_change
from cellclinic.candidacy.models import Enquiry
from cellclinic.candidacy.states import ENQUIRY_STATES
from cellclinic.consents.models import Consent
from cellclinic.consents.states import CONSENT_STATES
from cellclinic.core.errors import InvalidInput
from cellclinic.demo.builder import at_stage
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

SIGNED_AT = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


@pytest.fixture
def waiting(patient_a, dr_ada) -> Consent:
    """A consent the patient signed (photographs yes, outcome reports no), waiting for the practitioner."""
    consent = at_stage("patient_signed", patient=patient_a, practitioner=dr_ada, password=PASSWORD).consent
    return Consent.objects.select_related("site").get(pk=consent.pk)


@pytest.fixture
def enquiry(clinic_a) -> Enquiry:
    return Enquiry.objects.create(
        site=clinic_a, name="Mo Farah", email="mo@example.org", consent_to_contact=True
    )


def _countersign(consent: Consent, actor, **kwargs) -> Consent:
    return state_change(
        consent,
        to=Consent.Status.SIGNED,
        table=CONSENT_STATES,
        actor=actor,
        action="consent.countersign",
        **kwargs,
    )


def test_it_moves_the_status_with_the_given_fields_and_audits_exactly_what_changed(waiting, dr_ada, clinic_a):
    events = AuditEvent.objects.count()

    done = _countersign(
        waiting,
        dr_ada,
        reason="countersigned in clinic",
        fields={"practitioner_signed_at": SIGNED_AT, "pdf": "consents/2026/c.pdf", "pdf_sha256": "ab" * 32},
    )

    assert done is waiting and done.status == "signed"
    stored = Consent.objects.get(pk=waiting.pk)
    assert (stored.status, stored.practitioner_signed_at, stored.pdf.name, stored.pdf_sha256) == (
        "signed",
        SIGNED_AT,
        "consents/2026/c.pdf",
        "ab" * 32,
    )
    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.object_type, event.object_id) == (
        "consent.countersign",
        "consent",
        str(waiting.pk),
    )
    assert (event.actor, event.site, event.patient_id) == (dr_ada, clinic_a, waiting.patient_id)
    assert event.reason == "countersigned in clinic"
    assert event.before == {
        "status": "awaiting_practitioner",
        "practitioner_signed_at": None,
        "pdf": "",
        "pdf_sha256": "",
    }
    assert event.after == {
        "status": "signed",
        "practitioner_signed_at": "2026-03-02T10:30:00Z",
        "pdf": "consents/2026/c.pdf",
        "pdf_sha256": "ab" * 32,
    }


def test_a_field_given_its_current_value_is_not_audited_and_extra_after_is(waiting, dr_ada):
    _countersign(waiting, dr_ada, fields={"photographs": True}, extra_after={"copies": 1})

    event = AuditEvent.objects.latest("id")
    assert event.before == {"status": "awaiting_practitioner"}
    assert event.after == {"status": "signed", "copies": 1}


def test_a_refused_move_names_the_status_in_words_and_changes_nothing(waiting, dr_ada):
    Consent.objects.filter(pk=waiting.pk).update(status=Consent.Status.WITHDRAWN)
    events = AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as caught:
        _countersign(waiting, dr_ada, fields={"pdf_sha256": "ab" * 32})

    message = "A consent that is withdrawn cannot become signed: it cannot change any more."
    assert caught.value.detail == message
    assert [(e.field, e.message) for e in caught.value.errors] == [("status", message)]
    stored = Consent.objects.get(pk=waiting.pk)
    assert (stored.status, stored.pdf_sha256) == ("withdrawn", "")
    assert AuditEvent.objects.count() == events


def test_the_status_is_read_from_the_locked_row_not_from_the_object(waiting, dr_ada):
    waiting.status = Consent.Status.WITHDRAWN  # stale in memory: the row still waits

    assert _countersign(waiting, dr_ada).status == "signed"
    assert AuditEvent.objects.latest("id").before == {"status": "awaiting_practitioner"}


def test_the_row_is_locked_before_it_is_read(waiting, dr_ada):
    with CaptureQueriesContext(connection) as queries:
        _countersign(waiting, dr_ada)

    statements = [
        q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    first = statements[0]
    assert first.startswith("SELECT") and "consents_consent" in first
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in first


def test_only_the_status_and_the_given_fields_are_saved(waiting, dr_ada):
    waiting.withdrawn_reason = "typed but never given"

    _countersign(waiting, dr_ada, fields={"pdf_sha256": "cd" * 32})

    stored = Consent.objects.get(pk=waiting.pk)
    assert (stored.status, stored.pdf_sha256, stored.withdrawn_reason) == ("signed", "cd" * 32, "")


def test_a_failing_audit_write_leaves_the_row_as_it_was(waiting, dr_ada, monkeypatch):
    def refuse(**event):
        raise RuntimeError("the audit trail is not writable")

    monkeypatch.setattr(services, "audit_record", refuse)
    with pytest.raises(RuntimeError):
        _countersign(waiting, dr_ada, fields={"pdf_sha256": "ab" * 32})

    stored = Consent.objects.get(pk=waiting.pk)
    assert (stored.status, stored.pdf_sha256) == ("awaiting_practitioner", "")


def test_auto_now_fields_are_saved_with_the_change(enquiry, nurse_bo):
    long_ago = datetime(2025, 1, 1, tzinfo=UTC)
    Enquiry.objects.filter(pk=enquiry.pk).update(updated_at=long_ago)

    state_change(enquiry, to="contacted", table=ENQUIRY_STATES, actor=nurse_bo, action="enquiry.status")

    assert Enquiry.objects.get(pk=enquiry.pk).updated_at > long_ago + timedelta(days=1)


def test_site_and_patient_come_from_the_object(enquiry, nurse_bo, clinic_a):
    state_change(
        enquiry,
        to="contacted",
        table=ENQUIRY_STATES,
        actor=nurse_bo,
        action="enquiry.status",
        fields={"handled_by": nurse_bo},
    )

    event = AuditEvent.objects.latest("id")
    assert (event.object_type, event.site, event.patient_id) == ("enquiry", clinic_a, None)
    assert event.before == {"status": "new", "handled_by": None}
    assert event.after == {"status": "contacted", "handled_by": nurse_bo.pk}


def test_staying_in_place_changes_only_the_fields_and_only_when_allowed(enquiry, nurse_bo):
    Enquiry.objects.filter(pk=enquiry.pk).update(status=Enquiry.Status.CLOSED)
    with pytest.raises(InvalidInput) as caught:
        state_change(enquiry, to="closed", table=ENQUIRY_STATES, actor=nurse_bo, action="enquiry.status")
    assert (
        caught.value.errors[0].message
        == "An enquiry that is closed is already closed: it cannot change any more."
    )

    state_change(
        enquiry,
        to="closed",
        table=ENQUIRY_STATES,
        actor=nurse_bo,
        action="enquiry.status",
        fields={"notes": "Called back: no longer interested"},
        stay_allowed=True,
    )

    stored = Enquiry.objects.get(pk=enquiry.pk)
    assert (stored.status, stored.notes) == ("closed", "Called back: no longer interested")
    event = AuditEvent.objects.latest("id")
    assert event.before == {"status": "closed", "notes": ""}
    assert event.after == {"status": "closed", "notes": "Called back: no longer interested"}


def test_the_status_is_given_as_the_target_never_as_a_field(enquiry, nurse_bo):
    with pytest.raises(ValueError, match="`to`"):
        state_change(
            enquiry,
            to="contacted",
            table=ENQUIRY_STATES,
            actor=nurse_bo,
            action="enquiry.status",
            fields={"status": "closed"},
        )
    assert Enquiry.objects.get(pk=enquiry.pk).status == "new"


def test_a_model_without_an_audit_object_type_is_refused(patient_a, dr_ada):
    with pytest.raises(TypeError, match="AUDIT_OBJECT_TYPE"):
        state_change(patient_a, to="x", table=ENQUIRY_STATES, actor=dr_ada, action="patient.status")
