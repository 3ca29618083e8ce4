"""The audit tables are append-only at the database: UPDATE and DELETE fail even behind the ORM's back."""

import pytest
from django.db import DatabaseError, connection, transaction

from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.audit.services import audit_record, signature_create
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

RAW_WRITES = {
    ("audit_auditevent", "update"): "UPDATE audit_auditevent SET reason = 'rewritten' WHERE id = %s",
    ("audit_auditevent", "delete"): "DELETE FROM audit_auditevent WHERE id = %s",
    ("audit_signature", "update"): "UPDATE audit_signature SET printed_name = 'Someone Else' WHERE id = %s",
    ("audit_signature", "delete"): "DELETE FROM audit_signature WHERE id = %s",
}


@pytest.fixture
def signed(dr_ada, clinic_a):
    """One signature and its audit event."""
    return signature_create(
        signer=dr_ada,
        password=PASSWORD,
        meaning="authored",
        object_type="note",
        object_id=1,
        record={"text": "hello"},
        site=clinic_a,
    )


def row_ids(signed):
    return {"audit_auditevent": AuditEvent.objects.get().pk, "audit_signature": signed.pk}


def snapshot_tables():
    return list(AuditEvent.objects.values()), list(Signature.objects.values())


def refused(action):
    """Run ACTION in a savepoint and say whether the database refused it (PostgreSQL's transaction
    stays usable because the savepoint is rolled back)."""
    try:
        with transaction.atomic():
            action()
    except DatabaseError as exc:
        return "append-only" in str(exc)
    return False


@pytest.mark.parametrize(("table", "op"), sorted(RAW_WRITES))
def test_raw_sql_cannot_change_or_remove_a_row(signed, table, op):
    before = snapshot_tables()
    row_id = row_ids(signed)[table]

    def write():
        with connection.cursor() as cursor:
            cursor.execute(RAW_WRITES[table, op], [row_id])

    assert refused(write)
    assert snapshot_tables() == before


@pytest.mark.parametrize("model", [AuditEvent, Signature])
def test_queryset_update_is_refused(signed, model):
    before = snapshot_tables()
    field = "reason" if model is AuditEvent else "statement"
    assert refused(lambda: model.objects.update(**{field: "rewritten"}))
    assert snapshot_tables() == before


@pytest.mark.parametrize("model", [AuditEvent, Signature])
def test_queryset_delete_is_refused(signed, model):
    before = snapshot_tables()
    assert refused(lambda: model.objects.all().delete())
    assert snapshot_tables() == before


@pytest.mark.parametrize("model", [AuditEvent, Signature])
def test_saving_a_changed_instance_is_refused(signed, model):
    before = snapshot_tables()
    instance = model.objects.get()
    if model is AuditEvent:
        instance.reason = "rewritten"
    else:
        instance.printed_name = "Someone Else"
    assert refused(instance.save)
    assert snapshot_tables() == before


def test_inserting_still_works(signed, dr_ada):
    audit_record(actor=dr_ada, action="note.read", object_type="note", object_id=1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM audit_auditevent")
        assert cursor.fetchone()[0] == 2
    assert Signature.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("table", ["audit_auditevent", "audit_signature"])
def test_the_whole_table_cannot_be_emptied_at_once(signed, table):
    # Committed rows, outside any test transaction: PostgreSQL refuses TRUNCATE of a table with
    # pending constraint checks for its own reasons, which would prove nothing about the trigger.
    before = snapshot_tables()
    statement = f"TRUNCATE {table} CASCADE" if connection.vendor == "postgresql" else f"DELETE FROM {table}"

    def empty():
        with connection.cursor() as cursor:
            cursor.execute(statement)

    assert refused(empty)
    assert snapshot_tables() == before
