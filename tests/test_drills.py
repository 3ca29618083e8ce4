"""Drills against the real server (`cellclinic serve`, gunicorn) on a database of their own.

- the crash drill (scripts/crash_drill.py): a few SIGKILLs of the server under concurrent writers;
- 200 concurrent retries of one POST with one Idempotency-Key make exactly one record.

Both run on the database the suite runs on: a fresh SQLite file, or a fresh database on the same
PostgreSQL server.
"""

import os
import shutil
import signal
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from scripts import crash_drill

pytestmark = pytest.mark.drill


def _database_url() -> str | None:
    """The PostgreSQL server the suite runs on, or None for SQLite."""
    return os.environ.get("DATABASE_URL") if connection.vendor == "postgresql" else None


def test_acknowledged_writes_survive_the_server_being_killed():
    report = crash_drill.run(_database_url(), cycles=3, writers=4, up=(0.5, 1.5), seed=2026)
    print("\n".join(report.lines()))
    assert report.problems == []
    assert report.acknowledged > 20, "the writers barely wrote: the drill proved nothing"
    assert report.cycles == 3


@pytest.fixture
def served():
    folder = Path(tempfile.mkdtemp(prefix="cellclinic-retries-"))
    database = crash_drill.Database(_database_url(), folder)
    server = None
    try:
        env = crash_drill.environment(database, folder)
        token = crash_drill.prepare(env)
        server = crash_drill.Server(env, workers=3)
        server.start()
        yield server, token
    finally:
        if server is not None:
            server.stop()
        database.drop()
        shutil.rmtree(folder, ignore_errors=True)


def test_200_concurrent_retries_make_one_record(served):
    server, token = served
    body = {"given_name": "Ada", "family_name": "Retried", "date_of_birth": "1980-01-01"}
    headers = {"Idempotency-Key": "7d0b6e1c-retry-storm"}
    start = threading.Barrier(200)
    answers: list[tuple[int, dict, dict]] = []

    def send():
        start.wait()
        answers.append(
            crash_drill.request(
                server.base, "POST", "/api/v1/patients", token=token, body=body, headers=headers
            )
        )

    threads = [threading.Thread(target=send) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    statuses = Counter(status for status, _, _ in answers)
    assert len(answers) == 200
    assert set(statuses) <= {201, 409}, statuses
    created = [answer for status, answer, _ in answers if status == 201]
    assert created and all(answer == created[0] for answer in created)
    in_flight = [answer for status, answer, _ in answers if status == 409]
    assert all("still being answered" in answer["detail"] for answer in in_flight)
    # A retry after the storm answers the first answer again; there is exactly one such patient.
    status, again, replay_headers = crash_drill.request(
        server.base, "POST", "/api/v1/patients", token=token, body=body, headers=headers
    )
    assert (status, again, replay_headers.get("Idempotent-Replayed")) == (201, created[0], "true")
    registry = crash_drill.registry(server, token)
    assert [p["id"] for p in registry if p["family_name"] == "Retried"] == [created[0]["id"]]
    print(f"200 concurrent retries: {dict(statuses)}")


COUNT_ROWS = """
import json
from django.db import connection
with connection.cursor() as cursor:
    counts = {}
    for table in sorted(connection.introspection.table_names()):
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
print(json.dumps(counts))
"""


def test_a_backup_restores_into_a_fresh_database_that_serves_the_chart(tmp_path):
    import json

    original = crash_drill.Database(_database_url(), tmp_path)
    fresh = crash_drill.Database(_database_url(), tmp_path / "fresh")
    (tmp_path / "fresh").mkdir()
    try:
        env = crash_drill.environment(original, tmp_path)
        token = crash_drill.prepare(env)
        server = crash_drill.Server(env)
        server.start()
        try:
            body = {"given_name": "Backed", "family_name": "Up", "date_of_birth": "1980-01-01"}
            status, chart, _ = crash_drill.request(
                server.base, "POST", "/api/v1/patients", token=token, body=body
            )
            assert status == 201
        finally:
            server.stop()
        backup = tmp_path / "backups" / "cellclinic.backup"
        assert "Backed up" in crash_drill.cellclinic(env, "backup", str(backup))
        with pytest.raises(RuntimeError, match="exists already"):
            crash_drill.cellclinic(env, "backup", str(backup))

        restored_env = {**env, "DATABASE_URL": fresh.url}
        assert "Restored" in crash_drill.cellclinic(restored_env, "restore", str(backup))
        with pytest.raises(RuntimeError, match="not empty"):
            crash_drill.cellclinic(restored_env, "restore", str(backup))
        counts = json.loads(crash_drill.cellclinic(env, "shell", "-v0", "-c", COUNT_ROWS))
        assert json.loads(crash_drill.cellclinic(restored_env, "shell", "-v0", "-c", COUNT_ROWS)) == counts
        assert counts["patients_patient"] == 1 and counts["audit_auditevent"] > 0
        assert crash_drill.cellclinic(restored_env, "verify-audit", "-v0").startswith("OK")
        assert "Restored" in crash_drill.cellclinic(restored_env, "restore", "--force", str(backup))

        server = crash_drill.Server(restored_env)
        server.start()
        try:
            path = f"/api/v1/patients/{chart['id']}"
            assert crash_drill.request(server.base, "GET", path, token=token)[:2] == (200, chart)
        finally:
            server.stop()
    finally:
        original.drop()
        fresh.drop()


LEFT_BEHIND = """
from datetime import timedelta
from django.utils import timezone
from cellclinic.accounts.models import Site
from cellclinic.notifications.models import Notification
Notification.objects.create(
    site=Site.objects.get(code="NCL"), kind="enquiry.received", subject="Your request", body="Thank you.",
    email="left.behind@example.org", status="queued", created_at=timezone.now() - timedelta(hours=1),
)
"""
EMAIL_STATUS = """
from cellclinic.notifications.models import Notification
print(Notification.objects.get(email="left.behind@example.org").status)
"""


def _eventually(check, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


def _answers(server) -> bool:
    try:
        crash_drill.request(server.base, "GET", "/api/v1/openapi.json", timeout=2)
    except OSError:
        return False
    return True


def test_the_server_s_email_worker_sends_what_a_stopped_worker_left_and_dies_with_the_server(tmp_path):
    database = crash_drill.Database(_database_url(), tmp_path)
    server = None
    try:
        env = crash_drill.environment(database, tmp_path)
        crash_drill.prepare(env)
        # An email queued an hour ago whose task was lost with the worker that held it.
        crash_drill.cellclinic(env, "shell", "-c", LEFT_BEHIND)
        server = crash_drill.Server(env, workers=1)
        server.start()
        assert _eventually(
            lambda: crash_drill.cellclinic(env, "shell", "-c", EMAIL_STATUS).split()[-1] == "sent"
        )
        assert "left.behind@example.org" in server.log.read_text()  # the console backend printed it

        # Killed alone, the supervising process takes the server and the worker with it.
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        assert _eventually(lambda: not _answers(server), seconds=30), "the server outlived its supervisor"
    finally:
        if server is not None:
            server.stop()
        database.drop()
