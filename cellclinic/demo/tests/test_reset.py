"""`cellclinic demo --reset`: starting over with fresh demo data, and refusing when that would lose real data.

Each test runs the command in a subprocess against a database of its own (a SQLite file in a temporary
folder, or the PostgreSQL database `demoreset`, made and dropped here), never pytest's test database.
The demo is loaded once per database kind into a template that each test copies.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command

from cellclinic.demo import reset

ROOT = Path(__file__).resolve().parents[3]

# Counts and the audit head: what "nothing changed" and "fresh demo data" are judged by.
SNAPSHOT = """
import json
from cellclinic.accounts.models import Site, User
from cellclinic.audit.models import AuditEvent
from cellclinic.patients.models import Patient
from cellclinic.photos.models import Photo
head = AuditEvent.objects.order_by("-id").first()
print(json.dumps({
    "sites": sorted(Site.objects.values_list("code", flat=True)),
    "users": sorted(User.objects.values_list("username", flat=True)),
    "patients": sorted(Patient.objects.values_list("given_name", "family_name")),
    "events": AuditEvent.objects.count(),
    "head": head.hash if head else "",
    "photos": sorted(Photo.objects.values_list("image", flat=True)),
}))
"""
ADD_DEMO_CLINIC_PATIENT = """
from datetime import date
from cellclinic.accounts.models import Site, User
from cellclinic.patients.services import patient_create
patient_create(
    site=Site.objects.get(code="NCL"),
    actor=User.objects.get(username="practitioner"),
    data={"given_name": "Tried", "family_name": "Outdemo", "date_of_birth": date(1990, 5, 17),
          "presenting_concern": "scar"},
)
"""
ADD_USER = """
from cellclinic.accounts.models import Site
from cellclinic.accounts.services import user_create
user_create(username="rowan.real", password="a long real password 2026", first_name="Rowan",
            last_name="Real", email="rowan@example.org", kind="staff", site=Site.objects.get(code="NCL"))
"""
ADD_SITE_AND_PATIENT = """
from datetime import date
from cellclinic.accounts.models import Site, User
from cellclinic.accounts.services import site_create
from cellclinic.patients.services import patient_create
clinic = site_create(code="HIL", name="Hillside Clinic", kind="clinic", lab=Site.objects.get(code="LAB"))
patient_create(
    site=clinic,
    actor=User.objects.get(username="practitioner"),
    data={"given_name": "Real", "family_name": "Person", "date_of_birth": date(1980, 1, 2),
          "presenting_concern": "wound"},
)
"""


def cellclinic(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own command line, no shell
        [sys.executable, "-m", "cellclinic.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def shell(env: dict, code: str) -> str:
    done = cellclinic(env, "shell", "-c", code)
    assert done.returncode == 0, done.stderr
    return done.stdout


def snapshot(env: dict) -> dict:
    return json.loads(shell(env, SNAPSHOT).strip().splitlines()[-1])


def environment(database_url: str, var_dir: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELLCLINIC_TEST_DB_NAME", "MEDIA_ROOT", "DJANGO_SETTINGS_MODULE")
    }
    env.update(DATABASE_URL=database_url, CELLCLINIC_VAR_DIR=str(var_dir))
    return env


def load_demo(env: dict) -> None:
    for args in (("migrate", "--noinput", "-v", "0"), ("demo",)):
        done = cellclinic(env, *args)
        assert done.returncode == 0, done.stderr


def assert_fresh(env: dict, fresh: dict, done: subprocess.CompletedProcess) -> None:
    """The reset succeeded, said each step, and left exactly the demo's data with an intact chain."""
    assert done.returncode == 0, done.stderr
    for step in ("Checking that the database holds demo data only", "Recreating the database", "migrate"):
        assert step in done.stdout
    assert "Started over: fresh demo data loaded." in done.stdout
    now = snapshot(env)
    assert {key: now[key] for key in ("sites", "users", "patients", "events")} == {
        key: fresh[key] for key in ("sites", "users", "patients", "events")
    }
    verified = cellclinic(env, "verify-audit")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"OK: {fresh['events']} audit events, chain intact" in verified.stdout


# SQLite --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("demo-template")
    env = environment(f"sqlite:///{folder}/demo.sqlite3", folder)
    load_demo(env)
    return folder, snapshot(env)


@pytest.fixture
def sqlite_demo(sqlite_template, tmp_path) -> tuple[dict, dict, Path]:
    template, fresh = sqlite_template
    folder = tmp_path / "var"
    shutil.copytree(template, folder)
    return environment(f"sqlite:///{folder}/demo.sqlite3", folder), fresh, folder


def test_reset_on_sqlite_starts_over_with_fresh_demo_data(sqlite_demo):
    env, fresh, folder = sqlite_demo
    shell(env, ADD_DEMO_CLINIC_PATIENT)
    before = snapshot(env)
    assert ["Tried", "Outdemo"] in before["patients"]
    old_photos = [folder / "media" / name for name in before["photos"]]
    assert old_photos and all(path.exists() for path in old_photos)

    done = cellclinic(env, "demo", "--reset")

    assert_fresh(env, fresh, done)
    assert ["Tried", "Outdemo"] not in snapshot(env)["patients"]
    assert "removed" in done.stdout and "demo.sqlite3" in done.stdout
    # The old records' photos went with them; the fresh demo stored its own.
    assert not any(path.exists() for path in old_photos)


def test_reset_refuses_a_user_the_demo_did_not_make_and_changes_nothing(sqlite_demo):
    env, _fresh, _folder = sqlite_demo
    shell(env, ADD_USER)
    before = snapshot(env)

    done = cellclinic(env, "demo", "--reset")

    assert done.returncode == 1
    assert "users: rowan.real" in done.stdout
    assert "nothing was changed" in done.stderr and "--force" in done.stderr
    assert "Recreating" not in done.stdout
    assert snapshot(env) == before


def test_reset_refuses_a_site_and_patient_the_demo_did_not_make_unless_forced(sqlite_demo):
    env, fresh, _folder = sqlite_demo
    shell(env, ADD_SITE_AND_PATIENT)
    before = snapshot(env)

    refused = cellclinic(env, "demo", "--reset")

    assert refused.returncode == 1
    assert "sites: HIL" in refused.stdout and "patients: HIL-000001" in refused.stdout
    assert snapshot(env) == before

    forced = cellclinic(env, "demo", "--reset", "--force")

    assert "--force given" in forced.stdout
    assert_fresh(env, fresh, forced)
    assert "HIL" not in snapshot(env)["sites"]


def test_an_empty_database_is_started_over(tmp_path):
    env = environment(f"sqlite:///{tmp_path}/empty.sqlite3", tmp_path)
    done = cellclinic(env, "demo", "--reset")
    assert done.returncode == 0, done.stderr
    assert "the database is empty" in done.stdout
    assert snapshot(env)["sites"] == ["LAB", "NCL", "RSC"]


def test_a_database_of_something_else_is_refused_unless_forced(tmp_path):
    import sqlite3

    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (id integer primary key, amount integer)")
        db.execute("INSERT INTO invoices (amount) VALUES (12)")
    db.close()
    env = environment(f"sqlite:///{path}", tmp_path)

    done = cellclinic(env, "demo", "--reset")

    assert done.returncode == 1
    assert "tables that are not CellClinic's: invoices" in done.stdout
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT amount FROM invoices").fetchall() == [(12,)]
    db.close()


def test_force_goes_only_with_reset(tmp_path):
    env = environment(f"sqlite:///{tmp_path}/unused.sqlite3", tmp_path)
    done = cellclinic(env, "demo", "--force")
    assert done.returncode == 2
    assert "--force only goes with --reset" in done.stderr


def other_database(monkeypatch, url: str, engine: str, name: str) -> None:
    """Settings naming another database, for the checks made before any connection is opened."""
    monkeypatch.setattr(settings, "DATABASE_URL", url)
    monkeypatch.setitem(settings.DATABASES, "default", {"ENGINE": engine, "NAME": name})


def test_a_database_that_is_neither_sqlite_nor_postgresql_is_refused_by_name(monkeypatch, capsys):
    other_database(
        monkeypatch, "mysql://clinic:s3cret@db.example.org:3306/clinic", "django.db.backends.mysql", "clinic"
    )
    with pytest.raises(SystemExit) as exit_:
        call_command("demo", "--reset")
    assert exit_.value.code == 1
    error = capsys.readouterr().err
    assert "mysql://clinic:***@db.example.org:3306/clinic" in error
    assert "s3cret" not in error
    assert "only SQLite and PostgreSQL" in error


def test_an_in_memory_database_is_refused(monkeypatch):
    other_database(monkeypatch, "sqlite://:memory:", "django.db.backends.sqlite3", ":memory:")
    with pytest.raises(reset.ResetRefused, match="not a database file"):
        reset.check_kind()


# PostgreSQL ----------------------------------------------------------------------------------------


def postgres_server() -> str:
    """The PostgreSQL server the tests use: DATABASE_URL's when that is PostgreSQL, else the local one."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = os.environ.get("DEMO_RESET_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    return url.rsplit("/", 1)[0]


def postgres_admin(statement: str) -> None:
    with psycopg.connect(f"{postgres_server()}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def copy_template() -> None:
    """demoreset as a copy of the template, waiting while autovacuum visits the freshly loaded template."""
    for _ in range(60):
        try:
            postgres_admin("CREATE DATABASE demoreset TEMPLATE demoreset_template")
            return
        except psycopg.errors.ObjectInUse:
            time.sleep(1)
    postgres_admin("CREATE DATABASE demoreset TEMPLATE demoreset_template")


@pytest.fixture(scope="module")
def postgres_template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo-pg-template")
    postgres_admin("DROP DATABASE IF EXISTS demoreset_template")
    postgres_admin("CREATE DATABASE demoreset_template")
    env = environment(f"{postgres_server()}/demoreset_template", folder)
    load_demo(env)
    yield folder, snapshot(env)
    postgres_admin("DROP DATABASE IF EXISTS demoreset_template")


@pytest.fixture
def postgres_demo(postgres_template, tmp_path):
    template, fresh = postgres_template
    folder = tmp_path / "var"
    shutil.copytree(template, folder)
    postgres_admin("DROP DATABASE IF EXISTS demoreset")
    copy_template()
    yield environment(f"{postgres_server()}/demoreset", folder), fresh
    postgres_admin("DROP DATABASE IF EXISTS demoreset")


def test_reset_on_postgresql_starts_over_with_fresh_demo_data(postgres_demo):
    env, fresh = postgres_demo
    shell(env, ADD_DEMO_CLINIC_PATIENT)
    assert ["Tried", "Outdemo"] in snapshot(env)["patients"]

    done = cellclinic(env, "demo", "--reset")

    assert "dropped and recreated the schema 'public'" in done.stdout
    assert_fresh(env, fresh, done)
    assert ["Tried", "Outdemo"] not in snapshot(env)["patients"]


def test_reset_on_postgresql_refuses_records_the_demo_did_not_make_unless_forced(postgres_demo):
    env, fresh = postgres_demo
    shell(env, ADD_USER)
    shell(env, ADD_SITE_AND_PATIENT)
    before = snapshot(env)

    refused = cellclinic(env, "demo", "--reset")

    assert refused.returncode == 1
    for named in ("users: rowan.real", "sites: HIL", "patients: HIL-000001"):
        assert named in refused.stdout
    assert snapshot(env) == before

    forced = cellclinic(env, "demo", "--reset", "--force")

    assert_fresh(env, fresh, forced)
