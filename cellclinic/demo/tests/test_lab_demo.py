"""The demo's lab: specimens, batches and products at every stage, made through the services, and lab
staff who read chain-of-identity ids where the clinic reads the patient's name."""

import re

import pytest
from django.utils import timezone

from cellclinic.accounts.models import Site, User
from cellclinic.audit.chain import verify_chain
from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.consents.models import Consent
from cellclinic.demo.data import DEMO_USERS, demo_create
from cellclinic.demo.lab import (
    FACILITY,
    FAILED_BECAUSE,
    REJECTED_BECAUSE,
    SLOTS,
    SLOW_TESTS,
    WITHDRAWN_BECAUSE,
)
from cellclinic.lab import states, worklist
from cellclinic.lab.isbt import parse_din
from cellclinic.lab.models import (
    Batch,
    BedsideCheck,
    CustodyEvent,
    DonorLot,
    LabProfile,
    Product,
    QCResult,
    ReagentLot,
    Shipment,
    Specimen,
)
from cellclinic.notifications.models import Notification
from cellclinic.treatment.models import TreatmentPlan

pytestmark = pytest.mark.django_db

STORIES = (
    "in_transit",
    "at_lab",
    "in_process",
    "failed",
    "qc_pending",
    "awaiting_release",
    "released",
    "rejected",
    "at_clinic",
    "withdrawn",
)


@pytest.fixture
def made():
    return demo_create()


def _statuses(queryset) -> set[str]:
    return set(queryset.values_list("status", flat=True))


def _products(story) -> list[str]:
    return [product.status for product in story.products]


def _lab_set_up_with_its_reagents(made) -> None:
    lab = Site.objects.get(code="LAB")
    profile = LabProfile.objects.get(site=lab)
    assert (profile.facility_code, profile.processing_slots) == (FACILITY, SLOTS)
    assert ReagentLot.objects.filter(site=lab).count() == 3
    for product in Product.objects.all():
        assert product.din.startswith(FACILITY)
        assert parse_din(product.din + product.din_flags + product.din_check).din == product.din


def _records_at_every_stage(made) -> None:
    assert set(made["lab"].stories) == set(STORIES)
    assert _statuses(Specimen.objects) == {
        states.SPECIMEN_COLLECTED,
        states.SPECIMEN_SHIPPED,
        states.SPECIMEN_RECEIVED,
        states.SPECIMEN_IN_PROCESSING,
        states.SPECIMEN_USED,
    }
    assert _statuses(Batch.objects) == {
        states.BATCH_IN_PROCESS,
        states.BATCH_FAILED,
        states.BATCH_QC_PENDING,
        states.BATCH_AWAITING_RELEASE,
        states.BATCH_RELEASED,
        states.BATCH_REJECTED,
    }
    assert _statuses(Product.objects) == {
        states.PRODUCT_AWAITING_RELEASE,
        states.PRODUCT_RELEASED,
        states.PRODUCT_SHIPPED,
        states.PRODUCT_RECEIVED,
        states.PRODUCT_ADMINISTERED,
        states.PRODUCT_REJECTED,
        states.PRODUCT_QUARANTINED,
    }
    stories = made["lab"].stories
    assert [stories[name].specimen.status for name in ("in_transit", "at_lab", "in_process")] == [
        states.SPECIMEN_SHIPPED,
        states.SPECIMEN_RECEIVED,
        states.SPECIMEN_IN_PROCESSING,
    ]
    assert stories["in_transit"].specimen.site.code == "RSC"
    assert stories["in_transit"].shipment.status == states.SHIPMENT_IN_TRANSIT
    assert _products(stories["qc_pending"]) == [states.PRODUCT_AWAITING_RELEASE] * 2
    assert _products(stories["awaiting_release"]) == [states.PRODUCT_AWAITING_RELEASE] * 2
    assert _products(stories["released"]) == [states.PRODUCT_SHIPPED, states.PRODUCT_RELEASED]
    assert _products(stories["at_clinic"]) == [states.PRODUCT_ADMINISTERED, states.PRODUCT_RECEIVED]
    assert _products(stories["rejected"]) == [states.PRODUCT_REJECTED] * 2
    assert _products(stories["withdrawn"]) == [states.PRODUCT_QUARANTINED] * 2
    # Every patient's cells were harvested under a signed consent with a plan, by the demo's people.
    for story in stories.values():
        chain = story.specimen.chain
        assert chain.plan_id == story.pathway.plan.pk and chain.consent_id == story.pathway.consent.pk
    lab_work = Batch.objects.exclude(processed_by=None)
    assert set(lab_work.values_list("processed_by__username", flat=True)) == {"lab"}
    assert set(Batch.objects.exclude(decided_by=None).values_list("decided_by__username", flat=True)) == {
        "qa"
    }


def _in_process_with_passages_counts_viability_reagents_and_a_deviation(made) -> None:
    batch = made["lab"].stories["in_process"].batch
    steps = list(batch.steps.order_by("performed_at", "id"))
    assert [step.passage for step in steps] == [0, 1, 2]
    assert all(step.cell_count and step.viability_percent for step in steps[1:])
    assert batch.reagent_lots.count() == 3
    deviation = batch.deviations.get()
    assert deviation.description and deviation.reason and deviation.recorded_by.username == "lab"


def _failed_culture_told_and_reharvested_under_the_same_consent_and_plan(made) -> None:
    story = made["lab"].stories["failed"]
    assert story.batch.status == states.BATCH_FAILED and story.batch.failed_reason == FAILED_BECAUSE
    told = Notification.objects.get(kind="lab.culture_failed")
    assert told.recipient.username == "practitioner" and told.site.code == "NCL"
    reharvest = story.reharvest
    reharvest.refresh_from_db()
    assert reharvest.replaces_id == story.specimen.pk
    assert reharvest.chain_id == story.specimen.chain_id
    assert (reharvest.chain.consent_id, reharvest.chain.plan_id) == (
        story.pathway.consent.pk,
        story.pathway.plan.pk,
    )
    assert reharvest.status == states.SPECIMEN_COLLECTED and reharvest.shipment_id is None


def _qc_pending_waits_for_the_slow_cultures_and_release_has_every_result(made) -> None:
    stories = made["lab"].stories
    pending = set(stories["qc_pending"].batch.qc_results.values_list("test", flat=True))
    complete = stories["awaiting_release"].batch.qc_results
    assert not pending & set(SLOW_TESTS) and len(pending) == 5
    assert set(complete.values_list("test", flat=True)) == pending | set(SLOW_TESTS)
    assert _statuses(complete) == {states.QC_PASSED}


def _rejected_on_one_criterion_with_the_reason_qa_signed(made) -> None:
    batch = made["lab"].stories["rejected"].batch
    failed = QCResult.objects.filter(batch=batch, status=states.QC_FAILED)
    assert list(failed.values_list("test", flat=True)) == ["Endotoxin"]
    assert batch.qc_results.filter(status=states.QC_PASSED).count() == 6
    assert batch.rejected_reason == REJECTED_BECAUSE and batch.decided_by.username == "qa"
    signed = Signature.objects.get(object_type="batch", object_id=str(batch.pk))
    assert signed.signer.username == "qa" and REJECTED_BECAUSE[:40] in signed.statement
    assert set(batch.products.values_list("status_reason", flat=True)) == {REJECTED_BECAUSE}


def _products_travel_back_and_one_is_given_after_a_passed_bedside_check(made) -> None:
    stories = made["lab"].stories
    on_the_way = stories["released"].products[0]
    assert on_the_way.shipment.direction == Shipment.Direction.TO_CLINIC
    assert on_the_way.shipment.status == states.SHIPMENT_IN_TRANSIT
    given, ready = stories["at_clinic"].products
    assert given.site.code == ready.site.code == "NCL"
    check = BedsideCheck.objects.get(product=given)
    assert check.passed and check.reasons == [] and check.checked_by.username == "practitioner"
    assert check.patient_id == stories["at_clinic"].pathway.patient.pk
    kinds = list(CustodyEvent.objects.filter(product=given).values_list("kind", flat=True))
    assert kinds == ["released", "issued", "shipped", "received", "administered"]
    assert ready.expires_at > timezone.now()


def _withdrawal_quarantined_the_doses_and_ended_the_banked_cells_storage(made) -> None:
    story = made["lab"].stories["withdrawn"]
    consent = Consent.objects.get(pk=story.pathway.consent.pk)
    assert consent.status == Consent.Status.WITHDRAWN
    assert TreatmentPlan.objects.get(pk=story.pathway.plan.pk).status == TreatmentPlan.Status.STOPPED
    for product in story.products:
        assert product.status_reason.endswith(WITHDRAWN_BECAUSE)
        assert CustodyEvent.objects.filter(product=product, kind=CustodyEvent.Kind.QUARANTINED).exists()
    assert story.batch.banked_vials == 2 and story.batch.banked_until == timezone.localdate()
    told = Notification.objects.filter(kind="lab.consent_withdrawn")
    assert set(told.values_list("recipient__username", flat=True)) == {"lab", "qa"}


def _donor_lots_one_documented_with_its_products_at_the_clinic_and_one_not(made) -> None:
    eligible, waiting = DonorLot.objects.order_by("lot_number")
    assert eligible.eligible and eligible.eligibility_documented_by.username == "qa"
    donor = Product.objects.filter(donor_lot=eligible)
    assert donor.count() == 2 and not donor.exclude(chain=None).exists()
    assert _statuses(donor) == {states.PRODUCT_RECEIVED}
    assert set(donor.values_list("site__code", flat=True)) == {"NCL"}
    assert not waiting.eligible and not waiting.batches.exists()
    assert "hiv_nat" not in waiting.screening


def _the_lot_waiting_for_its_nat_results_takes_them_from_the_technician(client, made) -> None:
    waiting = DonorLot.objects.get(lot_number="DFS-0523")
    path = f"/lab/donor-lots/{waiting.pk}/"
    client.force_login(made["users"]["lab"])
    body = client.get(path).content.decode()
    assert f'<a class="btn" href="{path}screening/">Record screening results</a>' in body
    form = client.get(f"{path}screening/").content.decode()
    assert '<input type="text" name="hiv_nat" maxlength="200"' in form
    assert '<input type="text" name="hiv_serology" value="Non-reactive"' in form
    # QA is told what is missing.
    client.force_login(made["users"]["qa"])
    body = client.get(path).content.decode()
    assert (
        "Record screening results" not in body and "HIV-1 nucleic acid test (NAT): no result recorded" in body
    )


# Each test loads the whole demo, so each runs several of the checks above.


def test_the_lab_is_set_up_and_holds_records_at_every_stage_with_an_intact_audit_chain(made):
    _lab_set_up_with_its_reagents(made)
    _records_at_every_stage(made)
    # Only the demo's own people did it: a database `cellclinic demo --reset` starts over.
    assert set(User.objects.values_list("username", flat=True)) == {user.username for user in DEMO_USERS}
    assert verify_chain(AuditEvent.objects.order_by("id").values()).ok


def test_batches_carry_their_processing_qc_results_and_decisions(made):
    _in_process_with_passages_counts_viability_reagents_and_a_deviation(made)
    _failed_culture_told_and_reharvested_under_the_same_consent_and_plan(made)
    _qc_pending_waits_for_the_slow_cultures_and_release_has_every_result(made)
    _rejected_on_one_criterion_with_the_reason_qa_signed(made)


def test_products_reach_the_bedside_the_withdrawal_holds_its_doses_and_donor_lots_differ(client, made):
    _products_travel_back_and_one_is_given_after_a_passed_bedside_check(made)
    _withdrawal_quarantined_the_doses_and_ended_the_banked_cells_storage(made)
    _donor_lots_one_documented_with_its_products_at_the_clinic_and_one_not(made)
    _the_lot_waiting_for_its_nat_results_takes_them_from_the_technician(client, made)


# Two parties ------------------------------------------------------------------------------------------


def _identities(made) -> list[str]:
    """What names a lab story's patient: names, MRN, date of birth as the pages print it, contacts."""
    found = []
    for story in made["lab"].stories.values():
        patient = story.pathway.patient
        born = patient.date_of_birth
        found += [
            patient.given_name,
            patient.family_name,
            patient.mrn,
            born.isoformat(),
            f"{born.day} {born:%B %Y}",
            f"{born.day} {born:%b %Y}",
            patient.email,
            patient.phone,
        ]
    return [item for item in found if item]


def _lab_pages(made) -> list[str]:
    stories = made["lab"].stories.values()
    paths = ["/lab/", "/lab/donor-lots/", "/lab/reagent-lots/", "/lab/expired/"]
    paths += [f"/lab/donor-lots/{lot.pk}/" for lot in made["lab"].donor_lots]
    paths += [f"/lab/waiting/?item={worklist.slug(item)}" for item in worklist.ITEMS if item.lab]
    paths += [f"/lab/specimens/{story.specimen.pk}/" for story in stories]
    paths += [f"/lab/batches/{story.batch.pk}/" for story in stories if story.batch]
    paths += [f"/lab/products/{product.din}/" for story in stories for product in story.products]
    return paths


def test_lab_staff_read_ids_where_the_clinic_reads_the_patients_name(client, made):
    secrets = _identities(made)
    cois = {story.specimen.coi for story in made["lab"].stories.values()}
    for username in ("lab", "qa"):
        client.force_login(made["users"][username])
        read = ""
        for path in _lab_pages(made):
            response = client.get(path)
            assert response.status_code == 200, path
            body = response.content.decode()
            for secret in secrets:
                assert not re.search(rf"\b{re.escape(secret)}\b", body, re.IGNORECASE), (
                    f"{username} reads {secret!r} at {path}"
                )
            read += body
        # What they read instead: every story's chain-of-identity id.
        assert all(coi in read for coi in cois)
    story = made["lab"].stories["at_clinic"]
    patient = story.pathway.patient
    client.force_login(made["users"]["practitioner"])
    body = client.get(f"/lab/products/{story.products[1].din}/").content.decode()
    assert f"{patient.given_name} {patient.family_name.upper()}" in body and story.specimen.coi in body
