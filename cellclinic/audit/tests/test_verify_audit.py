"""`cellclinic verify-audit` finds changes made to the audit table behind the application's back."""

import io
import re
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from cellclinic.audit import triggers
from cellclinic.audit.chain import GENESIS_HASH, HASHED_FIELDS, event_hash
from cellclinic.audit.models import AuditEvent
from cellclinic.audit.selectors import audit_verify
from cellclinic.audit.services import audit_record
from cellclinic.cli import main

pytestmark = pytest.mark.django_db

HEAD_LINE = re.compile(r"^head: ([0-9a-f]{64})$", re.MULTILINE)


@pytest.fixture
def chain(dr_ada, clinic_a):
    """Five events written through the application, one with awkward JSON."""
    events = [
        audit_record(
            actor=dr_ada,
            action="note.update",
            object_type="note",
            object_id=n,
            site=clinic_a,
            patient_id=40 + n,
            before={"text": f"v{n}"},
            after={"text": f"v{n + 1}", "dose_ml": 0.25 * n, "who": "Zoë 李", "tags": [None, True, n]},
            reason=f"reason {n}",
        )
        for n in range(5)
    ]
    return [e.pk for e in events]


def verify(*args):
    """Run the command: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@contextmanager
def triggers_dropped():
    """As someone with direct database access would: drop the append-only triggers, then put them back."""
    triggers.uninstall(connection)
    try:
        yield
    finally:
        triggers.install(connection)


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def stored_fields(event_id):
    return AuditEvent.objects.values("id", *HASHED_FIELDS, "prev_hash", "hash").get(pk=event_id)


def test_an_intact_chain_passes_and_prints_its_head(chain):
    status, out, err = verify()
    assert status == 0
    assert out.splitlines()[0] == "OK: 5 audit events, chain intact"
    assert HEAD_LINE.search(out)[1] == AuditEvent.objects.get(pk=chain[-1]).hash
    assert err == ""


def test_an_empty_audit_trail_passes_with_the_genesis_head(db):
    status, out, _ = verify()
    assert status == 0
    assert out.splitlines()[:3] == [
        "OK: 0 audit events, chain intact",
        f"head: {GENESIS_HASH}",
        "head event: 0",
    ]


def test_an_edited_event_fails_at_that_event(chain):
    with triggers_dropped():
        raw("UPDATE audit_auditevent SET reason = %s WHERE id = %s", ["nothing happened", chain[2]])
    status, out, _ = verify()
    assert status == 1
    first, second = out.splitlines()[:2]
    assert first.startswith(
        f"BROKEN at event {chain[2]}: its content does not match its hash (it was edited)"
    )
    assert second.startswith(f"event {chain[2]}: ") and "note.update note:2 by Ada Okafor" in second
    assert not HEAD_LINE.search(out)


def test_an_edit_with_a_recomputed_hash_fails_at_the_next_event(chain):
    fields = {**stored_fields(chain[1]), "after": {"text": "forged"}}
    with triggers_dropped():
        AuditEvent.objects.filter(pk=chain[1]).update(
            after=fields["after"], hash=event_hash(fields, fields["prev_hash"])
        )
    status, out, _ = verify()
    assert status == 1
    assert out.startswith(f"BROKEN at event {chain[2]}: its previous hash does not match event {chain[1]}")


def test_a_deleted_event_fails_at_the_event_after_it(chain):
    with triggers_dropped():
        raw("DELETE FROM audit_auditevent WHERE id = %s", [chain[3]])
    status, out, _ = verify()
    assert status == 1
    assert out.startswith(f"BROKEN at event {chain[4]}: its previous hash does not match event {chain[2]}")
    assert "deleted or inserted" in out


def test_a_deleted_first_event_fails(chain):
    with triggers_dropped():
        raw("DELETE FROM audit_auditevent WHERE id = %s", [chain[0]])
    status, out, _ = verify()
    assert status == 1
    assert out.startswith(f"BROKEN at event {chain[1]}:") and "genesis" in out


def test_an_inserted_event_fails_at_the_event_after_it(dr_ada, clinic_a):
    first = audit_record(actor=dr_ada, action="a.one", object_type="note", object_id=1, site=clinic_a)
    filler = audit_record(actor=dr_ada, action="a.filler", object_type="note", object_id=2, site=clinic_a)
    with triggers_dropped():
        raw("DELETE FROM audit_auditevent WHERE id = %s", [filler.pk])
    after = audit_record(actor=dr_ada, action="a.three", object_type="note", object_id=3, site=clinic_a)
    assert verify()[0] == 0
    # A backdated event slipped into the id gap, its own hash computed correctly.
    forged = {
        **stored_fields(first.pk),
        "id": filler.pk,
        "reason": "consent was given",
        "prev_hash": first.hash,
    }
    forged["hash"] = event_hash(forged, first.hash)
    AuditEvent.objects.create(**forged)
    status, out, _ = verify()
    assert status == 1
    assert out.startswith(f"BROKEN at event {after.pk}: its previous hash does not match event {filler.pk}")


def test_a_forged_event_appended_from_an_old_hash_fails(chain):
    forged = {
        **stored_fields(chain[2]),
        "reason": "forged",
        "prev_hash": AuditEvent.objects.get(pk=chain[2]).hash,
    }
    forged.pop("id")
    forged["hash"] = event_hash(forged, forged["prev_hash"])
    forged_id = AuditEvent.objects.create(**forged).pk
    status, out, _ = verify()
    assert status == 1 and out.startswith(f"BROKEN at event {forged_id}:")


def head_of(out):
    return HEAD_LINE.search(out)[1]


def test_expect_head_passes_when_the_head_is_unchanged(chain):
    head = head_of(verify()[1])
    status, out, _ = verify("--expect-head", head.upper())
    assert status == 0
    assert out.splitlines()[-1] == f"--expect-head: head found at event {chain[-1]}, 0 events after it"
    status, out, _ = verify("--expect-head", f"{chain[-1]}:{head}")
    assert status == 0
    assert out.splitlines()[-1] == f"--expect-head: head found at event {chain[-1]}, 0 events after it"


def test_expect_head_catches_a_tail_rewritten_with_recomputed_hashes(chain):
    old_head = head_of(verify()[1])
    with triggers_dropped():
        prev = AuditEvent.objects.get(pk=chain[1]).prev_hash
        for event_id in chain[1:]:
            fields = stored_fields(event_id)
            if event_id == chain[1]:
                fields["reason"] = "rewritten"
            new_hash = event_hash(fields, prev)
            AuditEvent.objects.filter(pk=event_id).update(
                reason=fields["reason"], prev_hash=prev, hash=new_hash
            )
            prev = new_hash
    status, out, _ = verify()
    assert status == 0, "a consistent rewrite is invisible to the chain alone"
    status, out, _ = verify("--expect-head", old_head)
    assert status == 3
    assert out.splitlines()[0] == "OK: 5 audit events, chain intact"
    assert f"HEAD MISMATCH (--expect-head): the expected hash {old_head} is not in the chain" in out
    status, out, _ = verify("--expect-head", f"{chain[-1]}:{old_head}")
    assert status == 3
    assert f"HEAD MISMATCH (--expect-head): event {chain[-1]} has the hash " in out
    assert "were rewritten" in out


def test_expect_head_catches_a_deleted_newest_event(chain):
    old_head = head_of(verify()[1])
    with triggers_dropped():
        raw("DELETE FROM audit_auditevent WHERE id = %s", [chain[-1]])
    assert verify()[0] == 0
    status, out, _ = verify("--expect-head", old_head)
    assert status == 3 and "is not in the chain" in out
    status, out, _ = verify("--expect-head", f"{chain[-1]}:{old_head}")
    assert status == 3 and f"event {chain[-1]} is not in the chain" in out


def test_expect_head_passes_on_a_grown_chain_and_says_how_many_events_came_since(chain, dr_ada):
    old_head = head_of(verify()[1])
    audit_record(actor=dr_ada, action="note.read", object_type="note", object_id=9)
    audit_record(actor=dr_ada, action="note.read", object_type="note", object_id=9)
    for expected in (old_head, f"{chain[-1]}:{old_head}"):
        status, out, _ = verify("--expect-head", expected)
        assert status == 0
        assert f"--expect-head: head found at event {chain[-1]}, 2 events after it" in out


def test_expect_head_must_be_a_hash(db):
    for bad in ("abc", "x:" + "0" * 64, "1.5:" + "0" * 64, "7:" + "0" * 63):
        with pytest.raises(CommandError) as refused:
            call_command("verify_audit", "--expect-head", bad, stdout=io.StringIO())
        assert refused.value.returncode == 2


def test_progress_is_reported_while_walking_a_long_chain(chain):
    seen = []
    result = audit_verify(progress=seen.append, progress_every=2)
    assert result.ok and seen == [2, 4]


def test_a_short_chain_prints_no_progress(chain):
    assert verify()[2] == ""


def test_the_console_script_spells_it_verify_audit(chain, capsys):
    with triggers_dropped():
        raw("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["note.delete", chain[0]])
    with pytest.raises(SystemExit) as exc:
        main(["cellclinic", "verify-audit"])
    assert exc.value.code == 1
    assert capsys.readouterr().out.startswith(f"BROKEN at event {chain[0]}:")
