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
from django.test.utils import setup_test_environment  # noqa: E402

from tests.two_factor import TwoFactorClient as Client  # noqa: E402

settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
setup_test_environment()

from registry import grow_registry  # noqa: E402

from cellclinic.accounts.models import Membership, Site, User  # noqa: E402
from cellclinic.accounts.services import api_token_create  # noqa: E402
from cellclinic.audit.models import AuditEvent  # noqa: E402
from cellclinic.audit.selectors import audit_verify  # noqa: E402
from cellclinic.audit.services import audit_record  # noqa: E402
from cellclinic.patients.models import Patient  # noqa: E402


def progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median and p95 in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def pathway_benchmarks() -> None:
    """The self-assessment rules, its public endpoint, the enquiry worklist, consent PDFs and photos."""
    import io

    from PIL import Image

    from cellclinic.candidacy.answers import answers_check
    from cellclinic.candidacy.engine import evaluate
    from cellclinic.candidacy.models import Assessment, Enquiry
    from cellclinic.candidacy.services import get_ruleset
    from cellclinic.catalogue.registry import get_catalogue
    from cellclinic.consents.document import consent_document
    from cellclinic.consents.pdf import consent_pdf
    from cellclinic.core.images import clean_image

    progress(f"migrating {connection.vendor} database")
    call_command("migrate", verbosity=0)
    lab = Site.objects.create(code="LAB", name="Lab", kind="lab")
    site = Site.objects.create(code="NCL", name="North Clinic", kind="clinic", lab=lab)
    user = User.objects.create_user("bench", password="bench-password-123", first_name="Bench")
    Membership.objects.create(user=user, site=site, role="nurse")
    client = Client()
    client.force_login(user)
    anonymous = Client()
    settings.PUBLIC_ASSESSMENT_RATE = "1000000/h"
    answers = {
        "concerns": ["vitiligo", "scar"],
        "area": "face",
        "age": 34,
        "health": {"generally_fit_and_healthy": True, "keloid_history": False, "cold_sores": True},
        "condition": {"vitiligo_stable_months": 18, "wound_open": False, "months_since_injury": 30},
        "expectation": "gradual_improvement",
    }
    catalogue, rules = get_catalogue(), get_ruleset()
    _, parsed = answers_check(answers, detailed_allergies=False)
    rows = []

    progress("rules engine")
    count = 2000
    start = time.perf_counter()
    for _ in range(count):
        evaluate(parsed, catalogue, rules)
    engine_rate = count / (time.perf_counter() - start)

    def post_assessment():
        return anonymous.post("/api/v1/assessments", answers, content_type="application/json")

    assert post_assessment().status_code == 200
    median, p95 = timed(post_assessment, 50)
    rows.append(("POST /api/v1/assessments (rules, store, audit)", "—", f"{median:.1f}", f"{p95:.1f}"))

    result = evaluate(parsed, catalogue, rules).as_dict()
    for size in (1_000, 10_000, 50_000):
        progress(f"enquiry worklist of {size}")
        have = Enquiry.objects.count()
        batch = [
            Assessment(source="public", answers=answers, result=result, outcome="suitable", ruleset="bench")
            for _ in range(have, size)
        ]
        Assessment.objects.bulk_create(batch, batch_size=2000)
        new = list(Assessment.objects.order_by("-id")[: len(batch)])
        Enquiry.objects.bulk_create(
            [
                Enquiry(
                    site=site,
                    assessment=a,
                    name=f"Enquirer {a.pk}",
                    email="e@example.org",
                    consent_to_contact=True,
                    status=["new", "contacted", "booked"][a.pk % 3],
                )
                for a in new
            ],
            batch_size=2000,
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        some = Enquiry.objects.order_by("id")[size // 2]
        checks = {
            "enquiry worklist page 1": lambda: client.get("/enquiries/"),
            "enquiry worklist, status new": lambda: client.get("/enquiries/", {"status": "new"}),
            "enquiry detail with its assessment": lambda e=some: client.get(f"/enquiries/{e.pk}/"),
        }
        for name, fn in checks.items():
            status = fn().status_code
            assert status == 200, f"{name}: {status}"
            median, p95 = timed(fn, 30)
            rows.append((name, f"{size:,}", f"{median:.1f}", f"{p95:.1f}"))

    progress("pages of a whole pathway")
    from cellclinic.demo.builder import at_stage

    pathway = at_stage("planned", site=site, password="bench-password-123")
    staff, patient = Client(), Client()
    staff.force_login(pathway.practitioner)
    patient.force_login(pathway.portal_user)
    pages = {
        "chart with its panels (consultation, consent, plan)": (staff, f"/patients/{pathway.patient.pk}/"),
        "consultation page": (staff, f"/consultations/{pathway.consultation.pk}/"),
        "consent page": (staff, f"/consents/{pathway.consent.pk}/"),
        "patient's own record (portal)": (patient, "/patients/portal/"),
    }
    for name, (reader, path) in pages.items():
        status = reader.get(path).status_code
        assert status == 200, f"{name}: {status}"
        median, p95 = timed(lambda reader=reader, path=path: reader.get(path), 30)
        rows.append((name, "—", f"{median:.1f}", f"{p95:.1f}"))

    progress("consent PDF")
    therapy = catalogue.therapies["autologous_fibroblast_injection"]
    document = consent_document(therapy, list(catalogue.alternatives.values()), indication="premature_ageing")

    def render():
        return consent_pdf(
            document,
            patient_name="Helen Carter",
            mrn="NCL-000019-I",
            clinic="North Clinic",
            document_hash="0" * 64,
            choices={"photographs": True, "outcome_reports": False},
            signatures=[],
            signed=False,
            status="Waiting for the patient's signature",
        )

    pdf_bytes = len(render())
    pdf_median, pdf_p95 = timed(render, 20)

    progress("photo cleaning")
    buffer = io.BytesIO()
    Image.effect_noise((4000, 3000), 40).convert("RGB").save(buffer, format="JPEG", quality=90)
    photo = buffer.getvalue()

    def clean():
        return clean_image(photo, max_bytes=settings.PHOTO_MAX_BYTES, max_pixels=settings.PHOTO_MAX_PIXELS)

    photo_median, photo_p95 = timed(clean, 10)

    print(
        f"\nDatabase: {connection.vendor}; Python {platform.python_version()}; {platform.machine()}, "
        f"{os.cpu_count()} cores\n"
    )
    print(f"Rules engine (pure, 7 therapy files): {engine_rate:,.0f} evaluations/s\n")
    print("| request | enquiries | median ms | p95 ms |\n| --- | ---: | ---: | ---: |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(
        f"\nConsent PDF (fibroblast injection, {pdf_bytes / 1024:,.0f} KiB): median {pdf_median:.1f} ms, "
        f"p95 {pdf_p95:.1f} ms"
    )
    print(
        f"Photo check and re-encode without metadata (12 MP JPEG, {len(photo) / 1e6:.1f} MB): "
        f"median {photo_median:.0f} ms, p95 {photo_p95:.0f} ms"
    )


def main() -> None:
    if os.environ.get("BENCH_ONLY") == "pathway":
        pathway_benchmarks()
        return
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
