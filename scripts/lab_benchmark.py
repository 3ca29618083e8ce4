#!/usr/bin/env python
"""Benchmarks of the lab: its worklists, look-back and the bedside check as its records grow.

    .venv/bin/python scripts/lab_benchmark.py [--sizes 10000 100000] [--repeat 30] [--checks 500]
        [--only pages,lookback,api,bedside] [--json results.json] [--keep]
        [--slowest 3] [--profile NAME]

Runs in-process against a throw-away database, removed afterwards unless --keep: SQLite by default, or
BENCH_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test — it creates and drops
`cellclinic_lab_bench`). On PostgreSQL each growth ends with VACUUM ANALYZE and a checkpoint, as
autovacuum and the checkpointer would soon do. On SQLite every request is first made once with the
connection closed after it, as the server closes it after each request, so that SQLite gathers its
planner statistics as it does in the app (`PRAGMA optimize` on close, cellclinic/core/sqlite).

`grow_lab` bulk-inserts the lab's records up to each size in products, in the shapes the services leave:
patients at the two clinics with a signed consent and a treatment plan, their chains of identity,
specimens, shipments both ways, batches with process steps, deviations, reagent lots and QC results,
donor lots, products with valid ISBT 128 DINs in every status, a custody timeline for every specimen and
product, and a passed bedside check for every administered product (with a few hard stops). The work
in hand — specimens on their way, batches in process, products waiting for QC, release, shipping or the
bedside — is that of a lab starting PER_DAY batches a day, the same at every size; what grows is the
history behind it, as for one lab whose records accumulate over the years. Audit events and signatures
of the bulk-inserted records are not written (the audit trail's own benchmark is scripts/benchmark.py).

Each request is then timed --repeat times in-process through Django's test client, signed in with both
factors (API calls with a bearer token), after one untimed call: median and 95th percentile in
milliseconds (wall clock, and the median CPU time of this process, which other work on the machine
disturbs less) and the number of queries. The bedside check is posted --checks times against random
patients and products, a mix of passes and hard stops whose outcomes are checked, then called as a
service alone. Markdown tables go to standard output, progress to standard error; --slowest prints each
request's slowest queries and --profile a cProfile of the requests whose name contains NAME.
"""

import argparse
import cProfile
import json
import math
import os
import platform
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _use_a_throwaway_database() -> None:
    """Point Django at a new database before it starts: a temporary SQLite file, or
    `cellclinic_lab_bench` (dropped and made again) on the PostgreSQL server of BENCH_DATABASE_URL."""
    tmp = tempfile.mkdtemp(prefix="cellclinic-lab-bench-")
    target = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    if target.startswith("postgres"):
        import psycopg

        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS cellclinic_lab_bench")
            conn.execute("CREATE DATABASE cellclinic_lab_bench")
        target = target.rsplit("/", 1)[0] + "/cellclinic_lab_bench"
    os.environ["DATABASE_URL"] = target
    os.environ["CELLCLINIC_VAR_DIR"] = tmp
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cellclinic.settings")
    import django

    django.setup()


if __name__ == "__main__":
    _use_a_throwaway_database()

from django.conf import settings  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import DatabaseError, connection, transaction  # noqa: E402
from django.db.models import Count, Max, Q  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from cellclinic.accounts.models import Membership, Site, User  # noqa: E402
from cellclinic.accounts.roles import Role  # noqa: E402
from cellclinic.accounts.services import api_token_create  # noqa: E402
from cellclinic.catalogue.registry import get_catalogue  # noqa: E402
from cellclinic.consents.models import Consent  # noqa: E402
from cellclinic.consultations.models import Consultation  # noqa: E402
from cellclinic.lab import release, states  # noqa: E402
from cellclinic.lab.administration import bedside_check  # noqa: E402
from cellclinic.lab.identity import new_coi  # noqa: E402
from cellclinic.lab.isbt import Din  # noqa: E402
from cellclinic.lab.models import (  # noqa: E402
    Batch,
    BedsideCheck,
    ChainOfIdentity,
    CustodyEvent,
    Deviation,
    DinSequence,
    DonorLot,
    LabProfile,
    ProcessStep,
    Product,
    QCResult,
    ReagentLot,
    Shipment,
    Specimen,
)
from cellclinic.lab.services import product_code, protocol_days, storage_text  # noqa: E402
from cellclinic.patients.identifiers import mrn_format  # noqa: E402
from cellclinic.patients.models import MrnSequence, Patient  # noqa: E402
from cellclinic.treatment.models import PlanStep, TreatmentPlan  # noqa: E402
from tests.two_factor import TwoFactorClient  # noqa: E402

AUTOLOGOUS = "autologous_fibroblast_injection"
DONOR = "cryopreserved_fibroblast_dermal_substitute"
INDICATION = {AUTOLOGOUS: "premature_ageing", DONOR: "wound"}
FACILITY = "A9999"
PASSWORD = "bench-password-123"
SIZES = (10_000, 100_000)
PER_DAY = 8  # autologous batches the lab starts a day: the work in hand is sized from it
DOSES = 3  # an autologous batch: one dose for each of the protocol's three sessions
DONOR_DOSES = 8  # a donor batch: the weekly applications one wound receives
DONOR_EVERY = 20  # in the history, one donor recipient for every 19 patients treated with their own cells
LOT_BATCHES = 5  # donor batches made from one donor lot
NORTH_SHARE = 0.6  # North Clinic's share of the patients; Riverside Clinic has the rest
CHUNK = 1_000  # cohorts (one patient's cells, or one donor batch) written per transaction
# Each reagent with the number of batches one of its lots lasts: lots turn over at different times.
REAGENTS = (
    ("DMEM culture medium", "RM", 300),
    ("Human platelet lysate", "PL", 240),
    ("Trypsin-EDTA 0.05%", "TE", 400),
    ("DPBS wash buffer", "PB", 180),
)
# What became of the cells in the history, one cycle of fifty patients: the rare endings spread out.
FATES = tuple(
    {
        3: "rejected",
        9: "dose_expired",
        15: "failed",
        21: "recalled",
        27: "expired",
        33: "withdrawn",
        39: "rejected_on_arrival",
        45: "cancelled",
    }.get(slot, "given")
    for slot in range(50)
)
HARD_STOP_SHARE = 0.05  # administered products whose first scan was a hard stop (a mistyped DIN)
UNUSED_SEQUENCE = 990_000  # DIN sequence numbers from here on name no product: mistyped and unknown DINs
GIVEN = ["Maya", "Daniel", "Priya", "Tomasz", "Amara", "Oliver", "Sofia", "Kwame", "Hannah", "Lucas"]
FAMILY = ["Thompson", "Osei", "Raman", "Nowak", "Nwosu", "Brennan", "Martinez", "Achterberg"]


def progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


# The lab and its templates ------------------------------------------------------------------------------


@dataclass
class LabWorld:
    """The sites and people the records belong to, the templates they are copied from, and the counters
    that keep numbers unique as the records grow. `history` counts the finished cohorts written so far:
    each new one is older than the last."""

    lab: Site
    north: Site
    river: Site
    technician: User
    reviewer: User
    practitioners: dict[int, User]
    nurse: User
    consents: dict[str, Consent]
    steps: dict[str, list[tuple]]
    now: datetime
    per_day: float = PER_DAY
    rng: random.Random = field(default_factory=lambda: random.Random(20261201))  # noqa: S311
    history: int = 0
    in_hand: bool = False
    batches: int = 0
    cois: set[str] = field(default_factory=set)
    din_last: dict[int, int] = field(default_factory=dict)
    mrn_last: dict[int, int] = field(default_factory=dict)
    reagent_lots: dict[tuple[int, int], ReagentLot] = field(default_factory=dict)
    donor_lot: DonorLot | None = None
    donor_lot_uses: int = 0
    lots: int = 0
    ids: dict = field(default_factory=dict)

    @property
    def clinics(self) -> tuple[Site, Site]:
        return self.north, self.river


def _staff(username: str, first: str, last: str, site: Site, role: str) -> User:
    user = User.objects.create_user(username, password=PASSWORD, first_name=first, last_name=last)
    Membership.objects.create(user=user, site=site, role=role)
    return user


def lab_world(*, per_day: float = PER_DAY) -> LabWorld:
    """The two demo clinics and their lab (FIN A9999), one person per role, and one patient at North
    Clinic per therapy whose pathway the builder takes through the real services to a signed consent and
    a plan: every bulk-inserted consent carries that consent's document, every plan its steps."""
    from cellclinic.demo.builder import at_stage

    lab = Site.objects.create(code="LAB", name="Central Cell Lab", kind=Site.Kind.LAB)
    north = Site.objects.create(code="NCL", name="North Clinic", kind=Site.Kind.CLINIC, lab=lab)
    river = Site.objects.create(code="RSC", name="Riverside Clinic", kind=Site.Kind.CLINIC, lab=lab)
    LabProfile.objects.create(site=lab, facility_code=FACILITY, processing_slots=500)
    practitioner = _staff("practitioner", "Ada", "Okafor", north, Role.PRACTITIONER)
    world = LabWorld(
        lab=lab,
        north=north,
        river=river,
        technician=_staff("lab", "Li", "Chen", lab, Role.LAB_TECHNICIAN),
        reviewer=_staff("qa", "Quinn", "Adeyemi", lab, Role.QA_REVIEWER),
        practitioners={
            north.pk: practitioner,
            river.pk: _staff("practitioner2", "Cyrus", "Moreau", river, Role.PRACTITIONER),
        },
        nurse=_staff("nurse", "Bo", "Lindqvist", north, Role.NURSE),
        consents={},
        steps={},
        now=timezone.now(),
        per_day=per_day,
    )
    for therapy in (AUTOLOGOUS, DONOR):
        pathway = at_stage(
            "planned",
            site=north,
            practitioner=practitioner,
            password=PASSWORD,
            therapy=therapy,
            indication=INDICATION[therapy],
        )
        world.consents[therapy] = pathway.consent
        start = pathway.plan.start_date
        world.steps[therapy] = [
            (
                step.sequence,
                step.kind,
                step.label,
                step.detail,
                (step.due_date - start).days,
                (step.window_start - start).days,
                (step.window_end - start).days,
                step.primary_endpoint,
            )
            for step in pathway.plan.steps.order_by("sequence")
        ]
    for clinic in world.clinics:
        sequence, _ = MrnSequence.objects.get_or_create(site=clinic)
        world.mrn_last[clinic.pk] = sequence.last_value
    return world


# Writing rows in bulk -----------------------------------------------------------------------------------

BatchReagent = Batch.reagent_lots.through
# The order foreign keys need: a re-harvest after the specimen it replaces.
WRITE_ORDER = (
    Patient,
    Consultation,
    Consent,
    TreatmentPlan,
    PlanStep,
    ChainOfIdentity,
    DonorLot,
    Shipment,
    Specimen,
    "reharvest",
    Batch,
    BatchReagent,
    ProcessStep,
    Deviation,
    QCResult,
    Product,
    CustodyEvent,
    BedsideCheck,
)


def _pk(row) -> int | None:
    return row.pk if row is not None else None


class Rows:
    """The unsaved rows of one chunk, written table by table. Each row is numbered as it is added
    (continuing from IDS, the last id of each table), so rows refer to each other by id before any is
    written: cheaper than instances, which bulk_create would have to resolve one by one."""

    def __init__(self, ids: dict) -> None:
        self.ids = ids
        self.by_table: dict[object, list] = {key: [] for key in WRITE_ORDER}

    def add(self, row, table: object = None):
        model = type(row)
        if model not in self.ids:
            self.ids[model] = model.objects.aggregate(last=Max("pk"))["last"] or 0
        self.ids[model] += 1
        row.pk = self.ids[model]
        self.by_table[table or model].append(row)
        return row

    def write(self) -> None:
        for key, rows in self.by_table.items():
            if rows:
                model = Specimen if key == "reharvest" else key
                model.objects.bulk_create(rows, batch_size=2000)


@contextmanager
def dated_as_given() -> Iterator[None]:
    """Let bulk inserts keep the creation and change times they are given (auto_now and auto_now_add
    off for the duration), so that the records are dated as they happened."""
    models = [m for m in WRITE_ORDER if not isinstance(m, str)]
    fields = [
        f
        for model in models
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _next_din(world: LabWorld, when: datetime) -> Din:
    year = when.year
    world.din_last[year] = world.din_last.get(year, 0) + 1
    return Din(FACILITY, year % 100, world.din_last[year])


def _coi(world: LabWorld) -> str:
    while True:
        coi = new_coi(world.rng.randbytes)
        if coi not in world.cois:
            world.cois.add(coi)
            return coi


def _patient(world: LabWorld, rows: Rows, clinic: Site, therapy: str, when: datetime) -> Patient:
    world.mrn_last[clinic.pk] += 1
    number = world.mrn_last[clinic.pk]
    rng = world.rng
    return rows.add(
        Patient(
            site_id=_pk(clinic),
            mrn=mrn_format(clinic.code, number),
            given_name=rng.choice(GIVEN),
            family_name=f"{rng.choice(FAMILY)}{number}",
            date_of_birth=date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28)),
            presenting_concern=INDICATION[therapy],
            created_at=when,
            updated_at=when,
        )
    )


@dataclass
class Consented:
    clinic: Site
    patient: Patient
    consent: Consent
    plan: TreatmentPlan
    practitioner: User


def _consented(
    world: LabWorld,
    rows: Rows,
    clinic: Site,
    therapy: str,
    signed: datetime,
    *,
    start: date,
    plan_status: str = TreatmentPlan.Status.ACTIVE,
    session_today: bool = False,
) -> Consented:
    """A patient at CLINIC decided on THERAPY, the consent signed by both at SIGNED, and the plan laid
    out from START by the template's steps (its first session today when SESSION_TODAY)."""
    practitioner = world.practitioners[clinic.pk]
    patient = _patient(world, rows, clinic, therapy, signed - timedelta(days=20))
    template = world.consents[therapy]
    consultation = rows.add(
        Consultation(
            site_id=_pk(clinic),
            patient_id=_pk(patient),
            practitioner_id=_pk(practitioner),
            status=Consultation.Status.DECIDED,
            indication=INDICATION[therapy],
            decision=Consultation.Decision.PROCEED,
            therapy_code=therapy,
            therapy_version=template.therapy_version,
            decided_at=signed - timedelta(days=1),
            created_at=signed - timedelta(days=1, hours=1),
            updated_at=signed - timedelta(days=1),
        )
    )
    consent = rows.add(
        Consent(
            site_id=_pk(clinic),
            patient_id=_pk(patient),
            consultation_id=_pk(consultation),
            therapy_code=therapy,
            therapy_version=template.therapy_version,
            template_version=template.template_version,
            document=template.document,
            document_hash=template.document_hash,
            status=Consent.Status.SIGNED,
            photographs=template.photographs,
            outcome_reports=template.outcome_reports,
            patient_signed_at=signed - timedelta(hours=2),
            practitioner_signed_at=signed,
            created_by_id=_pk(practitioner),
            created_at=signed - timedelta(days=1),
        )
    )
    plan = rows.add(
        TreatmentPlan(
            site_id=_pk(clinic),
            patient_id=_pk(patient),
            consultation_id=_pk(consultation),
            consent_id=_pk(consent),
            therapy_code=therapy,
            therapy_version=template.therapy_version,
            harvest_date=start if therapy == AUTOLOGOUS else None,
            start_date=start,
            status=plan_status,
            created_by_id=_pk(practitioner),
            created_at=signed + timedelta(minutes=10),
            updated_at=signed + timedelta(minutes=10),
        )
    )
    today = timezone.localdate(world.now)
    first_session = True
    for sequence, kind, label, detail, due, window_start, window_end, primary in world.steps[therapy]:
        due_date = start + timedelta(days=due)
        if session_today and kind == PlanStep.Kind.SESSION and first_session:
            due_date, first_session = today, False
        rows.add(
            PlanStep(
                plan_id=_pk(plan),
                sequence=sequence,
                kind=kind,
                label=label,
                detail=detail,
                due_date=due_date,
                window_start=min(due_date, start + timedelta(days=window_start)),
                window_end=max(due_date, start + timedelta(days=window_end)),
                primary_endpoint=primary,
            )
        )
    return Consented(clinic, patient, consent, plan, practitioner)


def _reagent_lots(world: LabWorld, ordinal: int) -> list[ReagentLot]:
    """The lot of each reagent a batch used: the ORDINAL-th batch counted back from the newest."""
    lots = []
    for index, (name, prefix, lasts) in enumerate(REAGENTS):
        number = (ordinal + index * 37) // lasts
        lot = world.reagent_lots.get((index, number))
        if lot is None:
            lot = ReagentLot.objects.create(
                site=world.lab, name=name, lot_number=f"{prefix}-{9000 - number:04d}"
            )
            world.reagent_lots[(index, number)] = lot
        lots.append(lot)
    return lots


def _event(
    rows: Rows,
    kind: str,
    by: User,
    where: Site,
    when: datetime,
    *,
    specimen: Specimen | None = None,
    product: Product | None = None,
    shipment: Shipment | None = None,
    temperature: str | None = None,
    condition: str = "",
) -> CustodyEvent:
    """A custody event of SPECIMEN or PRODUCT, on its owner's site."""
    owner = specimen or product
    return rows.add(
        CustodyEvent(
            site_id=owner.site_id,
            at_site_id=where.pk,
            specimen_id=_pk(specimen),
            product_id=_pk(product),
            shipment_id=_pk(shipment),
            kind=kind,
            at=when,
            by_id=by.pk,
            temperature_c=Decimal(temperature) if temperature is not None else None,
            condition=condition,
        )
    )


def _shipment(
    world: LabWorld,
    rows: Rows,
    clinic: Site,
    direction: str,
    status: str,
    when: datetime,
    by: User,
    *,
    frozen: bool = False,
) -> Shipment:
    """A box between CLINIC and the lab: at 2–8 °C, or FROZEN at −85 to −65 °C."""
    return rows.add(
        Shipment(
            site_id=_pk(clinic),
            lab_id=_pk(world.lab),
            direction=direction,
            status=status,
            courier="Cold Chain Couriers",
            tracking=f"CCC{world.rng.randrange(10**8):08d}",
            temperature_min_c=Decimal("-85.0") if frozen else Decimal("2.0"),
            temperature_max_c=Decimal("-65.0") if frozen else Decimal("8.0"),
            created_by_id=_pk(by),
            created_at=when,
        )
    )


# Where a specimen's or product's journey stops, in order.
SPECIMEN_STAGES = ("collected", "packed", "shipped", "received", "planned", "in_process")
PRODUCT_STAGES = ("qc_pending", "awaiting_release", "released", "shipped_back", "received_back", "done")
STAGES = SPECIMEN_STAGES + PRODUCT_STAGES


def _reached(stage: str, step: str) -> bool:
    return STAGES.index(stage) >= STAGES.index(step)


def _specimen(
    world: LabWorld,
    rows: Rows,
    who: Consented,
    chain: ChainOfIdentity,
    collected: datetime,
    stage: str,
    *,
    ending: str = "",
    replaces: Specimen | None = None,
) -> Specimen:
    """A harvest collected at COLLECTED and taken as far as STAGE (ENDING: "rejected" on arrival, or
    "used" by a batch that failed or finished, "disposed" when its batch was cancelled)."""
    clinic, collector = who.clinic, who.practitioner
    status = {
        "collected": states.SPECIMEN_COLLECTED,
        "packed": states.SPECIMEN_PACKED,
        "shipped": states.SPECIMEN_SHIPPED,
        "received": states.SPECIMEN_RECEIVED,
        "planned": states.SPECIMEN_RECEIVED,
        "in_process": states.SPECIMEN_IN_PROCESSING,
    }.get(stage, states.SPECIMEN_USED)
    status = {
        "rejected": states.SPECIMEN_REJECTED,
        "disposed": states.SPECIMEN_DISPOSED,
        "used": states.SPECIMEN_USED,
    }.get(ending, status)
    shipment = None
    if _reached(stage, "packed"):
        shipment_status = {"packed": states.SHIPMENT_PACKED, "shipped": states.SHIPMENT_IN_TRANSIT}.get(
            stage, states.SHIPMENT_DELIVERED
        )
        shipment = _shipment(
            world,
            rows,
            clinic,
            Shipment.Direction.TO_LAB,
            shipment_status,
            collected + timedelta(hours=1),
            collector,
        )
    specimen = rows.add(
        Specimen(
            site_id=_pk(clinic),
            lab_id=_pk(world.lab),
            chain_id=_pk(chain),
            coi=chain.coi,
            therapy_code=chain.therapy_code,
            therapy_version=chain.therapy_version,
            kind=Specimen.Kind.PUNCH_BIOPSY,
            body_site="Behind the left ear",
            size="3 punches of 3 mm",
            collected_at=collected,
            collected_by_id=_pk(collector),
            status=status,
            shipment_id=_pk(shipment),
            replaces_id=_pk(replaces),
            rejected_reason="Arrived at 14.5 °C, outside 2–8 °C" if ending == "rejected" else "",
            created_at=collected,
            updated_at=collected + timedelta(hours=20) if _reached(stage, "received") else collected,
        ),
        "reharvest" if replaces is not None else None,
    )
    steps = [(CustodyEvent.Kind.COLLECTED, clinic, collector, 0, "4.0")]
    if _reached(stage, "packed"):
        steps.append((CustodyEvent.Kind.PACKED, clinic, collector, 1, "4.0"))
    if _reached(stage, "shipped"):
        steps.append((CustodyEvent.Kind.SHIPPED, clinic, collector, 2, "4.5"))
    if _reached(stage, "received"):
        arrival = CustodyEvent.Kind.REJECTED if ending == "rejected" else CustodyEvent.Kind.RECEIVED
        steps.append((arrival, world.lab, world.technician, 20, "14.5" if ending == "rejected" else "5.5"))
    if _reached(stage, "in_process") and ending not in ("rejected", "disposed"):
        steps.append((CustodyEvent.Kind.PROCESSING, world.lab, world.technician, 24, None))
    if ending == "disposed":
        steps.append((CustodyEvent.Kind.DISPOSED, world.lab, world.technician, 26, None))
    for kind, where, by, hours, temperature in steps:
        carried = shipment if kind in (CustodyEvent.Kind.SHIPPED, CustodyEvent.Kind.RECEIVED) else None
        _event(
            rows,
            kind,
            by,
            where,
            collected + timedelta(hours=hours),
            specimen=specimen,
            shipment=carried,
            temperature=temperature,
        )
    return specimen


def _passing(criterion: release.Criterion) -> tuple[str, str]:
    """A result (value, unit) within CRITERION's limit."""
    if not criterion.is_numeric:
        return release.accepted_answer(criterion), ""
    low, high = criterion.limit, criterion.limit_max or criterion.limit
    value = {
        release.Operator.LT: low / 2,
        release.Operator.LE: low / 2,
        release.Operator.GT: low + 1,
        release.Operator.GE: low + 10,
        release.Operator.EQ: low,
        release.Operator.BETWEEN: (low + high) / 2,
    }[criterion.operator]
    return str(value), criterion.unit or ""


def _criteria(therapy: str) -> list[release.Criterion]:
    found = get_catalogue().therapies[therapy]
    return [release.criterion_from(item) for item in found.release_criteria]


def _qc(
    rows: Rows, batch: Batch, world: LabWorld, when: datetime, *, entered: int, failing: str = ""
) -> None:
    """Results of the first ENTERED release criteria, each judged; the test named FAILING fails."""
    for number, criterion in enumerate(_criteria(batch.therapy_code)[:entered]):
        value, unit = _passing(criterion)
        failed = criterion.test == failing
        if failed:
            value = str((criterion.limit or Decimal(1)) * 3)
        rows.add(
            QCResult(
                batch_id=_pk(batch),
                test=criterion.test,
                value=value,
                unit=unit,
                limit=criterion.specification,
                status=states.QC_FAILED if failed else states.QC_PASSED,
                entered_by_id=_pk(world.technician),
                entered_at=when + timedelta(minutes=20 * number),
            )
        )


def _batch(
    world: LabWorld,
    rows: Rows,
    *,
    therapy: str,
    site: Site,
    coi: str,
    specimen: Specimen | None,
    donor_lot: DonorLot | None,
    planned: datetime,
    started: datetime | None,
    status: str,
    doses: int,
) -> Batch:
    """A batch booked at PLANNED (slot and ready window from the protocol), started at STARTED."""
    world.batches += 1
    slot = timezone.localdate(started or planned + timedelta(days=3))
    days = protocol_days(get_catalogue().therapies[therapy])
    low, high = days if days else (0, 0)
    batch = rows.add(
        Batch(
            site_id=_pk(site),
            lab_id=_pk(world.lab),
            code=f"B{planned.year % 100:02d}-{world.batches:06d}",
            specimen_id=_pk(specimen),
            donor_lot_id=_pk(donor_lot),
            coi=coi,
            therapy_code=therapy,
            therapy_version=world.consents[therapy].therapy_version,
            status=status,
            slot_start=slot,
            ready_from=slot + timedelta(days=low),
            ready_to=slot + timedelta(days=high),
            doses_planned=doses,
            processed_by_id=_pk(world.technician if started else None),
            started_at=started,
            created_by_id=_pk(world.technician),
            created_at=planned,
            updated_at=planned,
        )
    )
    if started is not None:
        for lot in _reagent_lots(world, world.batches):
            rows.add(BatchReagent(batch_id=batch.pk, reagentlot_id=lot.pk))
    return batch


def _passages(rows: Rows, batch: Batch, world: LabWorld, started: datetime, until: datetime) -> None:
    """A passage every three weeks from STARTED while before UNTIL (at most five), and now and then a
    deviation."""
    rng = world.rng
    for passage in range(1, 6):
        when = started + timedelta(days=21 * passage - 14)
        if when >= until:
            break
        rows.add(
            ProcessStep(
                batch_id=_pk(batch),
                name=f"Passage {passage}",
                passage=passage,
                cell_count=Decimal(rng.randrange(2, 9) * 10 ** (5 + passage)),
                viability_percent=Decimal(f"{rng.uniform(82, 97):.1f}"),
                performed_by_id=_pk(world.technician),
                performed_at=when,
            )
        )
    if rng.random() < 0.04:
        rows.add(
            Deviation(
                batch_id=_pk(batch),
                description="Incubator door left open for four minutes",
                reason="Alarm fault during a power cut",
                recorded_by_id=_pk(world.technician),
                recorded_at=started + timedelta(days=8),
            )
        )


def _products(
    world: LabWorld,
    rows: Rows,
    batch: Batch,
    *,
    made: datetime,
    doses: int,
    chain: ChainOfIdentity | None,
    lot: DonorLot | None,
    site: Site,
    expires: datetime,
) -> list[Product]:
    therapy = batch.therapy_code
    code = product_code(therapy, autologous=chain is not None)
    storage = storage_text(get_catalogue().therapies[therapy])
    made_products = []
    for dose in range(1, doses + 1):
        din = _next_din(world, made)
        made_products.append(
            rows.add(
                Product(
                    site_id=_pk(site),
                    lab_id=_pk(world.lab),
                    batch_id=_pk(batch),
                    chain_id=_pk(chain),
                    coi=chain.coi if chain else "",
                    donor_lot_id=_pk(lot),
                    din=din.din,
                    din_flags=din.flags,
                    din_check=din.check,
                    product_code=code,
                    therapy_code=therapy,
                    therapy_version=batch.therapy_version,
                    dose_number=dose,
                    status=states.PRODUCT_AWAITING_RELEASE,
                    expires_at=expires,
                    storage=storage,
                    created_at=made,
                    updated_at=made,
                )
            )
        )
    return made_products


def _journey(
    world: LabWorld,
    rows: Rows,
    products: list[Product],
    batch: Batch,
    clinic: Site,
    patient: Patient,
    giver: User,
    released: datetime,
    stage: str,
    *,
    given_at: Callable[[int], datetime],
    given: int,
) -> None:
    """Released products issued, shipped and received at CLINIC as far as STAGE, and the first GIVEN of
    them administered (each at GIVEN_AT(dose)) on a passed bedside check."""
    rng = world.rng
    lab, technician = world.lab, world.technician
    frozen = batch.donor_lot_id is not None
    carried, arrived_at = ("-75.0", "-74.0") if frozen else ("5.0", "5.5")
    batch.decided_by_id, batch.decided_at, batch.decision_meaning = world.reviewer.pk, released, "released"
    batch.status, batch.updated_at = states.BATCH_RELEASED, released
    shipment = None
    if _reached(stage, "shipped_back"):
        shipment_status = states.SHIPMENT_IN_TRANSIT if stage == "shipped_back" else states.SHIPMENT_DELIVERED
        shipment = _shipment(
            world,
            rows,
            clinic,
            Shipment.Direction.TO_CLINIC,
            shipment_status,
            released,
            technician,
            frozen=frozen,
        )
    for product in products:
        product.status, product.updated_at = states.PRODUCT_RELEASED, released
        _event(rows, CustodyEvent.Kind.RELEASED, technician, lab, released, product=product)
        if shipment is None:
            continue
        product.site_id, product.shipment_id = clinic.pk, shipment.pk
        product.status, product.updated_at = states.PRODUCT_SHIPPED, released + timedelta(hours=2)
        _event(
            rows, CustodyEvent.Kind.ISSUED, technician, lab, released + timedelta(hours=1), product=product
        )
        _event(
            rows,
            CustodyEvent.Kind.SHIPPED,
            technician,
            lab,
            released + timedelta(hours=2),
            product=product,
            shipment=shipment,
            temperature=carried,
        )
        if stage == "shipped_back":
            continue
        arrived = released + timedelta(hours=10)
        product.status, product.updated_at = states.PRODUCT_RECEIVED, arrived
        _event(
            rows,
            CustodyEvent.Kind.RECEIVED,
            giver,
            clinic,
            arrived,
            product=product,
            shipment=shipment,
            temperature=arrived_at,
            condition="Intact, seal unbroken",
        )
        if product.dose_number > given:
            continue
        at = given_at(product.dose_number)
        if rng.random() < HARD_STOP_SHARE:
            # A mistyped DIN that names no product: numbers this high are never given here.
            typo = Din(FACILITY, at.year % 100, UNUSED_SEQUENCE + rng.randrange(999_999 - UNUSED_SEQUENCE))
            rows.add(
                BedsideCheck(
                    site_id=_pk(clinic),
                    patient_id=_pk(patient),
                    product_id=None,
                    din_scanned=typo.din,
                    passed=False,
                    reasons=[{"code": "unknown_product", "text": "No product has this DIN."}],
                    checked_by_id=_pk(giver),
                    checked_at=at - timedelta(minutes=6),
                )
            )
        rows.add(
            BedsideCheck(
                site_id=_pk(clinic),
                patient_id=_pk(patient),
                product_id=_pk(product),
                din_scanned=product.din,
                passed=True,
                reasons=[],
                checked_by_id=_pk(giver),
                checked_at=at - timedelta(minutes=3),
            )
        )
        _event(rows, CustodyEvent.Kind.ADMINISTERED, giver, clinic, at, product=product)
        product.status, product.administered_at, product.updated_at = states.PRODUCT_ADMINISTERED, at, at


def _end(
    rows: Rows, product: Product, status: str, kind: str, by: User, where: Site, when: datetime, why: str
):
    """PRODUCT taken out of use at WHEN: STATUS, its custody event of KIND, and WHY."""
    product.status, product.status_reason, product.updated_at = status, why, when
    _event(rows, kind, by, where, when, product=product)


def autologous(
    world: LabWorld,
    rows: Rows,
    *,
    clinic: Site,
    stage: str,
    collected: datetime | None = None,
    started: datetime | None = None,
    made: datetime | None = None,
    fate: str = "given",
    doses: int = DOSES,
    given: int | None = None,
    session_today: bool = False,
) -> int:
    """One patient's own cells from harvest to STAGE, dated by one of: the harvest (COLLECTED), the
    start of processing (STARTED, a day later) or the making of the products (MADE, 80 to 140 days of
    processing after that). FATE says how a finished story ended. Answers the number of products made."""
    rng = world.rng
    processing = timedelta(days=rng.randint(80, 140))
    if made is not None:
        started = made - processing
    if started is not None:
        collected = started - timedelta(hours=24)
    assert collected is not None, "date the cells by their harvest, processing or making"
    started = collected + timedelta(hours=24)
    made = started + processing
    first_collected = collected - timedelta(days=75 if fate == "failed" else 6)
    signed = (first_collected if fate in ("failed", "rejected_on_arrival") else collected) - timedelta(
        days=10
    )
    plan_status = TreatmentPlan.Status.COMPLETED if stage == "done" else TreatmentPlan.Status.ACTIVE
    if fate in ("withdrawn", "cancelled"):
        plan_status = TreatmentPlan.Status.STOPPED
    who = _consented(
        world,
        rows,
        clinic,
        AUTOLOGOUS,
        signed,
        start=timezone.localdate(first_collected),
        plan_status=plan_status,
        session_today=session_today,
    )
    chain = rows.add(
        ChainOfIdentity(
            coi=_coi(world),
            site_id=_pk(clinic),
            patient_id=_pk(who.patient),
            consent_id=_pk(who.consent),
            plan_id=_pk(who.plan),
            therapy_code=AUTOLOGOUS,
            therapy_version=who.consent.therapy_version,
            created_at=first_collected,
        )
    )
    replaces = None
    if fate == "rejected_on_arrival":
        replaces = _specimen(world, rows, who, chain, first_collected, "received", ending="rejected")
    if fate == "failed":
        replaces = _specimen(world, rows, who, chain, first_collected, "in_process", ending="used")
        failed_start = first_collected + timedelta(days=1)
        failed = _batch(
            world,
            rows,
            therapy=AUTOLOGOUS,
            site=clinic,
            coi=chain.coi,
            specimen=replaces,
            donor_lot=None,
            planned=first_collected + timedelta(hours=22),
            started=failed_start,
            status=states.BATCH_FAILED,
            doses=DOSES,
        )
        failed.failed_reason = "No growth after passage 2: the culture failed"
        failed.updated_at = failed_start + timedelta(days=40)
        _passages(rows, failed, world, failed_start, failed_start + timedelta(days=40))
    ending = "disposed" if fate == "cancelled" else ("used" if _reached(stage, "qc_pending") else "")
    specimen_stage = stage if stage in SPECIMEN_STAGES else "in_process"
    specimen = _specimen(world, rows, who, chain, collected, specimen_stage, ending=ending, replaces=replaces)
    if not _reached(stage, "planned"):
        return 0
    if fate == "cancelled":
        batch = _batch(
            world,
            rows,
            therapy=AUTOLOGOUS,
            site=clinic,
            coi=chain.coi,
            specimen=specimen,
            donor_lot=None,
            planned=collected + timedelta(hours=22),
            started=None,
            status=states.BATCH_CANCELLED,
            doses=doses,
        )
        batch.updated_at = collected + timedelta(days=2)
        return 0
    batch_status = {
        "planned": states.BATCH_PLANNED,
        "in_process": states.BATCH_IN_PROCESS,
        "qc_pending": states.BATCH_QC_PENDING,
    }.get(stage, states.BATCH_AWAITING_RELEASE)
    batch = _batch(
        world,
        rows,
        therapy=AUTOLOGOUS,
        site=clinic,
        coi=chain.coi,
        specimen=specimen,
        donor_lot=None,
        planned=collected + timedelta(hours=22),
        started=started if _reached(stage, "in_process") else None,
        status=batch_status,
        doses=doses,
    )
    if stage == "planned":
        return 0
    _passages(rows, batch, world, started, min(made, world.now))
    batch.updated_at = min(started + timedelta(days=7), world.now)
    if stage == "in_process":
        return 0
    batch.banked_vials = 2 if rng.random() < 0.3 else 0
    batch.banked_until = timezone.localdate(made) + timedelta(days=365 * 5) if batch.banked_vials else None
    products = _products(
        world,
        rows,
        batch,
        made=made,
        doses=doses,
        chain=chain,
        lot=None,
        site=clinic,
        expires=made + timedelta(hours=24),
    )
    complete = stage != "qc_pending"
    criteria = len(_criteria(AUTOLOGOUS))
    _qc(
        rows,
        batch,
        world,
        made + timedelta(minutes=30),
        entered=criteria if complete else 3,
        failing="Endotoxin" if fate == "rejected" else "",
    )
    batch.updated_at = made if stage == "qc_pending" else made + timedelta(hours=3)
    if stage in ("qc_pending", "awaiting_release"):
        return doses
    released = made + timedelta(hours=4)
    if fate == "rejected":
        batch.status, batch.decided_by_id, batch.decided_at = (
            states.BATCH_REJECTED,
            world.reviewer.pk,
            released,
        )
        batch.decision_meaning, batch.rejected_reason = "rejected", "Endotoxin above its limit"
        batch.updated_at = released
        for product in products:
            product.status, product.status_reason, product.updated_at = (
                states.PRODUCT_REJECTED,
                "Batch rejected: endotoxin above its limit",
                released,
            )
        return doses
    giver = who.practitioner if clinic != world.north or rng.random() < 0.7 else world.nurse
    if given is None:
        # Every dose given, or all but the last, which expired; none of a recalled or withdrawn batch.
        kept = {"dose_expired": 1, "expired": 1, "recalled": doses, "withdrawn": doses}.get(fate, 0)
        given = doses - kept
    _journey(
        world,
        rows,
        products,
        batch,
        clinic,
        who.patient,
        giver,
        released,
        stage,
        given_at=lambda dose: released + timedelta(hours=12, minutes=20 * dose),
        given=given if _reached(stage, "received_back") else 0,
    )
    last = products[-1]
    lab, reviewer = world.lab, world.reviewer
    if fate == "dose_expired":
        _end(
            rows, last, states.PRODUCT_EXPIRED, CustodyEvent.Kind.EXPIRED, giver, clinic, last.expires_at, ""
        )
        _end(
            rows,
            last,
            states.PRODUCT_DISPOSED,
            CustodyEvent.Kind.DISPOSED,
            giver,
            clinic,
            last.expires_at + timedelta(hours=2),
            "Expired before it could be given",
        )
    elif fate == "expired":
        _end(
            rows,
            last,
            states.PRODUCT_EXPIRED,
            CustodyEvent.Kind.EXPIRED,
            giver,
            clinic,
            last.expires_at,
            "Expired before it could be given",
        )
    elif fate == "recalled":
        for product in products:
            _end(
                rows,
                product,
                states.PRODUCT_RECALLED,
                CustodyEvent.Kind.RECALLED,
                reviewer,
                lab,
                released + timedelta(hours=11),
                "Recalled: a reagent lot failed its supplier's sterility retest",
            )
    elif fate == "withdrawn":
        withdrawn = released + timedelta(hours=11)
        who.consent.status, who.consent.withdrawn_at = Consent.Status.WITHDRAWN, withdrawn
        who.consent.withdrawn_by_id, who.consent.withdrawn_reason = (
            who.practitioner.pk,
            "The patient withdrew",
        )
        for product in products:
            _end(
                rows,
                product,
                states.PRODUCT_QUARANTINED,
                CustodyEvent.Kind.QUARANTINED,
                who.practitioner,
                clinic,
                withdrawn,
                "Consent withdrawn",
            )
            if stage == "done":
                _end(
                    rows,
                    product,
                    states.PRODUCT_DISPOSED,
                    CustodyEvent.Kind.DISPOSED,
                    who.practitioner,
                    clinic,
                    withdrawn + timedelta(hours=3),
                    "Consent withdrawn: disposed of as it directs",
                )
    return doses


def _lot(world: LabWorld, rows: Rows, made: datetime) -> DonorLot:
    """The donor lot donor batches are made from, a new one every LOT_BATCHES batches."""
    if world.donor_lot is None or world.donor_lot_uses >= LOT_BATCHES:
        world.lots += 1
        world.donor_lot_uses = 0
        world.donor_lot = rows.add(
            DonorLot(
                site_id=_pk(world.lab),
                lot_number=f"DL-{world.lots:05d}",
                therapy_code=DONOR,
                screening={
                    "HIV-1/2 antibody": "negative",
                    "HBsAg": "negative",
                    "HCV antibody": "negative",
                    "HTLV-I/II antibody": "negative",
                    "Syphilis": "negative",
                    "NAT (HIV, HBV, HCV)": "negative",
                },
                eligibility_documented_at=made - timedelta(days=30),
                eligibility_documented_by_id=_pk(world.reviewer),
                expires_on=timezone.localdate(made) + timedelta(days=365),
                quantity=LOT_BATCHES * DONOR_DOSES,
                created_by_id=_pk(world.technician),
                created_at=made - timedelta(days=40),
            )
        )
    world.donor_lot_uses += 1
    return world.donor_lot


def donor(
    world: LabWorld,
    rows: Rows,
    *,
    clinic: Site,
    stage: str,
    made: datetime,
    doses: int = DONOR_DOSES,
    given: int | None = None,
) -> int:
    """A donor batch of DOSES products made at MADE from the current lot, as far as STAGE; from
    "shipped_back" on, sent to a recipient at CLINIC who is given GIVEN of them (all when done), a week
    apart. Answers the number of products made."""
    lot = _lot(world, rows, made)
    batch = _batch(
        world,
        rows,
        therapy=DONOR,
        site=world.lab,
        coi="",
        specimen=None,
        donor_lot=lot,
        planned=made - timedelta(days=3),
        started=made - timedelta(days=2),
        status=states.BATCH_QC_PENDING if stage == "qc_pending" else states.BATCH_AWAITING_RELEASE,
        doses=doses,
    )
    batch.updated_at = made
    shelf = get_catalogue().therapies[DONOR].shelf_life[0]
    products = _products(
        world,
        rows,
        batch,
        made=made,
        doses=doses,
        chain=None,
        lot=lot,
        site=world.lab,
        expires=release.expires_at(made, shelf.max, shelf.unit),
    )
    complete = stage != "qc_pending"
    _qc(rows, batch, world, made + timedelta(hours=2), entered=len(_criteria(DONOR)) if complete else 1)
    if stage in ("qc_pending", "awaiting_release"):
        return doses
    released = made + timedelta(days=1)
    recipient = None
    if _reached(stage, "shipped_back"):
        recipient = _consented(
            world, rows, clinic, DONOR, released - timedelta(days=5), start=timezone.localdate(released)
        )
    patient = recipient.patient if recipient else None
    giver = recipient.practitioner if recipient else world.technician
    _journey(
        world,
        rows,
        products,
        batch,
        clinic,
        patient,
        giver,
        released,
        stage if _reached(stage, "shipped_back") else "released",
        given_at=lambda dose: released + timedelta(days=7 * dose),
        given=(doses if given is None else given) if _reached(stage, "received_back") else 0,
    )
    return doses


# Growing the records ------------------------------------------------------------------------------------


def in_hand(per_day: float) -> list[tuple[str, int]]:
    """The lab's work in hand, (stage, cohorts), for a lab starting PER_DAY batches a day: each stage
    holds what arrives in the days it lasts (processing about 110 days, QC a few hours)."""

    def lasting(days: float) -> int:
        return max(1, round(per_day * days))

    return [
        ("collected", lasting(0.3)),
        ("packed", lasting(0.2)),
        ("shipped", lasting(1)),
        ("received", lasting(0.5)),
        ("planned", lasting(2)),
        ("in_process", lasting(110)),
        ("overdue", lasting(2)),
        ("qc_pending", lasting(0.25)),
        ("awaiting_release", lasting(0.25)),
        ("released", lasting(0.25)),
        ("shipped_back", lasting(0.4)),
        ("received_back", lasting(0.6)),
        ("received_today", lasting(0.4)),
        ("partly_given", lasting(0.25)),
        ("expired_unused", 1),
        ("withdrawn_now", 1),
    ]


def _write_in_hand(world: LabWorld) -> int:
    """The work in hand, dated back from now; answers the products made. The first cohort of every stage
    is at North Clinic, whose practitioner makes the bedside checks; the rest at either clinic."""
    rng, now = world.rng, world.now
    rows = Rows(world.ids)
    made = 0
    harvested_hours_ago = {"collected": 0.5, "packed": 1.5, "shipped": 5, "received": 22, "planned": 40}
    products_hours_ago = {
        "qc_pending": 1,
        "awaiting_release": 3.5,
        "released": 4.5,
        "shipped_back": 7,
        "received_back": 15,
        "received_today": 15,
        "partly_given": 17,
        "expired_unused": 27,
        "withdrawn_now": 16,
    }
    for stage, count in in_hand(world.per_day):
        for number in range(count):
            clinic = world.north if number == 0 or rng.random() < NORTH_SHARE else world.river
            if stage in harvested_hours_ago:
                when = now - timedelta(hours=harvested_hours_ago[stage])
                made += autologous(world, rows, clinic=clinic, stage=stage, collected=when)
            elif stage in ("in_process", "overdue"):
                days = rng.uniform(0.5, 120) if stage == "in_process" else rng.uniform(158, 165)
                made += autologous(
                    world, rows, clinic=clinic, stage="in_process", started=now - timedelta(days=days)
                )
            else:
                made += autologous(
                    world,
                    rows,
                    clinic=clinic,
                    stage=stage if stage in PRODUCT_STAGES else "received_back",
                    made=now - timedelta(hours=products_hours_ago[stage]),
                    fate="withdrawn" if stage == "withdrawn_now" else "given",
                    given=1 if stage == "partly_given" else 0,
                    session_today=stage in ("received_today", "partly_given"),
                )
    # Donor stock: two batches released at the lab, one waiting for release, one being given at the clinic.
    for stage, days_ago, given in (
        ("released", 20, 0),
        ("released", 12, 0),
        ("awaiting_release", 1, 0),
        ("received_back", 15, 2),
    ):
        when = now - timedelta(days=days_ago)
        made += donor(world, rows, clinic=world.north, stage=stage, made=when, given=given)
    rows.write()
    return made


def _history_cohort(world: LabWorld, rows: Rows, index: int, room: int) -> int:
    """The INDEX-th finished cohort counted back in time (at most ROOM products); answers products made."""
    rng = world.rng
    clinic = world.north if rng.random() < NORTH_SHARE else world.river
    # Products made per day: the autologous batches and every DONOR_EVERY-th a donor batch.
    days_back = 180 + index / world.per_day
    made = world.now - timedelta(days=days_back, hours=rng.uniform(0, 8))
    if index % DONOR_EVERY == DONOR_EVERY - 1:
        return donor(world, rows, clinic=clinic, stage="done", made=made, doses=min(DONOR_DOSES, room))
    fate = FATES[(index - index // DONOR_EVERY) % len(FATES)]  # counted over the patients only
    if fate == "cancelled":
        return autologous(world, rows, clinic=clinic, stage="done", made=made, fate=fate)
    return autologous(world, rows, clinic=clinic, stage="done", made=made, fate=fate, doses=min(DOSES, room))


def grow_lab(world: LabWorld, total: int) -> int:
    """Bulk-insert the lab's records until they hold TOTAL products (the work in hand first, then older
    finished cohorts); answers the number of products. PostgreSQL gets its planner statistics here, as
    autovacuum would give them; SQLite from the first requests (`first_requests`)."""
    have = Product.objects.count()
    started = time.perf_counter()
    world.ids = {}  # read again: rows were added since (bedside checks, access log)
    with dated_as_given():
        if not world.in_hand:
            with transaction.atomic():
                have += _write_in_hand(world)
            world.in_hand = True
            progress(f"work in hand written: {have:,} products")
        while have < total:
            rows = Rows(world.ids)
            with transaction.atomic():
                for _ in range(CHUNK):
                    if have >= total:
                        break
                    have += _history_cohort(world, rows, world.history, total - have)
                    world.history += 1
                rows.write()
            elapsed = time.perf_counter() - started
            progress(f"{have:,} of {total:,} products ({elapsed:.0f} s)")
    for year, last in world.din_last.items():
        DinSequence.objects.update_or_create(lab=world.lab, year=year, defaults={"last": last})
    for clinic in world.clinics:
        MrnSequence.objects.filter(site=clinic).update(last_value=world.mrn_last[clinic.pk])
    if connection.vendor == "postgresql":
        # Rows were numbered here: move each table's sequence past them. Then VACUUM ANALYZE and a
        # checkpoint, as autovacuum and the checkpointer would do soon after a bulk load: measure the
        # steady state, not the first reads setting hint bits while a gigabyte of WAL is flushed.
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), list(world.ids)):
                cursor.execute(statement)
            if connection.in_atomic_block:  # inside a test's transaction, where VACUUM cannot run
                cursor.execute("ANALYZE")
                return have
            cursor.execute("VACUUM ANALYZE")
            try:
                with transaction.atomic():
                    cursor.execute("CHECKPOINT")
            except DatabaseError:
                progress("no CHECKPOINT (it needs a superuser): the first requests may meet one")
    return have


# Measuring ----------------------------------------------------------------------------------------------


def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile of SAMPLES (SHARE 0.95 for the 95th)."""
    ordered = sorted(samples)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


@dataclass
class Figure:
    """One measured request at one size: its samples in milliseconds (wall clock, and this process's
    CPU time, which other work on the machine disturbs less) and its query count."""

    name: str
    size: int
    samples: list[float]
    queries: int
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.95)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 0.99)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "size": self.size,
            "median": self.median,
            "p95": self.p95,
            "p99": self.p99,
            "cpu": self.cpu_median,
            "queries": self.queries,
        }


@dataclass
class Probe:
    """A request to time: who asks (a test client) and what."""

    name: str
    group: str
    call: Callable[[], object]


def _queries_of(call: Callable[[], object], slowest: int, name: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    if slowest:
        worst = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:slowest]
        for query in worst:
            print(f"    [{name}] {float(query['time']) * 1000:.1f} ms: {query['sql'][:400]}", file=sys.stderr)
    return len(captured.captured_queries)


def timed(call: Callable[[], object], samples: list[float], cpu: list[float]):
    """CALL's answer; its wall-clock and CPU milliseconds appended to SAMPLES and CPU."""
    wall, used = time.perf_counter(), time.process_time()
    answer = call()
    cpu.append((time.process_time() - used) * 1000)
    samples.append((time.perf_counter() - wall) * 1000)
    return answer


def first_requests(found: list[Probe]) -> None:
    """Each request of FOUND once, the connection closed after each as the server closes it after every
    request: on SQLite the closes gather the planner's statistics of the tables those requests read, as
    the first requests after the records grew would in the app. Not inside a transaction (a test's),
    where closing would end it."""
    for probe in found:
        probe.call()
        if not connection.in_atomic_block:
            connection.close()


def time_probe(probe: Probe, size: int, repeat: int, *, slowest: int = 0) -> Figure:
    """PROBE called once untimed (it must answer 200), its queries counted, then timed REPEAT times."""
    answer = probe.call()
    status = getattr(answer, "status_code", 200)
    assert status == 200, f"{probe.name}: {status}"
    queries = _queries_of(probe.call, slowest, probe.name)
    samples: list[float] = []
    cpu: list[float] = []
    for _ in range(repeat):
        timed(probe.call, samples, cpu)
    return Figure(probe.name, size, samples, queries, cpu)


@dataclass
class Readers:
    """Signed-in clients: the lab technician and North Clinic's practitioner, in the browser (both
    factors passed) and over the API (a bearer token each)."""

    technician: TwoFactorClient
    practitioner: TwoFactorClient
    technician_api: TwoFactorClient
    practitioner_api: TwoFactorClient


def readers(world: LabWorld) -> Readers:
    practitioner = world.practitioners[world.north.pk]
    made = {}
    for name, user in (("technician", world.technician), ("practitioner", practitioner)):
        browser = TwoFactorClient()
        browser.force_login(user)
        _, key = api_token_create(user=user, name="benchmark")
        made[name] = browser
        made[f"{name}_api"] = TwoFactorClient(headers={"Authorization": f"Bearer {key}"})
    return Readers(**made)


@dataclass(frozen=True)
class Targets:
    """The records the look-back and patient requests read, the same shape at every size."""

    batch: Batch
    reagent_lot: ReagentLot
    reagent_products: int
    donor_lot: DonorLot
    donor_products: int
    patient: Patient
    patient_products: int


def targets(world: LabWorld) -> Targets:
    """The first batch of North Clinic whose three doses were all given; the reagent lot and
    the donor lot whose batches made the most products; the first patient of North Clinic whose first
    culture failed (two specimens, two batches, three products), or else the first with a product."""
    given = Count("products", filter=Q(products__status=states.PRODUCT_ADMINISTERED))
    batch = (
        Batch.objects.filter(site=world.north, status=states.BATCH_RELEASED, specimen__isnull=False)
        .annotate(given=given)
        .filter(given=DOSES)
        .order_by("pk")
        .first()
    )
    lot = ReagentLot.objects.annotate(made=Count("batches__products")).order_by("-made", "pk").first()
    donor_lot = DonorLot.objects.annotate(made=Count("products")).order_by("-made", "pk").first()
    chains = ChainOfIdentity.objects.filter(site=world.north, products__isnull=False).order_by("pk")
    chain = chains.filter(specimens__replaces__status=states.SPECIMEN_USED).first() or chains.first()
    patient = chain.patient
    return Targets(
        batch=batch,
        reagent_lot=lot,
        reagent_products=lot.made,
        donor_lot=donor_lot,
        donor_products=donor_lot.made,
        patient=patient,
        patient_products=Product.objects.filter(chain__patient=patient).count(),
    )


def probes(world: LabWorld, clients: Readers, found: Targets) -> list[Probe]:
    tech, prac = clients.technician, clients.practitioner
    tech_api, prac_api = clients.technician_api, clients.practitioner_api
    batch, lot, donor_lot, patient = found.batch, found.reagent_lot, found.donor_lot, found.patient
    return [
        Probe("/lab/, lab technician (8 items)", "pages", lambda: tech.get("/lab/")),
        Probe("/lab/, practitioner (3 clinic items)", "pages", lambda: prac.get("/lab/")),
        Probe(
            "all batches in process (page 1 of the list)",
            "pages",
            lambda: tech.get("/lab/waiting/", {"item": "batches-in-process"}),
        ),
        Probe(
            "all products expiring within 48 h",
            "pages",
            lambda: tech.get("/lab/waiting/", {"item": "expiring-soon"}),
        ),
        Probe("staff home, lab technician (worklist tiles)", "pages", lambda: tech.get("/")),
        Probe("batch page (3 products)", "pages", lambda: tech.get(f"/lab/batches/{batch.pk}/")),
        Probe(
            "look-back from a batch (3 products)",
            "lookback",
            lambda: tech_api.get(f"/api/v1/batches/{batch.pk}/lookback"),
        ),
        Probe(
            "look-back from a reagent lot, first 50",
            "lookback",
            lambda: tech_api.get(f"/api/v1/reagent-lots/{lot.pk}/lookback", {"limit": 50}),
        ),
        Probe(
            "look-back from a donor lot",
            "lookback",
            lambda: tech_api.get(f"/api/v1/donor-lots/{donor_lot.pk}/lookback", {"limit": 50}),
        ),
        Probe(
            "a patient's lab records (API)",
            "lookback",
            lambda: prac_api.get(f"/api/v1/patients/{patient.pk}/lab-records"),
        ),
        Probe(
            "a patient's chart, plan section with the lab panel",
            "lookback",
            lambda: prac.get(f"/patients/{patient.pk}/", {"section": "plan"}),
        ),
        Probe(
            "GET /api/v1/products?limit=50, practitioner",
            "api",
            lambda: prac_api.get("/api/v1/products", {"limit": 50}),
        ),
        Probe(
            "GET /api/v1/products?limit=50, lab technician",
            "api",
            lambda: tech_api.get("/api/v1/products", {"limit": 50}),
        ),
    ]


# The bedside check --------------------------------------------------------------------------------------

# What each kind of scan should answer: passed, or the reason code the stop must include.
SCENARIOS = (
    ("pass", 0.45, None),
    ("wrong patient", 0.15, "wrong_patient"),
    ("already administered", 0.10, "already_administered"),
    ("unknown DIN", 0.10, "unknown_product"),
    ("expired", 0.05, "expired"),
    ("not released", 0.05, "not_released"),
    ("recalled", 0.05, "recalled"),
    ("consent withdrawn", 0.05, "consent_withdrawn"),
)


def _sample(rows, count: int, rng: random.Random) -> list:
    rows = list(rows)
    return rng.sample(rows, min(count, len(rows)))


def bedside_scans(world: LabWorld, count: int, seed: int = 11) -> list[tuple[str, str, str, str | None]]:
    """COUNT scans at North Clinic, (scenario, MRN, DIN, expected stop code or None for a pass), drawn
    from SCENARIOS' shares: patients' own received products, other patients', given, expired,
    unreleased, recalled and withdrawn ones, and DINs no product has."""
    rng = random.Random(seed)  # noqa: S311 - a benchmark's draw
    now = timezone.now()
    own = Product.objects.filter(chain__site=world.north, chain__patient__site=world.north)

    def pairs(query) -> list[tuple[str, str]]:
        return _sample(query.values_list("chain__patient__mrn", "din"), 200, rng)

    usable = pairs(own.filter(status=states.PRODUCT_RECEIVED, expires_at__gt=now + timedelta(hours=1)))
    mrns = [mrn for mrn, _ in pairs(own.filter(status=states.PRODUCT_RECEIVED))] or [usable[0][0]]
    pools = {
        "pass": usable,
        "wrong patient": usable,
        "already administered": pairs(own.filter(status=states.PRODUCT_ADMINISTERED).order_by("-pk")[:5000]),
        "unknown DIN": [
            (rng.choice(mrns), Din(FACILITY, now.year % 100, UNUSED_SEQUENCE + n).din) for n in range(200)
        ],
        "expired": pairs(own.filter(status=states.PRODUCT_RECEIVED, expires_at__lte=now)),
        "not released": pairs(own.filter(status=states.PRODUCT_AWAITING_RELEASE)),
        "recalled": pairs(own.filter(status=states.PRODUCT_RECALLED)),
        "consent withdrawn": pairs(own.filter(chain__consent__status=Consent.Status.WITHDRAWN)),
    }
    kinds = [(name, share, code) for name, share, code in SCENARIOS if pools[name]]
    scans = []
    for _ in range(count):
        name, _, code = rng.choices(kinds, weights=[share for _, share, _ in kinds])[0]
        mrn, din = rng.choice(pools[name])
        if name == "wrong patient":
            mrn = rng.choice([other for other in mrns if other != mrn] or mrns)
        scans.append((name, mrn, din, code))
    return scans


@dataclass
class BedsideFigures:
    api: Figure
    service: Figure
    outcomes: Counter
    queries_passed: int
    queries_stopped: int


def _judge(name: str, code: str | None, passed: bool, codes: list[str]) -> None:
    expected = code is None
    assert passed == expected and (code is None or code in codes), f"{name}: passed={passed}, reasons={codes}"


def time_bedside(world: LabWorld, clients: Readers, size: int, count: int) -> BedsideFigures:
    """COUNT scans posted to /api/v1/bedside-checks, then COUNT through the service alone; every answer
    checked against what its scenario must answer."""
    scans = bedside_scans(world, count)
    api = clients.practitioner_api
    practitioner = world.practitioners[world.north.pk]

    def post(mrn: str, din: str):
        return api.post("/api/v1/bedside-checks", {"mrn": mrn, "din": din}, content_type="application/json")

    outcomes: Counter = Counter()
    first_pass = next(scan for scan in scans if scan[3] is None)
    first_stop = next(scan for scan in scans if scan[3] is not None)
    post(*first_pass[1:3])
    queries_passed = _queries_of(lambda: post(*first_pass[1:3]), 0, "bedside pass")
    queries_stopped = _queries_of(lambda: post(*first_stop[1:3]), 0, "bedside stop")
    samples: list[float] = []
    cpu: list[float] = []
    for name, mrn, din, code in scans:
        answer = timed(lambda mrn=mrn, din=din: post(mrn, din), samples, cpu)
        assert answer.status_code == 200, f"{name}: {answer.status_code} {answer.content[:200]!r}"
        body = answer.json()
        _judge(name, code, body["passed"], [reason["code"] for reason in body["reasons"]])
        outcomes[name] += 1
    service: list[float] = []
    service_cpu: list[float] = []
    for name, mrn, din, code in scans:
        _, result = timed(
            lambda mrn=mrn, din=din: bedside_check(actor=practitioner, mrn=mrn, din=din), service, service_cpu
        )
        _judge(name, code, result.passed, [str(reason) for reason in result.codes])
    return BedsideFigures(
        api=Figure("POST /api/v1/bedside-checks", size, samples, queries_passed, cpu),
        service=Figure("bedside_check() service alone", size, service, queries_passed, service_cpu),
        outcomes=outcomes,
        queries_passed=queries_passed,
        queries_stopped=queries_stopped,
    )


# Reporting ----------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            cursor.execute("SELECT sqlite_version()")
            database = f"SQLite {cursor.fetchone()[0]}"
    return f"{database}; Python {platform.python_version()}; {cpu}, {os.cpu_count()} cores"


def table(figures: list[Figure], sizes: list[int]) -> str:
    """One row per request: its queries at each size, median and p95 at each size, and the largest
    size's median over the smallest's."""
    by = {(f.name, f.size): f for f in figures}
    head = ["request", "queries"]
    for size in sizes:
        head += [f"{size:,}: median ms", f"{size:,}: p95 ms", f"{size:,}: CPU ms"]
    if len(sizes) > 1:
        head.append(f"{sizes[-1]:,} / {sizes[0]:,}")
    lines = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    for name in dict.fromkeys(f.name for f in figures):
        found = [by.get((name, size)) for size in sizes]
        queries = dict.fromkeys(str(f.queries) for f in found if f)
        row = [name, " / ".join(queries)]
        for figure in found:
            row += (
                [f"{figure.median:.1f}", f"{figure.p95:.1f}", f"{figure.cpu_median:.1f}"]
                if figure
                else ["—"] * 3
            )
        if len(sizes) > 1:
            first, last = found[0], found[-1]
            row.append(f"{last.median / first.median:.2f}" if first and last else "—")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def describe(found: Targets) -> str:
    return (
        f"batch {found.batch.code} (3 products); reagent lot {found.reagent_lot} "
        f"({found.reagent_products:,} products); donor lot {found.donor_lot.lot_number} "
        f"({found.donor_products} products); patient {found.patient.mrn} ({found.patient_products} products)"
    )


def bedside_table(results: dict[int, BedsideFigures]) -> str:
    lines = [
        "| measure | products | checks | median ms | p95 ms | p99 ms | CPU ms | queries (pass / stop) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, found in results.items():
        for figure in (found.api, found.service):
            lines.append(
                f"| {figure.name} | {size:,} | {len(figure.samples)} | {figure.median:.1f} | {figure.p95:.1f}"
                f" | {figure.p99:.1f} | {figure.cpu_median:.1f}"
                f" | {found.queries_passed} / {found.queries_stopped} |"
            )
    return "\n".join(lines)


def counts() -> dict[str, int]:
    """The rows of each table the benchmark grows."""
    tables = (
        Patient,
        Consent,
        PlanStep,
        ChainOfIdentity,
        Specimen,
        Shipment,
        Batch,
        ProcessStep,
        QCResult,
        Product,
        CustodyEvent,
        BedsideCheck,
        DonorLot,
        ReagentLot,
    )
    return {model.__name__: model.objects.count() for model in tables}


def _profile(probe: Probe, repeat: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        probe.call()
    profiler.disable()
    print(f"\n--- profile of {probe.name}, {repeat} calls ---", file=sys.stderr)
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)


def main(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="products at each step")
    parser.add_argument("--repeat", type=int, default=30, help="timed calls of each request")
    parser.add_argument("--checks", type=int, default=500, help="bedside checks posted at each size")
    parser.add_argument("--only", default="pages,lookback,api,bedside", help="groups to measure")
    parser.add_argument("--per-day", type=float, default=PER_DAY, help="batches the lab starts a day")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--slowest", type=int, default=0, help="print each request's N slowest queries")
    parser.add_argument("--profile", default="", help="cProfile the requests whose name contains this")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards, to look into it")
    args = parser.parse_args(argv)
    groups = set(args.only.split(","))
    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()
    progress(f"migrating a {connection.vendor} database")
    call_command("migrate", verbosity=0)
    progress("the lab, two clinics, their staff and the template pathways")
    world = lab_world(per_day=args.per_day)
    clients = readers(world)
    figures: list[Figure] = []
    bedside: dict[int, BedsideFigures] = {}
    built: dict[int, dict] = {}
    for size in sorted(args.sizes):
        started = time.perf_counter()
        grow_lab(world, size)
        built[size] = {"seconds": round(time.perf_counter() - started, 1), "rows": counts()}
        progress(f"{size:,} products grown in {built[size]['seconds']} s: {built[size]['rows']}")
        found = targets(world)
        built[size]["targets"] = describe(found)
        built[size]["load"] = [round(value, 2) for value in os.getloadavg()]
        progress(f"targets: {built[size]['targets']}")
        if connection.vendor == "sqlite":
            progress("the first requests, each on its own connection (SQLite gathers its statistics)")
            first_requests(probes(world, clients, found))
        for probe in probes(world, clients, found):
            if probe.group in groups:
                progress(f"{size:,}: {probe.name}")
                figure = time_probe(probe, size, args.repeat, slowest=args.slowest)
                figures.append(figure)
                progress(
                    f"    median {figure.median:.1f} ms, p95 {figure.p95:.1f} ms, {figure.queries} queries"
                )
                if args.profile and args.profile in probe.name:
                    _profile(probe, args.repeat)
        if "bedside" in groups:
            progress(f"{size:,}: {args.checks} bedside checks through the API, then the service")
            bedside[size] = time_bedside(world, clients, size, args.checks)
            progress(f"    {dict(bedside[size].outcomes)}")
        built[size]["load"] += [round(value, 2) for value in os.getloadavg()]
    sizes = sorted(args.sizes)
    statistics_note = (
        "; VACUUM ANALYZE after growing"
        if connection.vendor == "postgresql"
        else "; each request made once first, its connection closed after it (PRAGMA optimize)"
    )
    print(f"\n{machine()}{statistics_note}\n")
    for size in sizes:
        print(f"{size:,} products: grown in {built[size]['seconds']} s; rows: {built[size]['rows']}")
        print(f"  read: {built[size]['targets']}")
        before, after = built[size]["load"][:3], built[size]["load"][3:]
        print(f"  load average (1, 5, 15 min) before measuring: {before}; after: {after}")
    if figures:
        print()
        print(table(figures, sizes))
    if bedside:
        print()
        print(bedside_table(bedside))
        for size, found in bedside.items():
            print(f"\nScans at {size:,} products: {dict(found.outcomes)}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine(),
                    "built": built,
                    "figures": [figure.as_json() for figure in figures],
                    "bedside": {
                        size: {
                            "outcomes": dict(found.outcomes),
                            "queries": [found.queries_passed, found.queries_stopped],
                            "api": found.api.as_json(),
                            "service": found.service.as_json(),
                        }
                        for size, found in bedside.items()
                    },
                },
                indent=2,
            )
        )
    return args


if __name__ == "__main__":
    options = main()
    connection.close()
    if options.keep:
        print(f"\nThe database is kept: {os.environ['DATABASE_URL']}", file=sys.stderr)
    else:
        shutil.rmtree(os.environ["CELLCLINIC_VAR_DIR"], ignore_errors=True)
        if os.environ.get("BENCH_DATABASE_URL", "").startswith("postgres"):
            import psycopg

            with psycopg.connect(os.environ["BENCH_DATABASE_URL"], autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS cellclinic_lab_bench")
