"""Batches: planned in a free slot, started, steps and deviations, a failed culture, made into products."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cellclinic.audit.models import AuditEvent
from cellclinic.core.checkchar import mod37_2
from cellclinic.core.errors import Forbidden, InvalidInput, NotFound
from cellclinic.lab import states
from cellclinic.lab.labels import PRODUCT_CODE
from cellclinic.lab.models import CustodyEvent, DinSequence, Product
from cellclinic.lab.services import (
    BATCH_FINISHED,
    BEFORE_START,
    CANNOT_PROCESS,
    IN_THE_FUTURE,
    IN_THE_PAST,
    MORE_THAN_PLANNED,
    NO_SHELF_LIFE,
    ONE_SOURCE,
    REQUIRED,
    SPECIMEN_HAS_BATCH,
    TOO_FEW_DOSES_LEFT,
    batch_cancel,
    batch_fail,
    batch_finish_processing,
    batch_plan,
    batch_start,
    deviation_record,
    process_step_record,
    product_code,
    reagent_lot_create,
)
from cellclinic.lab.tests.builders import (
    donor_batch_to,
    donor_lot_ready,
    field_errors,
    lab_advance,
    lab_counts,
    lab_pathway_to,
    lab_staff,
    statuses,
)
from cellclinic.notifications.models import Notification
from cellclinic.patients.services import patient_create

pytestmark = pytest.mark.django_db


def to(stage, patient, practitioner, lab_li, qa_quinn, **options):
    return lab_pathway_to(stage, patient, practitioner, technician=lab_li, reviewer=qa_quinn, **options)


def refused(call, **arguments) -> dict[str, str]:
    before = lab_counts()
    with pytest.raises(InvalidInput) as caught:
        call(**arguments)
    assert lab_counts() == before
    return field_errors(caught.value)


def today():
    return timezone.localdate()


@pytest.fixture
def at_lab(patient_a, dr_ada, lab_li, qa_quinn):
    return to("at_lab", patient_a, dr_ada, lab_li, qa_quinn)


@pytest.fixture
def in_process(patient_a, dr_ada, lab_li, qa_quinn):
    return to("in_process", patient_a, dr_ada, lab_li, qa_quinn)


def second_patient(clinic, practitioner, lab_li, qa_quinn, stage="at_lab"):
    other = patient_create(
        site=clinic,
        actor=practitioner,
        data={"given_name": "Mary", "family_name": "Somerville", "date_of_birth": today().replace(year=1971)},
    )
    return to(stage, other, practitioner, lab_li, qa_quinn)


# --- planning -------------------------------------------------------------------------------------------


def test_a_batch_is_planned_in_the_earliest_slot_under_the_consented_protocol(at_lab, lab_li):
    batch = batch_plan(actor=lab_li, specimen=at_lab.specimen, doses=3)
    assert re.fullmatch(rf"B{today().year % 100:02d}-\d{{6}}", batch.code)
    assert batch.code.endswith(f"{batch.pk:06d}")
    assert (batch.site, batch.lab, batch.specimen, batch.donor_lot, batch.coi) == (
        at_lab.clinic,
        at_lab.lab,
        at_lab.specimen,
        None,
        at_lab.chain.coi,
    )
    assert (batch.therapy_code, batch.therapy_version, batch.status, batch.doses_planned) == (
        at_lab.specimen.therapy_code,
        at_lab.consent.therapy_version,
        states.BATCH_PLANNED,
        3,
    )
    assert (batch.slot_start, batch.ready_from, batch.ready_to) == (
        today(),
        today() + timedelta(days=77),
        today() + timedelta(days=154),
    )
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.object_id, event.after["code"]) == ("batch.plan", str(batch.pk), batch.code)


def test_a_full_lab_plans_the_next_batch_when_a_slot_frees(at_lab, clinic_a, dr_ada, lab, lab_li, qa_quinn):
    lab.lab_profile.processing_slots = 1
    lab.lab_profile.save()
    first = batch_plan(actor=lab_li, specimen=at_lab.specimen, doses=1)
    other = second_patient(clinic_a, dr_ada, lab_li, qa_quinn)
    second = batch_plan(actor=lab_li, specimen=other.specimen, doses=1, wanted=today() + timedelta(days=1))
    assert second.slot_start == first.ready_to + timedelta(days=1)


def test_only_the_labs_technicians_plan(at_lab, dr_ada, qa_quinn, dr_cy, lab):
    elsewhere = lab_staff(
        type(lab).objects.create(code="LAB2", name="Other Lab", kind="lab"), "lab_technician"
    )
    for actor in (dr_ada, qa_quinn):
        with pytest.raises(Forbidden, match=CANNOT_PROCESS):
            batch_plan(actor=actor, specimen=at_lab.specimen, doses=1)
    for actor in (dr_cy, elsewhere):
        with pytest.raises(NotFound):
            batch_plan(actor=actor, specimen=at_lab.specimen, doses=1)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"doses": 0}, {"doses": "must be from 1 to 50"}),
        ({"doses": 51}, {"doses": "must be from 1 to 50"}),
        ({"doses": "2"}, {"doses": "must be a whole number"}),
        ({"wanted": timezone.localdate() - timedelta(days=1)}, {"wanted": IN_THE_PAST}),
        ({"wanted": "monday"}, {"wanted": "must be a date"}),
    ],
)
def test_bad_plans_are_named(at_lab, lab_li, overrides, expected):
    arguments = {"doses": 2, **overrides}
    assert refused(batch_plan, actor=lab_li, specimen=at_lab.specimen, **arguments) == expected


def test_a_batch_needs_one_source(at_lab, lab_li, lab, qa_quinn):
    lot = donor_lot_ready(lab, lab_li, qa_quinn)
    assert refused(batch_plan, actor=lab_li, doses=1) == {"specimen": ONE_SOURCE}
    assert refused(batch_plan, actor=lab_li, specimen=at_lab.specimen, donor_lot=lot, doses=1) == {
        "specimen": ONE_SOURCE
    }


def test_a_specimen_not_yet_received_or_already_in_a_batch_is_not_planned(
    patient_a, dr_ada, lab_li, qa_quinn
):
    made = to("shipped", patient_a, dr_ada, lab_li, qa_quinn)
    errors = refused(batch_plan, actor=lab_li, specimen=made.specimen, doses=1)
    assert errors == {
        "specimen": "the specimen must be received and accepted at the lab (it is on its way to the lab)"
    }
    lab_advance(made, "at_lab")
    batch_plan(actor=lab_li, specimen=made.specimen, doses=1)
    assert refused(batch_plan, actor=lab_li, specimen=made.specimen, doses=1) == {
        "specimen": SPECIMEN_HAS_BATCH
    }


def test_a_donor_lot_batch_is_planned_within_the_lots_doses(lab, lab_li, qa_quinn):
    lot = donor_lot_ready(lab, lab_li, qa_quinn, quantity=5)
    batch = batch_plan(actor=lab_li, donor_lot=lot, doses=3)
    assert (batch.site, batch.lab, batch.coi, batch.donor_lot) == (lab, lab, "", lot)
    # A manufactured product with no processing time needs no slot.
    assert batch.slot_start == batch.ready_from == batch.ready_to == today()
    assert refused(batch_plan, actor=lab_li, donor_lot=lot, doses=3) == {
        "doses": TOO_FEW_DOSES_LEFT.format(left=2)
    }


# --- starting, steps, deviations ----------------------------------------------------------------------------


def test_starting_makes_the_technician_the_processor(at_lab, lab_li, lab):
    medium = reagent_lot_create(actor=lab_li, lab=lab, name="DMEM", lot_number="M-1", expires_on=today())
    batch = batch_plan(actor=lab_li, specimen=at_lab.specimen, doses=2)
    batch_start(actor=lab_li, batch=batch, reagent_lots=[medium])
    batch.refresh_from_db()
    assert (batch.status, batch.processed_by, list(batch.reagent_lots.all())) == (
        states.BATCH_IN_PROCESS,
        lab_li,
        [medium],
    )
    assert batch.started_at is not None
    assert statuses(at_lab.specimen) == [states.SPECIMEN_IN_PROCESSING]
    event = at_lab.specimen.custody.latest("id")
    assert (event.kind, event.at_site, event.note) == (CustodyEvent.Kind.PROCESSING, lab, batch.code)
    assert AuditEvent.objects.filter(action="batch.start", object_id=str(batch.pk)).get().after[
        "reagent_lots"
    ] == ["DMEM lot M-1"]


def test_reagents_must_be_the_labs_own_and_unexpired(at_lab, lab_li, lab):
    other_lab = type(lab).objects.create(code="LAB2", name="Other Lab", kind="lab")
    foreign = reagent_lot_create(
        actor=lab_staff(other_lab, "lab_technician"), lab=other_lab, name="FBS", lot_number="F"
    )
    old = reagent_lot_create(actor=lab_li, lab=lab, name="Trypsin", lot_number="T-9")
    type(old).objects.filter(pk=old.pk).update(expires_on=today() - timedelta(days=1))
    batch = batch_plan(actor=lab_li, specimen=at_lab.specimen, doses=2)
    errors = refused(batch_start, actor=lab_li, batch=batch, reagent_lots=[foreign, old])
    expired = f"Trypsin lot T-9 expired on {today() - timedelta(days=1)}"
    assert errors == {"reagent_lots": f"FBS lot F belongs to another lab; {expired}"}
    assert statuses(batch, at_lab.specimen) == [states.BATCH_PLANNED, states.SPECIMEN_RECEIVED]


def test_a_batch_starts_once(in_process, lab_li):
    errors = refused(batch_start, actor=lab_li, batch=in_process.batch)
    assert set(errors) == {"status", "specimen"}


def test_a_step_is_recorded_with_its_numbers(in_process, lab_li):
    step = process_step_record(
        actor=lab_li,
        batch=in_process.batch,
        name="Passage 2",
        passage=2,
        cell_count=25_000_000,
        viability_percent="88.25",
        note="Confluent",
    )
    assert (step.passage, step.cell_count, step.viability_percent, step.performed_by) == (
        2,
        25_000_000,
        Decimal("88.2"),
        lab_li,
    )
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.after["step"], event.after["viability_percent"]) == (
        "batch.step",
        "Passage 2",
        "88.2",
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"name": ""}, {"name": REQUIRED}),
        ({"viability_percent": 101}, {"viability_percent": "must be from 0 to 100"}),
        ({"viability_percent": "-1"}, {"viability_percent": "must be from 0 to 100"}),
        ({"viability_percent": "high"}, {"viability_percent": "must be a number"}),
        ({"passage": -1}, {"passage": "must be from 0 to 99"}),
        ({"cell_count": 1.5}, {"cell_count": "must be a whole number"}),
        ({"performed_at": timezone.now() + timedelta(hours=1)}, {"performed_at": IN_THE_FUTURE}),
        ({"performed_at": timezone.now() - timedelta(days=30)}, {"performed_at": BEFORE_START}),
    ],
)
def test_bad_steps_are_named(in_process, lab_li, overrides, expected):
    arguments = {"name": "Passage 2", **overrides}
    assert refused(process_step_record, actor=lab_li, batch=in_process.batch, **arguments) == expected


def test_steps_are_recorded_only_while_in_process(at_lab, lab_li):
    batch = batch_plan(actor=lab_li, specimen=at_lab.specimen, doses=1)
    errors = refused(process_step_record, actor=lab_li, batch=batch, name="Count")
    assert errors == {"batch": "the batch must be in process (it is planned)"}


def test_a_deviation_is_recorded_with_its_reason(in_process, lab_li, dr_ada):
    with pytest.raises(Forbidden):
        deviation_record(actor=dr_ada, batch=in_process.batch, description="x", reason="y")
    deviation = deviation_record(
        actor=lab_li,
        batch=in_process.batch,
        description="Incubator at 38 °C for 2 h",
        reason="Door left ajar",
    )
    assert (deviation.recorded_by, deviation.reason) == (lab_li, "Door left ajar")
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.reason) == ("batch.deviation", "Door left ajar")
    assert refused(deviation_record, actor=lab_li, batch=in_process.batch, description="x", reason=" ") == {
        "reason": REQUIRED
    }


def test_no_deviation_on_a_decided_batch(patient_a, dr_ada, lab_li, qa_quinn):
    made = to("released", patient_a, dr_ada, lab_li, qa_quinn)
    errors = refused(deviation_record, actor=lab_li, batch=made.batch, description="Late", reason="Why")
    assert errors == {"batch": BATCH_FINISHED.format(status="released")}


def test_a_planned_batch_is_cancelled(at_lab, lab_li):
    batch = batch_plan(actor=lab_li, specimen=at_lab.specimen, doses=1)
    assert refused(batch_cancel, actor=lab_li, batch=batch, reason="") == {"reason": REQUIRED}
    batch_cancel(actor=lab_li, batch=batch, reason="Planned twice")
    assert statuses(batch) == [states.BATCH_CANCELLED]
    # The specimen can be planned again.
    assert batch_plan(actor=lab_li, specimen=at_lab.specimen, doses=1).status == states.BATCH_PLANNED


# --- a failed culture ------------------------------------------------------------------------------------


def test_a_failed_culture_uses_up_the_specimen_and_tells_the_clinics_practitioners(
    in_process, lab_li, dr_ada, nurse_bo, patient_a
):
    batch_fail(actor=lab_li, batch=in_process.batch, reason="No growth after 21 days")
    in_process.refresh()
    assert (in_process.batch.status, in_process.batch.failed_reason) == (
        states.BATCH_FAILED,
        "No growth after 21 days",
    )
    assert in_process.specimen.status == states.SPECIMEN_USED
    told = Notification.objects.get(kind="lab.culture_failed")
    assert told.recipient == dr_ada and told.site == in_process.clinic
    assert in_process.batch.code in told.subject and "No growth after 21 days" in told.body
    assert "re-harvest" in told.body and told.link == f"/lab/batches/{in_process.batch.pk}/"
    assert patient_a.family_name not in told.body and patient_a.mrn not in told.body
    assert not Notification.objects.filter(recipient=nurse_bo).exists()


def test_a_failure_needs_a_reason(in_process, lab_li):
    assert refused(batch_fail, actor=lab_li, batch=in_process.batch, reason="") == {"reason": REQUIRED}


def test_a_batch_in_process_is_not_cancelled(in_process, lab_li):
    errors = refused(batch_cancel, actor=lab_li, batch=in_process.batch, reason="Too late")
    assert set(errors) == {"status"} and "cannot become cancelled before processing" in errors["status"]


def test_a_planned_batch_cannot_fail(at_lab, lab_li):
    batch = batch_plan(actor=lab_li, specimen=at_lab.specimen, doses=1)
    errors = refused(batch_fail, actor=lab_li, batch=batch, reason="Never started")
    assert set(errors) == {"status"}


# --- finishing: the products and their DINs ----------------------------------------------------------------


def test_finishing_makes_the_products_with_dins_codes_expiry_and_storage(in_process, lab_li, settings):
    settings.CELLCLINIC_CELL_BANKING_MONTHS = 12
    moment = timezone.now().replace(microsecond=0)
    with time_machine.travel(moment, tick=False):
        batch_finish_processing(actor=lab_li, batch=in_process.batch, doses_made=2, banked_vials=3)
    in_process.refresh()
    batch = in_process.batch
    assert (batch.status, batch.banked_vials) == (states.BATCH_QC_PENDING, 3)
    products = list(batch.products.order_by("dose_number"))
    year = timezone.localdate().year % 100
    assert [p.din for p in products] == [f"A9999{year:02d}000001", f"A9999{year:02d}000002"]
    for product in products:
        assert product.din_check == mod37_2(product.din) and product.din_flags == "00"
        assert product.product_code == product_code(batch.therapy_code, autologous=True)
        assert PRODUCT_CODE.fullmatch(product.product_code) and product.product_code[5] == "1"
        assert product.expires_at == moment + timedelta(hours=24)
        assert (product.status, product.storage) == (states.PRODUCT_AWAITING_RELEASE, "Store at 2–8 °C")
        assert (product.chain, product.coi, product.site, product.lab) == (
            in_process.chain,
            in_process.chain.coi,
            in_process.clinic,
            in_process.lab,
        )
    assert in_process.specimen.status == states.SPECIMEN_USED
    event = AuditEvent.objects.filter(action="batch.finish").get()
    assert event.after["products"] == [p.din for p in products] and event.after["doses_made"] == 2


def test_dins_go_on_in_sequence_across_batches_of_the_lab(in_process, lab_li, qa_quinn, clinic_a, dr_ada):
    other = second_patient(clinic_a, dr_ada, lab_li, qa_quinn, stage="in_process")
    batch_finish_processing(actor=lab_li, batch=in_process.batch, doses_made=2)
    batch_finish_processing(actor=lab_li, batch=other.batch, doses_made=1)
    sequences = list(Product.objects.order_by("din").values_list("din", flat=True))
    assert [int(din[7:]) for din in sequences] == [1, 2, 3]
    assert DinSequence.objects.get().last == 3


def test_banking_keeps_cells_until_the_storage_consent_ends(in_process, lab_li, settings):
    settings.CELLCLINIC_CELL_BANKING_MONTHS = 6
    moment = timezone.now().replace(year=2031, month=8, day=31, hour=12)
    with time_machine.travel(moment, tick=False):
        batch_finish_processing(actor=lab_li, batch=in_process.batch, doses_made=1, banked_vials=4)
    in_process.batch.refresh_from_db()
    assert in_process.batch.banked_until.isoformat() == "2032-02-29"


def test_no_banked_cells_no_storage_date(in_process, lab_li):
    batch_finish_processing(actor=lab_li, batch=in_process.batch, doses_made=1)
    in_process.batch.refresh_from_db()
    assert (in_process.batch.banked_vials, in_process.batch.banked_until) == (0, None)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"doses_made": 3}, {"doses_made": MORE_THAN_PLANNED.format(planned=2)}),
        ({"doses_made": 0}, {"doses_made": "must be from 1 to 50"}),
        ({"banked_vials": -1}, {"banked_vials": "must be from 0 to 500"}),
    ],
)
def test_bad_counts_are_named(in_process, lab_li, overrides, expected):
    arguments = {"doses_made": 2, **overrides}
    assert refused(batch_finish_processing, actor=lab_li, batch=in_process.batch, **arguments) == expected
    assert statuses(in_process.batch) == [states.BATCH_IN_PROCESS]


def test_a_protocol_without_a_shelf_life_from_making_cannot_be_labelled(lab, lab_li, qa_quinn):
    lot = donor_lot_ready(lab, lab_li, qa_quinn, therapy="bilayered_living_cell_construct")
    batch, _, _ = donor_batch_to("in_process", lot, lab_li, qa_quinn)
    assert refused(batch_finish_processing, actor=lab_li, batch=batch, doses_made=1) == {
        "batch": NO_SHELF_LIFE
    }


def test_a_donor_batch_makes_donor_products(lab, lab_li, qa_quinn):
    lot = donor_lot_ready(lab, lab_li, qa_quinn)
    batch, products, _ = donor_batch_to("qc_pending", lot, lab_li, qa_quinn)
    assert [(p.chain, p.coi, p.donor_lot, p.site) for p in products] == [(None, "", lot, lab)] * 2
    assert products[0].product_code[5] == "V" and products[0].storage == "Store at −85 to −65 °C"


def test_finishing_takes_the_same_queries_for_one_dose_or_many(
    in_process, lab_li, qa_quinn, clinic_a, dr_ada
):
    other = second_patient(clinic_a, dr_ada, lab_li, qa_quinn, stage="in_process")
    # The year's DIN sequence row exists after the lab's first product of the year.
    DinSequence.objects.create(lab=in_process.lab, year=timezone.localdate().year)
    with CaptureQueriesContext(connection) as one:
        batch_finish_processing(actor=lab_li, batch=in_process.batch, doses_made=1)
    with CaptureQueriesContext(connection) as two:
        batch_finish_processing(actor=lab_li, batch=other.batch, doses_made=2)
    assert len(one) == len(two)


def test_only_the_labs_technicians_finish(in_process, qa_quinn, dr_ada):
    with pytest.raises(Forbidden):
        batch_finish_processing(actor=qa_quinn, batch=in_process.batch, doses_made=1)
    with pytest.raises(Forbidden):
        batch_finish_processing(actor=dr_ada, batch=in_process.batch, doses_made=1)
    assert not Product.objects.exists()
