"""scripts/lab_benchmark.py at a tiny size: its data builder and its measurements still work.

The script is run by hand at 10,000 and 100,000 products (BENCHMARKS.md); here it builds a few hundred
products and measures every request once, so a change to the lab that breaks it fails here. Behaviour
only: what was built, and that each request answered; never how long anything took.
"""

import importlib.util
from pathlib import Path

import pytest

from cellclinic.lab import states
from cellclinic.lab.isbt import parse_din
from cellclinic.lab.models import BedsideCheck, CustodyEvent, DinSequence, Product, Specimen
from cellclinic.patients.models import MrnSequence, Patient

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "lab_benchmark.py"
SIZE = 250
PER_DAY = 0.02  # the smallest work in hand: one cohort at most stages

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("lab_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def world(bench):
    world = bench.lab_world(per_day=PER_DAY)
    assert bench.grow_lab(world, SIZE) == SIZE
    return world


def test_grows_exactly_to_the_size_with_products_in_every_status(bench, world):
    assert Product.objects.count() == SIZE
    assert set(Product.objects.values_list("status", flat=True)) == set(states.PRODUCT_STATES.states)
    assert set(Product.objects.values_list("site__code", flat=True)) == {"NCL", "RSC", "LAB"}
    assert Product.objects.filter(donor_lot__isnull=False, chain__isnull=True).exists()


def test_every_din_is_valid_and_unique_and_the_sequence_continues_after_them(world):
    rows = list(Product.objects.values_list("din", "din_flags", "din_check"))
    assert len({din for din, _, _ in rows}) == len(rows)
    for din, flags, check in rows:
        assert parse_din(din + flags).check == check
    for sequence in DinSequence.objects.all():
        year = f"{sequence.year % 100:02d}"
        used = [int(din[7:]) for din, _, _ in rows if din[5:7] == year]
        assert sequence.last == max(used)


def test_what_was_given_has_its_bedside_check_and_custody_event(world):
    given = Product.objects.filter(status=states.PRODUCT_ADMINISTERED)
    assert given.exists()
    assert not given.exclude(bedside_checks__passed=True).exists()
    assert not given.exclude(custody__kind=CustodyEvent.Kind.ADMINISTERED).exists()
    assert BedsideCheck.objects.filter(passed=False).exists()
    made = Product.objects.exclude(status__in=[states.PRODUCT_AWAITING_RELEASE, states.PRODUCT_REJECTED])
    assert not made.exclude(custody__kind=CustodyEvent.Kind.RELEASED).exists()


def test_growing_again_adds_older_records_and_keeps_numbers_unique(bench, world):
    newest = Product.objects.order_by("-created_at").values_list("pk", flat=True).first()
    assert bench.grow_lab(world, SIZE + 60) == SIZE + 60
    assert Product.objects.order_by("-created_at").values_list("pk", flat=True).first() == newest
    for clinic in world.clinics:
        mrns = list(Patient.objects.filter(site=clinic).values_list("mrn", flat=True))
        assert len(set(mrns)) == len(mrns)
        assert MrnSequence.objects.get(site=clinic).last_value == len(mrns)
    assert Specimen.objects.filter(replaces__isnull=False).exists()


def test_every_request_answers_and_is_measured(bench, world):
    clients = bench.readers(world)
    found = bench.targets(world)
    assert found.patient_products >= 1 and found.reagent_products >= 1 and found.donor_products >= 1
    probes = bench.probes(world, clients, found)
    assert {probe.group for probe in probes} == {"pages", "lookback", "api"}
    bench.first_requests(probes)  # inside the test's transaction: the connection stays open
    figures = [bench.time_probe(probe, SIZE, 2) for probe in probes]
    assert all(len(figure.samples) == len(figure.cpu) == 2 and figure.queries > 0 for figure in figures)
    table = bench.table(figures, [SIZE])
    assert all(f"| {figure.name} |" in table for figure in figures)


def test_bedside_checks_pass_and_stop_as_each_scan_must(bench, world):
    clients = bench.readers(world)
    before = BedsideCheck.objects.count()
    measured = bench.time_bedside(world, clients, SIZE, 40)
    assert sum(measured.outcomes.values()) == 40
    assert measured.outcomes["pass"] > 0 and sum(measured.outcomes.values()) > measured.outcomes["pass"]
    assert len(measured.api.samples) == len(measured.service.samples) == 40
    # Every scan is recorded, through the API and through the service, and the three counted ones too.
    assert BedsideCheck.objects.count() == before + 40 + 40 + 3
    assert "POST /api/v1/bedside-checks" in bench.bedside_table({SIZE: measured})
