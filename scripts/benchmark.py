#!/usr/bin/env python
"""Benchmarks: page and API latency as the registry grows, audit append rate, chain verification speed.

Runs in-process against a throw-away database: SQLite by default, or BENCH_DATABASE_URL
(e.g. postgres://postgres@127.0.0.1:5432/test — it creates and drops `cellclinic_bench`).
Prints a Markdown table to paste into BENCHMARKS.md.
"""

import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
tmp = tempfile.mkdtemp(prefix="cellclinic-bench-")
target = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
if target.startswith("postgres"):
    import psycopg

    admin_url = target
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS cellclinic_bench")
        conn.execute("CREATE DATABASE cellclinic_bench")
    target = target.rsplit("/", 1)[0] + "/cellclinic_bench"
os.environ["DATABASE_URL"] = target
os.environ["CELLCLINIC_VAR_DIR"] = tmp
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cellclinic.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
setup_test_environment()

from cellclinic.accounts.models import Membership, Site, User  # noqa: E402
from cellclinic.accounts.services import api_token_create  # noqa: E402
from cellclinic.audit.models import AuditEvent  # noqa: E402
from cellclinic.audit.selectors import audit_verify  # noqa: E402
from cellclinic.audit.services import audit_record  # noqa: E402
from cellclinic.patients.identifiers import mrn_format  # noqa: E402
from cellclinic.patients.models import MrnSequence, Patient  # noqa: E402

GIVEN = ["Maya", "Daniel", "Priya", "Tomasz", "Amara", "Oliver", "Sofia", "Kwame", "Hannah", "Lucas"]
FAMILY = [
    "Thompson",
    "Osei",
    "Raman",
    "Nowak",
    "Nwosu",
    "Brennan",
    "Martinez",
    "Boateng",
    "Kowalski",
    "Ferreira",
]
CONCERNS = ["burn", "scar", "wound", "vitiligo", "hypopigmentation", "sun_damage", "premature_ageing"]


def progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def grow_registry(site: Site, total: int) -> None:
    """Bulk-insert patients up to TOTAL (registry size is what is measured, not registration)."""
    have = Patient.objects.count()
    batch = []
    for i in range(have + 1, total + 1):
        batch.append(
            Patient(
                site=site,
                mrn=mrn_format(site.code, i),
                given_name=GIVEN[i % 10],
                family_name=f"{FAMILY[i % 7]}{i}",
                date_of_birth=date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
                presenting_concern=CONCERNS[i % 7],
            )
        )
        if len(batch) == 5000:
            Patient.objects.bulk_create(batch)
            batch = []
    Patient.objects.bulk_create(batch)
    MrnSequence.objects.update_or_create(site=site, defaults={"last_value": total})
    if connection.vendor == "postgresql":
        # Autovacuum would do this soon after a bulk load; measure the steady state, not the gap.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median and p95 in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    progress(f"migrating {connection.vendor} database")
    call_command("migrate", verbosity=0)
    lab = Site.objects.create(code="LAB", name="Lab", kind="lab")
    site = Site.objects.create(code="NCL", name="North Clinic", kind="clinic", lab=lab)
    user = User.objects.create_user("bench", password="bench-password-123", first_name="Bench")
    Membership.objects.create(user=user, site=site, role="practitioner")
    _, key = api_token_create(user=user)
    client = Client()
    client.force_login(user)
    api = Client(headers={"Authorization": f"Bearer {key}"})
    rows = []
    for size in (1_000, 10_000, 50_000):
        progress(f"registry of {size} patients")
        grow_registry(site, size)
        some = Patient.objects.order_by("id")[size // 2]
        checks = {
            "patient list page 1": lambda: client.get("/patients/"),
            "patient search by name": lambda: client.get("/patients/", {"q": "osei"}),
            "patient search by MRN": lambda s=some: client.get("/patients/", {"q": s.mrn}),
            "patient chart": lambda s=some: client.get(f"/patients/{s.pk}/"),
            "API list limit=50": lambda: api.get("/api/v1/patients", {"limit": 50, "offset": 0}),
        }
        for name, fn in checks.items():
            status = fn().status_code
            assert status == 200, f"{name}: {status}"
            median, p95 = timed(fn, 30)
            rows.append((name, f"{size:,}", f"{median:.1f}", f"{p95:.1f}"))

    progress("audit appends")
    count = 2000
    start = time.perf_counter()
    for i in range(count):
        with transaction.atomic():
            audit_record(
                actor=user,
                action="bench.event",
                object_type="bench",
                object_id=i,
                site=site,
                after={"i": i, "text": "x" * 100},
            )
    append_rate = count / (time.perf_counter() - start)

    progress("filling the chain for verification")
    target_events = 50_000
    while AuditEvent.objects.count() < target_events:
        with transaction.atomic():
            for i in range(1000):
                audit_record(actor=user, action="bench.event", object_type="bench", object_id=i, site=site)
    total = AuditEvent.objects.count()
    start = time.perf_counter()
    report = audit_verify()
    verify_seconds = time.perf_counter() - start
    assert report.ok, report.summary()

    print(
        f"\nDatabase: {connection.vendor}; Python {platform.python_version()}; {platform.machine()}, "
        f"{os.cpu_count()} cores\n"
    )
    print("| request | patients | median ms | p95 ms |\n| --- | ---: | ---: | ---: |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nAudit appends (one transaction each): {append_rate:,.0f} events/s")
    print(
        f"verify-audit over {total:,} events: {verify_seconds:.2f} s ({total / verify_seconds:,.0f} events/s)"
    )


if __name__ == "__main__":
    main()
    if os.environ.get("BENCH_DATABASE_URL", "").startswith("postgres"):
        connection.close()
        import psycopg

        with psycopg.connect(os.environ["BENCH_DATABASE_URL"], autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS cellclinic_bench")
