"""`verify-audit` compares every signature with the copy its signature.create event keeps."""

import io
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from cellclinic.audit import triggers
from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.audit.services import signature_create
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def verify():
    out = io.StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


@contextmanager
def triggers_dropped():
    triggers.uninstall(connection)
    try:
        yield
    finally:
        triggers.install(connection)


@pytest.fixture
def signed(dr_ada, clinic_a):
    return [
        signature_create(
            signer=dr_ada,
            password=PASSWORD,
            meaning="reviewed",
            object_type="patient",
            object_id=40 + n,
            record={"history": ["asthma"], "n": n},
            site=clinic_a,
            patient_id=40 + n,
            statement="History reviewed",
        )
        for n in range(3)
    ]


def test_intact_signatures_pass(signed):
    status, out = verify()
    assert status == 0
    assert "OK: 3 signatures match their signature events" in out


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("meaning", "approved"),
        ("printed_name", "Someone Else"),
        ("record_hash", "f" * 64),
        ("object_id", "99"),
        ("statement", "Nothing reviewed"),
    ],
)
def test_an_edited_signature_is_found(signed, column, value):
    target = signed[1]
    with triggers_dropped():
        Signature.objects.filter(pk=target.pk).update(**{column: value})
    status, out = verify()
    assert status == 1
    assert "SIGNATURES: 1 problems over 3 signatures" in out
    assert f"signature {target.pk}: its {column} differ from event" in out
    assert "chain intact" in out, "the chain itself still holds"


def test_a_signature_moved_to_another_signer_or_time_is_found(signed, nurse_bo):
    with triggers_dropped():
        Signature.objects.filter(pk=signed[0].pk).update(signer=nurse_bo)
        Signature.objects.filter(pk=signed[2].pk).update(signed_at=signed[2].signed_at - timedelta(days=1))
    status, out = verify()
    assert status == 1
    assert f"signature {signed[0].pk}: its signer_id differ" in out
    assert f"signature {signed[2].pk}: its signed_at differ" in out


def test_a_deleted_signature_is_found(signed):
    with triggers_dropped():
        Signature.objects.filter(pk=signed[0].pk).delete()
    status, out = verify()
    assert status == 1
    event = AuditEvent.objects.get(action="signature.create", object_id="40")
    assert f"signature {signed[0].pk}: event {event.pk} records it, but it is gone (deleted)" in out


def test_a_signature_inserted_without_its_event_is_found(signed, dr_ada):
    forged = Signature.objects.create(
        signer=dr_ada,
        printed_name="Ada Okafor",
        signed_at=signed[0].signed_at,
        meaning="approved",
        object_type="patient",
        object_id="40",
        record_hash="a" * 64,
    )
    status, out = verify()
    assert status == 1
    assert f"signature {forged.pk}: no signature.create event records it" in out


def test_an_older_event_without_the_newer_copies_still_checks_what_it_has(signed):
    """Events written before the signer, time and statement were copied compare only what they hold."""
    event = AuditEvent.objects.get(action="signature.create", object_id="41")
    trimmed = {k: v for k, v in event.after.items() if k not in ("signer_id", "signed_at", "statement")}
    with triggers_dropped():
        # Rebuild the event as an older version wrote it, keeping the chain valid.
        from cellclinic.audit.chain import HASHED_FIELDS, OPTIONAL_HASHED_FIELDS, event_hash

        rows = list(
            AuditEvent.objects.order_by("id").values(
                "id", *HASHED_FIELDS, *OPTIONAL_HASHED_FIELDS, "prev_hash"
            )
        )
        prev = None
        for row in rows:
            if prev is not None:
                row["prev_hash"] = prev
            if row["id"] == event.pk:
                row["after"] = trimmed
            row_hash = event_hash(row, row["prev_hash"])
            AuditEvent.objects.filter(pk=row["id"]).update(
                after=row["after"], prev_hash=row["prev_hash"], hash=row_hash
            )
            prev = row_hash
        Signature.objects.filter(pk=signed[1].pk).update(statement="changed")
    status, out = verify()
    assert status == 0, out
