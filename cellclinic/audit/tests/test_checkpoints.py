"""`cellclinic audit-checkpoint` exports the heads; `verify-audit --checkpoints` and `--expect-head SEQ:HASH`
catch a deleted or rewritten tail without a head kept by hand."""

import io
import json
import re
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from cellclinic.audit import triggers
from cellclinic.audit.chain import GENESIS_HASH, HASHED_FIELDS, event_hash
from cellclinic.audit.models import AccessEvent, AuditEvent
from cellclinic.audit.services import audit_record, record_access
from cellclinic.cli import ALIASES, main

pytestmark = pytest.mark.django_db

NAME = re.compile(r"^audit-head-\d{8}T\d{6}\.\d{6}Z\.json$")


def verify(*args):
    out = io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def checkpoint(directory):
    out = io.StringIO()
    call_command("audit_checkpoint", "--out", str(directory), stdout=out)
    return out.getvalue().strip()


@contextmanager
def triggers_dropped():
    triggers.uninstall(connection)
    try:
        yield
    finally:
        triggers.install(connection)


def add_events(actor, count, start=0):
    return [
        audit_record(
            actor=actor, action="note.update", object_type="note", object_id=start + n, after={"n": n}
        )
        for n in range(count)
    ]


def test_a_checkpoint_is_a_small_json_file_named_by_time(tmp_path, dr_ada):
    events = add_events(dr_ada, 3)
    record_access(dr_ada, "patient.view", object_type="patient", object_id=1)
    path = checkpoint(tmp_path)
    files = list(tmp_path.iterdir())
    assert [f.name for f in files] == [path.rsplit("/", 1)[-1]], "no temporary file is left behind"
    assert NAME.match(files[0].name)
    document = json.loads(files[0].read_text())
    assert document["sequence"] == events[-1].pk and document["hash"] == events[-1].hash
    assert document["access_sequence"] == AccessEvent.objects.get().pk
    assert document["access_hash"] == AccessEvent.objects.get().hash
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", document["time"])


def test_an_empty_trail_checkpoints_the_genesis_hash(tmp_path, db):
    checkpoint(tmp_path)
    (document,) = [json.loads(f.read_text()) for f in tmp_path.iterdir()]
    assert (document["sequence"], document["hash"]) == (0, GENESIS_HASH)
    add_events(None, 2)
    assert verify("--checkpoints", str(tmp_path))[0] == 0


def test_checkpoints_of_a_growing_chain_pass(tmp_path, dr_ada):
    add_events(dr_ada, 2)
    checkpoint(tmp_path)
    add_events(dr_ada, 2, start=10)
    record_access(dr_ada, "patient.view", object_type="patient", object_id=1)
    checkpoint(tmp_path)
    add_events(dr_ada, 1, start=20)
    status, out = verify("--checkpoints", str(tmp_path))
    assert status == 0, out
    assert "OK: 2 checkpoints, each a prefix of the chain" in out


def test_a_deleted_tail_is_caught_by_the_first_checkpoint_it_breaks(tmp_path, dr_ada):
    events = add_events(dr_ada, 4)
    first = checkpoint(tmp_path).rsplit("/", 1)[-1]
    add_events(dr_ada, 1, start=10)
    checkpoint(tmp_path)
    with triggers_dropped():
        AuditEvent.objects.filter(pk__gte=events[-1].pk).delete()
    assert verify()[0] == 0, "the shortened chain still holds on its own"
    status, out = verify("--checkpoints", str(tmp_path))
    assert status == 3
    assert f"CHECKPOINT MISMATCH: {first}: event {events[-1].pk} is not in the chain" in out
    assert "2 of 2 checkpoints are not a prefix of the chain; the first is shown" in out


def test_a_rewritten_tail_is_caught(tmp_path, dr_ada):
    events = add_events(dr_ada, 3)
    name = checkpoint(tmp_path).rsplit("/", 1)[-1]
    with triggers_dropped():
        prev = events[0].hash
        for event in events[1:]:
            fields = AuditEvent.objects.values("id", *HASHED_FIELDS, "prev_hash", "hash").get(pk=event.pk)
            fields["reason"] = "rewritten"
            new_hash = event_hash(fields, prev)
            AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten", prev_hash=prev, hash=new_hash)
            prev = new_hash
    assert verify()[0] == 0
    status, out = verify("--checkpoints", str(tmp_path))
    assert status == 3
    assert f"CHECKPOINT MISMATCH: {name}: event {events[-1].pk} has the hash" in out


def test_a_deleted_access_log_tail_is_caught(tmp_path, dr_ada):
    for n in range(3):
        record_access(dr_ada, "patient.view", object_type="patient", object_id=n)
    checkpoint(tmp_path)
    with triggers_dropped():
        AccessEvent.objects.filter(pk=AccessEvent.objects.order_by("-id").first().pk).delete()
    status, out = verify("--checkpoints", str(tmp_path))
    assert status == 3 and "access event" in out and "is not in the chain" in out


def test_an_unreadable_checkpoint_or_directory_is_a_usage_error(tmp_path, db):
    (tmp_path / "audit-head-20260101T000000.000000Z.json").write_text("{not json")
    with pytest.raises(CommandError) as refused:
        call_command("verify_audit", "--checkpoints", str(tmp_path), stdout=io.StringIO())
    assert refused.value.returncode == 2 and "not a readable checkpoint" in str(refused.value)
    with pytest.raises(CommandError) as refused:
        call_command("verify_audit", "--checkpoints", str(tmp_path / "missing"), stdout=io.StringIO())
    assert refused.value.returncode == 2


def test_a_broken_chain_exits_1_even_with_checkpoints(tmp_path, dr_ada):
    events = add_events(dr_ada, 3)
    checkpoint(tmp_path)
    with triggers_dropped():
        AuditEvent.objects.filter(pk=events[1].pk).update(reason="edited")
    status, out = verify("--checkpoints", str(tmp_path))
    assert status == 1 and out.startswith(f"BROKEN at event {events[1].pk}")


def test_every_seconds_keeps_writing_until_stopped(tmp_path, db, monkeypatch):
    naps = []

    def sleep(seconds):
        naps.append(seconds)
        if len(naps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("cellclinic.audit.management.commands.audit_checkpoint.time.sleep", sleep)
    with pytest.raises(KeyboardInterrupt):
        call_command("audit_checkpoint", "--out", str(tmp_path), "--every", "300", stdout=io.StringIO())
    assert naps == [300, 300]
    assert len(list(tmp_path.glob("audit-head-*.json"))) == 2


def test_the_console_script_spells_it_audit_checkpoint(tmp_path, db, capsys):
    assert ALIASES["audit-checkpoint"] == "audit_checkpoint"
    main(["cellclinic", "audit-checkpoint", "--out", str(tmp_path)])
    assert NAME.match(capsys.readouterr().out.strip().rsplit("/", 1)[-1])
