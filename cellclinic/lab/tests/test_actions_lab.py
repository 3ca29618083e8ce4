"""The lab technician's actions through their pages: receive a shipment, plan and start a batch, record
steps, deviations and a failed culture, finish processing, enter and correct QC results, ship products."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import capfirst

from cellclinic.audit.models import AuditEvent
from cellclinic.lab import services, states
from cellclinic.lab.models import Batch, CustodyEvent, Deviation, ProcessStep, Product, QCResult, ReagentLot
from cellclinic.lab.tests.actions_pages import NOT_NOW, field_error, href_of, offered, page, submit
from cellclinic.lab.tests.builders import (
    AT_C,
    COURIER,
    criteria_of,
    failing_value,
    lab_advance,
    lab_counts,
    lab_pathway_to,
    passing_value,
    statuses,
)
from cellclinic.notifications.models import Notification

pytestmark = pytest.mark.django_db

QC_PAGE_QUERIES = 3 + 1 + 1 + 1 + 3 + 1
ARRIVED = {"accepted": "accept", "temperature_c": "5.5", "condition": "Sealed, cold packs intact"}


@pytest.fixture
def made(patient_a, dr_ada, lab_li, qa_quinn):
    """Grace Hopper's specimen on its way to the lab."""
    return lab_pathway_to("shipped", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)


# Receive the specimen


def test_the_technician_receives_the_specimen_and_plans_its_batch(client, lab_li, made):
    detail = page(client, lab_li, f"/lab/specimens/{made.specimen.pk}/")
    receive = href_of(detail, "Receive at the lab")
    assert receive == f"/lab/shipments/{made.shipment.pk}/receive/"
    response = submit(client, lab_li, receive, ARRIVED)
    assert response["Location"] == f"/lab/specimens/{made.specimen.pk}/"
    made.refresh()
    assert made.specimen.status == states.SPECIMEN_RECEIVED
    event = made.specimen.custody.get(kind=CustodyEvent.Kind.RECEIVED)
    assert (event.by, event.temperature_c, event.at_site) == (lab_li, Decimal("5.5"), made.lab)
    detail = page(client, lab_li, f"/lab/specimens/{made.specimen.pk}/")
    assert offered(detail) == ["Plan a batch", "Dispose of the specimen"]
    plan = page(client, lab_li, href_of(detail, "Plan a batch"))
    assert 'name="doses" value="3"' in plan  # the protocol's three sessions
    response = submit(client, lab_li, f"/lab/specimens/{made.specimen.pk}/plan-batch/", {"doses": "2"})
    batch = Batch.objects.get()
    assert response["Location"] == f"/lab/batches/{batch.pk}/"
    assert (batch.doses_planned, batch.status, batch.specimen) == (2, states.BATCH_PLANNED, made.specimen)
    assert f"Batch {batch.code} is planned" in client.get(response["Location"]).content.decode()


def test_a_rejection_needs_its_reason_then_the_specimen_is_rejected(client, lab_li, made):
    receive = f"/lab/shipments/{made.shipment.pk}/receive/"
    data = {"accepted": "reject", "temperature_c": "14", "condition": "Warm, cold packs melted"}
    before = lab_counts()
    response = submit(client, lab_li, receive, data, status=422)
    assert field_error(response.content.decode(), "reason") == services.REASON_FOR_REJECTION
    assert lab_counts() == before
    submit(client, lab_li, receive, {**data, "reason": "Arrived at 14 °C"})
    made.refresh()
    assert (made.specimen.status, made.specimen.rejected_reason) == (
        states.SPECIMEN_REJECTED,
        "Arrived at 14 °C",
    )


@pytest.mark.parametrize("persona", ["dr_ada", "qa_quinn"])
def test_only_a_technician_of_the_lab_receives_the_specimen(client, request, made, persona):
    user = request.getfixturevalue(persona)
    receive = f"/lab/shipments/{made.shipment.pk}/receive/"
    assert "Receive at the lab" not in offered(page(client, user, f"/lab/specimens/{made.specimen.pk}/"))
    assert services.CANNOT_PROCESS in page(client, user, receive, status=403)
    before = lab_counts()
    submit(client, user, receive, ARRIVED, status=403)
    assert lab_counts() == before


def test_a_batch_is_not_planned_for_a_day_gone_by(client, lab_li, made):
    lab_advance(made, "at_lab")
    before = lab_counts()
    yesterday = timezone.localdate() - timedelta(days=1)
    response = submit(
        client,
        lab_li,
        f"/lab/specimens/{made.specimen.pk}/plan-batch/",
        {"doses": "2", "wanted": f"{yesterday:%Y-%m-%d}"},
        status=422,
    )
    assert field_error(response.content.decode(), "wanted") == services.IN_THE_PAST
    assert lab_counts() == before


# Processing


@pytest.fixture
def planned_batch(made, lab_li):
    lab_advance(made, "at_lab")
    made.batch = services.batch_plan(actor=lab_li, specimen=made.specimen, doses=2)
    return made


def test_processing_starts_with_the_reagent_lots_used(client, lab_li, planned_batch, lab):
    batch = planned_batch.batch
    medium = ReagentLot.objects.create(site=lab, name="DMEM culture medium", lot_number="RM-2231")
    ReagentLot.objects.create(
        site=lab, name="Trypsin", lot_number="T-1", expires_on=timezone.localdate() - timedelta(days=1)
    )
    detail = page(client, lab_li, f"/lab/batches/{batch.pk}/")
    assert offered(detail) == ["Start processing", "Record a deviation", "Cancel the batch"]
    body = page(client, lab_li, f"/lab/batches/{batch.pk}/start/")
    assert "DMEM culture medium lot RM-2231" in body and "Trypsin" not in body  # expired lots are left out
    assert f'<a href="/lab/reagent-lots/new/?batch={batch.pk}">Record a reagent lot</a>' in body
    submit(client, lab_li, f"/lab/batches/{batch.pk}/start/", {"reagent_lots": [str(medium.pk)]})
    batch.refresh_from_db()
    assert (batch.status, batch.processed_by) == (states.BATCH_IN_PROCESS, lab_li)
    assert list(batch.reagent_lots.all()) == [medium]
    assert planned_batch.refresh().specimen.status == states.SPECIMEN_IN_PROCESSING
    assert offered(page(client, lab_li, f"/lab/batches/{batch.pk}/")) == [
        "Record a process step",
        "Enter QC results",
        "Finish processing",
        "Record a deviation",
        "Record a failed culture",
    ]


def test_a_batch_started_already_is_not_started_again(client, lab_li, planned_batch):
    batch = planned_batch.batch
    services.batch_start(actor=lab_li, batch=batch)
    assert "This cannot be done now." in page(client, lab_li, f"/lab/batches/{batch.pk}/start/")
    before = lab_counts()
    response = submit(client, lab_li, f"/lab/batches/{batch.pk}/start/", {}, status=422)
    assert "A batch that is in process is already in process" in response.content.decode()
    assert lab_counts() == before


def test_a_planned_batch_is_cancelled_with_its_reason_and_its_slot_is_freed(client, lab_li, planned_batch):
    batch = planned_batch.batch
    path = f"/lab/batches/{batch.pk}/cancel/"
    assert href_of(page(client, lab_li, f"/lab/batches/{batch.pk}/"), "Cancel the batch") == path
    body = page(client, lab_li, path)
    assert NOT_NOW not in body and 'name="reason"' in body and ">Record the cancellation</button>" in body
    assert "Its processing slot is freed, and the specimen stays at the lab" in body
    before = lab_counts()
    response = submit(client, lab_li, path, {"reason": "  "}, status=422)
    assert field_error(response.content.decode(), "reason") == "This field is required."
    assert lab_counts() == before and statuses(batch) == [states.BATCH_PLANNED]
    response = submit(client, lab_li, path, {"reason": "Incubator out of service"})
    assert response["Location"] == f"/lab/batches/{batch.pk}/"
    assert statuses(batch) == [states.BATCH_CANCELLED]
    event = AuditEvent.objects.get(action="batch.cancel", object_id=str(batch.pk))
    assert (event.actor, event.reason) == (lab_li, "Incubator out of service")
    detail = client.get(response["Location"]).content.decode()
    assert f"Batch {batch.code} is cancelled." in detail
    assert offered(detail) == []
    # The specimen is free for another batch.
    specimen = page(client, lab_li, f"/lab/specimens/{planned_batch.specimen.pk}/")
    assert "Plan a batch" in offered(specimen)


def test_a_batch_that_has_started_is_not_cancelled(client, lab_li, planned_batch):
    batch = planned_batch.batch
    services.batch_start(actor=lab_li, batch=batch)
    path = f"/lab/batches/{batch.pk}/cancel/"
    assert "Cancel the batch" not in offered(page(client, lab_li, f"/lab/batches/{batch.pk}/"))
    body = page(client, lab_li, path)
    assert NOT_NOW in body and "A batch that is in process cannot become cancelled" in body
    assert 'name="reason"' not in body
    before = lab_counts()
    submit(client, lab_li, path, {"reason": "Too late"}, status=422)
    assert lab_counts() == before and statuses(batch) == [states.BATCH_IN_PROCESS]


@pytest.mark.parametrize("persona", ["qa_quinn", "dr_ada"])
def test_only_a_technician_of_the_lab_cancels_a_batch(client, request, planned_batch, persona):
    user = request.getfixturevalue(persona)
    batch = planned_batch.batch
    path = f"/lab/batches/{batch.pk}/cancel/"
    assert "Cancel the batch" not in offered(page(client, user, f"/lab/batches/{batch.pk}/"))
    assert services.CANNOT_PROCESS in page(client, user, path, status=403)
    before = lab_counts()
    response = submit(client, user, path, {"reason": "Not needed"}, status=403)
    assert services.CANNOT_PROCESS in response.content.decode()
    assert lab_counts() == before and statuses(batch) == [states.BATCH_PLANNED]


def test_the_cancel_page_reads_a_pinned_number_of_queries(
    client, lab_li, planned_batch, django_assert_num_queries
):
    path = f"/lab/batches/{planned_batch.batch.pk}/cancel/"
    client.force_login(lab_li)
    client.get(path)
    # The session, the user and the roles (3); the clinics the lab serves, read once (1); the batch; the
    # Lab link's count: one count each of specimens, batches and products (3); the unread notifications.
    with django_assert_num_queries(3 + 1 + 1 + 3 + 1):
        assert client.get(path).status_code == 200


@pytest.fixture
def in_process(made):
    return lab_advance(made, "in_process")


def test_a_passage_is_recorded_with_its_count_and_viability(client, lab_li, in_process):
    batch = in_process.batch
    body = page(client, lab_li, f"/lab/batches/{batch.pk}/step/")
    assert 'value="Passage 2"' in body  # the builder recorded passage 1
    data = {"name": "Passage 2", "passage": "2", "cell_count": "18000000", "viability_percent": "88.5"}
    submit(client, lab_li, f"/lab/batches/{batch.pk}/step/", data)
    step = ProcessStep.objects.get(batch=batch, passage=2)
    assert (step.cell_count, step.viability_percent, step.performed_by) == (
        Decimal("18000000"),
        Decimal("88.5"),
        lab_li,
    )
    assert "Passage 2 is recorded." in page(client, lab_li, f"/lab/batches/{batch.pk}/")


def test_a_viability_over_100_percent_is_refused_beside_it(client, lab_li, in_process):
    before = lab_counts()
    response = submit(
        client,
        lab_li,
        f"/lab/batches/{in_process.batch.pk}/step/",
        {"name": "Passage 2", "passage": "2", "viability_percent": "150"},
        status=422,
    )
    assert field_error(response.content.decode(), "viability_percent") == "must be from 0 to 100"
    assert lab_counts() == before


def test_a_deviation_is_recorded_with_its_reason(client, lab_li, in_process):
    path = f"/lab/batches/{in_process.batch.pk}/deviation/"
    data = {"description": "Incubator door open for four minutes", "reason": "Alarm fault"}
    before = lab_counts()
    response = submit(client, lab_li, path, {**data, "reason": ""}, status=422)
    assert field_error(response.content.decode(), "reason")
    assert lab_counts() == before
    submit(client, lab_li, path, data)
    deviation = Deviation.objects.get()
    assert (deviation.description, deviation.reason, deviation.recorded_by) == (*data.values(), lab_li)


def test_a_failed_culture_is_recorded_and_the_clinic_is_told(client, lab_li, dr_ada, in_process):
    path = f"/lab/batches/{in_process.batch.pk}/fail/"
    assert "The specimen is used up." in page(client, lab_li, path)
    submit(client, lab_li, path, {"reason": "No growth after 21 days"})
    made = in_process.refresh()
    assert (made.batch.status, made.batch.failed_reason) == (states.BATCH_FAILED, "No growth after 21 days")
    assert made.specimen.status == states.SPECIMEN_USED
    assert Notification.objects.filter(recipient=dr_ada, kind="lab.culture_failed").count() == 1
    assert offered(page(client, lab_li, f"/lab/batches/{made.batch.pk}/")) == []


def test_processing_finishes_with_products_that_carry_dins(client, lab_li, in_process):
    batch = in_process.batch
    path = f"/lab/batches/{batch.pk}/finish/"
    assert 'name="doses_made" value="2"' in page(client, lab_li, path)
    before = lab_counts()
    response = submit(client, lab_li, path, {"doses_made": "3", "banked_vials": "0"}, status=422)
    assert field_error(response.content.decode(), "doses_made") == services.MORE_THAN_PLANNED.format(
        planned=2
    )
    assert lab_counts() == before
    submit(client, lab_li, path, {"doses_made": "2", "banked_vials": "1"})
    batch.refresh_from_db()
    assert (batch.status, batch.banked_vials) == (states.BATCH_QC_PENDING, 1)
    products = list(Product.objects.filter(batch=batch).order_by("dose_number"))
    assert [p.dose_number for p in products] == [1, 2] and all(len(p.din) == 13 for p in products)
    detail = page(client, lab_li, f"/lab/batches/{batch.pk}/")
    assert offered(detail)[0] == "Enter QC results"


# Banked cells


@pytest.fixture
def banked(made):
    """A finished batch that kept two vials of cells frozen."""
    return lab_advance(made, "qc_pending", banked_vials=2)


@pytest.mark.parametrize("persona", ["lab_li", "qa_quinn"])
def test_the_banked_cells_are_disposed_of_with_the_reason(client, request, banked, persona):
    user = request.getfixturevalue(persona)
    batch = banked.batch
    path = f"/lab/batches/{batch.pk}/banked-cells/dispose/"
    assert href_of(page(client, user, f"/lab/batches/{batch.pk}/"), "Dispose of the banked cells") == path
    body = page(client, user, path)
    kept = f"<dt>Banked cells</dt><dd>2 vials, kept until {batch.banked_until:%-d %b %Y}</dd>"
    assert kept in body and ">Record the disposal</button>" in body
    before = lab_counts()
    response = submit(client, user, path, {"reason": ""}, status=422)
    assert field_error(response.content.decode(), "reason") == "This field is required."
    assert lab_counts() == before
    batch.refresh_from_db()
    assert batch.banked_vials == 2
    response = submit(client, user, path, {"reason": "The storage consent ended"})
    assert response["Location"] == f"/lab/batches/{batch.pk}/"
    batch.refresh_from_db()
    assert (batch.banked_vials, batch.status) == (0, states.BATCH_QC_PENDING)
    event = AuditEvent.objects.get(action="batch.banked_dispose", object_id=str(batch.pk))
    assert (event.actor, event.reason, event.before["banked_vials"]) == (user, "The storage consent ended", 2)
    detail = client.get(response["Location"]).content.decode()
    assert "The disposal of the banked cells is recorded." in detail
    assert "Dispose of the banked cells" not in offered(detail)
    until = f'<time datetime="{batch.banked_until:%Y-%m-%d}">{batch.banked_until:%-d %b %Y}</time>'
    assert f"<dt>Banked cells</dt><dd>Disposed of (they were to be kept until {until})</dd>" in detail


def test_cells_already_disposed_of_are_not_disposed_of_again(client, lab_li, banked):
    batch = banked.batch
    services.banked_cells_dispose(actor=lab_li, batch=batch, reason="The storage consent ended")
    path = f"/lab/batches/{batch.pk}/banked-cells/dispose/"
    body = page(client, lab_li, path)
    assert NOT_NOW in body and capfirst(services.NO_BANKED_CELLS) in body and 'name="reason"' not in body
    before = lab_counts()
    response = submit(client, lab_li, path, {"reason": "Again"}, status=422)
    assert services.NO_BANKED_CELLS in response.content.decode()
    assert lab_counts() == before


def test_a_batch_without_banked_cells_offers_no_disposal(client, lab_li, in_process):
    detail = page(client, lab_li, f"/lab/batches/{in_process.batch.pk}/")
    assert "Dispose of the banked cells" not in offered(detail) and "Banked cells" not in detail


@pytest.mark.parametrize("persona", ["dr_ada", "nurse_bo"])
def test_the_clinic_does_not_dispose_of_the_labs_banked_cells(client, request, banked, persona):
    user = request.getfixturevalue(persona)
    batch = banked.batch
    path = f"/lab/batches/{batch.pk}/banked-cells/dispose/"
    assert "Dispose of the banked cells" not in offered(page(client, user, f"/lab/batches/{batch.pk}/"))
    assert services.CANNOT_PROCESS in page(client, user, path, status=403)
    before = lab_counts()
    submit(client, user, path, {"reason": "Not wanted"}, status=403)
    assert lab_counts() == before


def test_the_banked_cells_page_reads_a_pinned_number_of_queries(
    client, lab_li, banked, django_assert_num_queries
):
    path = f"/lab/batches/{banked.batch.pk}/banked-cells/dispose/"
    client.force_login(lab_li)
    client.get(path)
    # The session, the user and the roles (3); the clinics the lab serves, read once (1); the batch; the
    # Lab link's count: one count each of specimens, batches and products (3); the unread notifications.
    with django_assert_num_queries(3 + 1 + 1 + 3 + 1):
        assert client.get(path).status_code == 200


# QC


@pytest.fixture
def qc_pending(made):
    return lab_advance(made, "qc_pending")


def _qc_form_of(body: str, test: str) -> str:
    start = body.index(f">{test}</h2>")
    return body[start : body.index("</section>", start)]


def test_the_qc_page_lists_each_criterion_with_its_limit_and_unit(client, lab_li, qc_pending):
    batch = qc_pending.batch
    body = page(client, lab_li, f"/lab/batches/{batch.pk}/qc/")
    assert body.count("<h1>") == 1
    for criterion in criteria_of(batch):
        row = _qc_form_of(body, criterion.test)
        assert escape(criterion.specification) in row
        assert "Enter the result" in row
        if criterion.unit:
            assert 'name="unit" id="qc' in row and f'value="{escape(criterion.unit)}"' in row
        else:
            assert 'name="unit"' not in row
    assert "It passes when it reads “No growth”." in _qc_form_of(body, "Sterility")


def test_each_result_is_judged_as_it_is_entered_and_the_last_one_readies_the_batch(
    client, lab_li, qc_pending
):
    batch = qc_pending.batch
    path = f"/lab/batches/{batch.pk}/qc/"
    criteria = criteria_of(batch)
    endotoxin = next(c for c in criteria if c.test == "Endotoxin")
    value, unit = failing_value(endotoxin)
    response = submit(client, lab_li, path, {"test": "Endotoxin", "value": value, "unit": unit})
    assert response["Location"] == path
    body = client.get(path).content.decode()
    assert f"Endotoxin: {value} {unit} is outside its limit (fail)." in body
    assert ">Fail<" in _qc_form_of(body, "Endotoxin")
    for criterion in criteria:
        if criterion.test != "Endotoxin":
            value, unit = passing_value(criterion)
            submit(client, lab_li, path, {"test": criterion.test, "value": value, "unit": unit})
    body = page(client, lab_li, path)
    assert "Every release criterion has a result." in body and "Enter the result" not in body
    batch.refresh_from_db()
    assert batch.status == states.BATCH_AWAITING_RELEASE
    assert QCResult.objects.filter(batch=batch, status=states.QC_PASSED).count() == len(criteria) - 1


def test_a_result_in_the_wrong_unit_is_refused_beside_the_unit(client, lab_li, qc_pending):
    path = f"/lab/batches/{qc_pending.batch.pk}/qc/"
    before = lab_counts()
    response = submit(client, lab_li, path, {"test": "Viability", "value": "80", "unit": "EU/kg"}, status=422)
    body = response.content.decode()
    row = _qc_form_of(body, "Viability")
    assert "cannot be compared with a limit in %" in row and 'value="80"' in row
    assert 'id="qc4-value"' in row  # the form keeps its place and its ids
    assert lab_counts() == before


def test_a_second_result_for_one_test_is_refused_with_the_way_to_correct_it(client, lab_li, qc_pending):
    path = f"/lab/batches/{qc_pending.batch.pk}/qc/"
    services.qc_result_enter(actor=lab_li, batch=qc_pending.batch, test="Viability", value="80", unit="%")
    before = lab_counts()
    response = submit(client, lab_li, path, {"test": "Viability", "value": "81", "unit": "%"}, status=422)
    assert services.ALREADY_ENTERED in response.content.decode()
    assert lab_counts() == before


def test_a_result_is_corrected_with_the_reason_and_kept_on_record(client, lab_li, qc_pending):
    batch = qc_pending.batch
    wrong = services.qc_result_enter(actor=lab_li, batch=batch, test="Viability", value="65", unit="%")
    body = page(client, lab_li, f"/lab/batches/{batch.pk}/qc/")
    correct = f"/lab/qc-results/{wrong.pk}/correct/"
    assert f'href="{correct}"' in _qc_form_of(body, "Viability")
    before = lab_counts()
    response = submit(
        client, lab_li, correct, {"value": "seventy", "unit": "%", "reason": "Typo"}, status=422
    )
    assert field_error(response.content.decode(), "value") == services.NEEDS_NUMBER.format(unit="%")
    assert lab_counts() == before
    submit(client, lab_li, correct, {"value": "72", "unit": "%", "reason": "Counted the wrong slide"})
    wrong.refresh_from_db()
    assert (wrong.status, wrong.correction_reason) == (states.QC_CORRECTED, "Counted the wrong slide")
    assert wrong.corrected_by.value == "72" and wrong.corrected_by.status == states.QC_PASSED


def test_qc_is_closed_once_the_batch_is_released(client, lab_li, qc_pending):
    made = lab_advance(qc_pending, "released")
    body = page(client, lab_li, f"/lab/batches/{made.batch.pk}/qc/")
    assert (
        "No result can be entered now." in body and "Enter the result" not in body and "Correct" not in body
    )
    before = lab_counts()
    submit(
        client, lab_li, f"/lab/batches/{made.batch.pk}/qc/", {"test": "Viability", "value": "80"}, status=422
    )
    assert lab_counts() == before


@pytest.mark.parametrize("persona", ["qa_quinn", "dr_ada"])
def test_only_a_technician_enters_results(client, request, qc_pending, persona):
    user = request.getfixturevalue(persona)
    path = f"/lab/batches/{qc_pending.batch.pk}/qc/"
    assert services.CANNOT_PROCESS in page(client, user, path, status=403)
    before = lab_counts()
    submit(client, user, path, {"test": "Viability", "value": "80", "unit": "%"}, status=403)
    assert lab_counts() == before


def test_the_qc_page_reads_a_pinned_number_of_queries(client, lab_li, qc_pending, django_assert_num_queries):
    from cellclinic.lab.tests.builders import enter_results

    path = f"/lab/batches/{qc_pending.batch.pk}/qc/"
    client.force_login(lab_li)
    client.get(path)
    # The session, the user and the roles (3); the clinics the lab serves, read once for the request (1);
    # the batch; its QC results with who entered them; the Lab link's count: one count each of
    # specimens, batches and products (3); the unread notifications.
    with django_assert_num_queries(QC_PAGE_QUERIES):
        assert client.get(path).status_code == 200
    enter_results(qc_pending.batch, qc_pending.technician)
    with django_assert_num_queries(QC_PAGE_QUERIES):
        assert client.get(path).status_code == 200


# Ship the products


def test_released_products_are_packed_and_handed_to_the_courier(client, lab_li, made):
    made = lab_advance(made, "released")
    batch = made.batch
    detail = page(client, lab_li, f"/lab/batches/{batch.pk}/")
    assert offered(detail)[0] == "Pack products for the clinic"
    body = page(client, lab_li, f"/lab/batches/{batch.pk}/ship/")
    assert f"For {made.clinic.name}." in body
    assert all(f'value="{p.pk}"' in body and p.din in body for p in made.products)
    data = {
        "products": [str(p.pk) for p in made.products],
        "courier": COURIER,
        "temperature_min_c": "2",
        "temperature_max_c": "8",
    }
    before = lab_counts()
    response = submit(
        client, lab_li, f"/lab/batches/{batch.pk}/ship/", {**data, "temperature_min_c": "9"}, status=422
    )
    assert field_error(response.content.decode(), "temperature_max_c") == services.RANGE_REVERSED
    assert lab_counts() == before
    submit(client, lab_li, f"/lab/batches/{batch.pk}/ship/", data)
    made.refresh()
    shipment = made.products[0].shipment
    assert {p.shipment for p in made.products} == {shipment} and shipment.site == made.clinic
    detail = page(client, lab_li, f"/lab/batches/{batch.pk}/")
    assert "Pack products for the clinic" not in offered(detail)
    dispatch = href_of(detail, "Hand to the courier")
    assert dispatch == f"/lab/shipments/{shipment.pk}/dispatch/"
    assert (
        href_of(page(client, lab_li, f"/lab/products/{made.products[0].din}/"), "Hand to the courier")
        == dispatch
    )
    response = submit(client, lab_li, dispatch, {"temperature_c": str(AT_C)})
    assert response["Location"] == f"/lab/products/{made.products[0].din}/"
    assert {p.status for p in made.refresh().products} == {states.PRODUCT_SHIPPED}
    timeline = page(client, lab_li, f"/lab/products/{made.products[1].din}/")
    assert re.findall(r'custody-event custody-(\w+)"', timeline) == ["released", "issued", "shipped"]


def test_the_clinic_cannot_ship_the_labs_products(client, dr_ada, made):
    made = lab_advance(made, "released")
    assert services.CANNOT_PROCESS in page(client, dr_ada, f"/lab/batches/{made.batch.pk}/ship/", status=403)
    assert offered(page(client, dr_ada, f"/lab/batches/{made.batch.pk}/")) == []
