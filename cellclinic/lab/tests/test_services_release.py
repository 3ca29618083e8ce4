"""Release and rejection: a QA reviewer's signature, every criterion passing, never by the processor."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.audit.services import WRONG_PASSWORD
from cellclinic.consents.services import consent_withdraw
from cellclinic.core.errors import Forbidden, InvalidInput, NotFound
from cellclinic.lab import states
from cellclinic.lab.models import CustodyEvent, DonorLot, Product
from cellclinic.lab.services import (
    CANNOT_RELEASE,
    NOT_ELIGIBLE,
    NOTHING_TO_RELEASE,
    RELEASE_STATEMENT,
    RELEASER_PROCESSED,
    REQUIRED,
    batch_reject,
    batch_release,
    process_step_record,
    product_quarantine,
    product_release_from_quarantine,
)
from cellclinic.lab.tests.builders import (
    donor_batch_to,
    donor_lot_ready,
    field_errors,
    lab_advance,
    lab_counts,
    lab_pathway_to,
    statuses,
)
from cellclinic.patients.services import patient_create
from conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def to(stage, patient, practitioner, lab_li, qa_quinn, **options):
    return lab_pathway_to(stage, patient, practitioner, technician=lab_li, reviewer=qa_quinn, **options)


def refused(call, **arguments) -> dict[str, str]:
    before = lab_counts()
    with pytest.raises(InvalidInput) as caught:
        call(**arguments)
    assert lab_counts() == before
    return field_errors(caught.value)


@pytest.fixture
def awaiting(patient_a, dr_ada, lab_li, qa_quinn):
    return to("awaiting_release", patient_a, dr_ada, lab_li, qa_quinn)


def test_a_qa_reviewer_releases_with_a_signature_meaning_released(awaiting, qa_quinn):
    batch_release(actor=qa_quinn, batch=awaiting.batch, password=PASSWORD)
    awaiting.refresh()
    batch = awaiting.batch
    assert (batch.status, batch.decided_by, batch.decision_meaning) == (
        states.BATCH_RELEASED,
        qa_quinn,
        "released",
    )
    signature = Signature.objects.get(object_type="batch", object_id=str(batch.pk))
    assert (signature.signer, signature.meaning, signature.statement) == (
        qa_quinn,
        "released",
        RELEASE_STATEMENT,
    )
    assert signature.signed_at == batch.decided_at
    for product in awaiting.products:
        assert product.status == states.PRODUCT_RELEASED
        event = product.custody.get()
        assert (event.kind, event.at_site, event.by) == (CustodyEvent.Kind.RELEASED, awaiting.lab, qa_quinn)
    event = AuditEvent.objects.get(action="batch.release")
    assert event.after["products_released"] == [p.din for p in awaiting.products]


def test_a_wrong_password_signs_and_releases_nothing(awaiting, qa_quinn):
    assert refused(batch_release, actor=qa_quinn, batch=awaiting.batch, password="guess") == {
        "password": WRONG_PASSWORD
    }
    assert statuses(awaiting.batch, *awaiting.products) == [
        states.BATCH_AWAITING_RELEASE,
        *[states.PRODUCT_AWAITING_RELEASE] * 2,
    ]


def test_only_a_qa_reviewer_of_the_lab_releases(awaiting, lab_li, dr_ada, dr_cy):
    for actor in (lab_li, dr_ada):
        with pytest.raises(Forbidden, match=CANNOT_RELEASE):
            batch_release(actor=actor, batch=awaiting.batch, password=PASSWORD)
    with pytest.raises(NotFound):
        batch_release(actor=dr_cy, batch=awaiting.batch, password=PASSWORD)
    assert statuses(awaiting.batch) == [states.BATCH_AWAITING_RELEASE]


def test_the_person_who_processed_the_batch_cannot_release_it(patient_a, dr_ada, lab, qa_quinn):
    both = make_user("both", first="Bo", last="Th", roles=[(lab, "lab_technician"), (lab, "qa_reviewer")])
    made = to("awaiting_release", patient_a, dr_ada, both, qa_quinn)
    assert made.batch.processed_by == both
    assert refused(batch_release, actor=both, batch=made.batch, password=PASSWORD) == {
        "actor": RELEASER_PROCESSED
    }


def test_nor_anyone_who_recorded_a_step_of_it(patient_a, dr_ada, lab, lab_li, qa_quinn):
    colleague = make_user(
        "colleague", first="Col", last="League", roles=[(lab, "lab_technician"), (lab, "qa_reviewer")]
    )
    made = to("in_process", patient_a, dr_ada, lab_li, qa_quinn)
    process_step_record(actor=colleague, batch=made.batch, name="Count", cell_count=1000)
    lab_advance(made, "awaiting_release")
    assert refused(batch_release, actor=colleague, batch=made.batch, password=PASSWORD) == {
        "actor": RELEASER_PROCESSED
    }
    batch_release(actor=qa_quinn, batch=made.batch, password=PASSWORD)


def test_a_failing_criterion_blocks_release(patient_a, dr_ada, lab_li, qa_quinn):
    made = to("awaiting_release", patient_a, dr_ada, lab_li, qa_quinn, failing=("Endotoxin",))
    errors = refused(batch_release, actor=qa_quinn, batch=made.batch, password=PASSWORD)
    assert errors == {"qc_results": "Endotoxin: 6 EU/kg does not meet ≤ 5 EU/kg"}
    assert statuses(*made.products) == [states.PRODUCT_AWAITING_RELEASE] * 2


def test_a_batch_still_waiting_for_results_is_not_released(patient_a, dr_ada, lab_li, qa_quinn):
    made = to("qc_pending", patient_a, dr_ada, lab_li, qa_quinn)
    errors = refused(batch_release, actor=qa_quinn, batch=made.batch, password=PASSWORD)
    assert set(errors) == {"status"} and "waiting for QC results" in errors["status"]


def test_expired_products_are_not_released(awaiting, qa_quinn):
    Product.objects.filter(pk=awaiting.products[1].pk).update(expires_at=timezone.now())
    errors = refused(batch_release, actor=qa_quinn, batch=awaiting.batch, password=PASSWORD)
    assert errors == {"products": f"{awaiting.products[1].din} is past its expiry"}


def test_a_batch_whose_consent_was_withdrawn_is_not_released(awaiting, dr_ada, qa_quinn):
    consent_withdraw(consent=awaiting.consent, actor=dr_ada, reason="Changed their mind")
    errors = refused(batch_release, actor=qa_quinn, batch=awaiting.batch, password=PASSWORD)
    assert errors == {
        "consent": f"the consent for {awaiting.chain.coi} is no longer in force",
        "products": NOTHING_TO_RELEASE,
    }


def test_releasing_takes_the_same_queries_for_one_product_or_many(
    patient_a, dr_ada, lab_li, qa_quinn, clinic_a
):
    one = to("awaiting_release", patient_a, dr_ada, lab_li, qa_quinn, doses=1)
    other = patient_create(
        site=clinic_a,
        actor=dr_ada,
        data={
            "given_name": "Mary",
            "family_name": "Somerville",
            "date_of_birth": timezone.localdate().replace(year=1971),
        },
    )
    three = to("awaiting_release", other, dr_ada, lab_li, qa_quinn, doses=3)
    counted = []
    for made in (one, three):
        reviewer = type(qa_quinn).objects.get(pk=qa_quinn.pk)  # roles not yet read, each time
        with CaptureQueriesContext(connection) as queries:
            batch_release(actor=reviewer, batch=made.batch, password=PASSWORD)
        counted.append(len(queries))
    assert counted[0] == counted[1]
    assert Product.objects.filter(status=states.PRODUCT_RELEASED).count() == 4


# --- rejection ------------------------------------------------------------------------------------------


def test_a_rejected_batch_rejects_its_products_for_good(awaiting, qa_quinn):
    batch_reject(actor=qa_quinn, batch=awaiting.batch, reason="Endotoxin trend", password=PASSWORD)
    awaiting.refresh()
    assert (awaiting.batch.status, awaiting.batch.rejected_reason, awaiting.batch.decision_meaning) == (
        states.BATCH_REJECTED,
        "Endotoxin trend",
        "rejected",
    )
    signature = Signature.objects.get(object_type="batch", object_id=str(awaiting.batch.pk))
    assert (signature.meaning, signature.statement) == ("reviewed", "I reject this batch: Endotoxin trend")
    for product in awaiting.products:
        assert (product.status, product.status_reason) == (states.PRODUCT_REJECTED, "Endotoxin trend")
        assert product.custody.get().kind == CustodyEvent.Kind.REJECTED
    # Never released afterwards, by the batch or one product at a time.
    errors = refused(batch_release, actor=qa_quinn, batch=awaiting.batch, password=PASSWORD)
    assert set(errors) == {"status"}
    for product in awaiting.products:
        errors = refused(
            product_release_from_quarantine,
            actor=qa_quinn,
            product=product,
            reason="Retest",
            password=PASSWORD,
        )
        assert "status" in errors and "it cannot change any more" in errors["status"]


def test_a_rejection_needs_a_reason_and_the_password(awaiting, qa_quinn, lab_li):
    assert refused(batch_reject, actor=qa_quinn, batch=awaiting.batch, reason=" ", password=PASSWORD) == {
        "reason": REQUIRED
    }
    assert refused(batch_reject, actor=qa_quinn, batch=awaiting.batch, reason="Bad", password="guess") == {
        "password": WRONG_PASSWORD
    }
    with pytest.raises(Forbidden):
        batch_reject(actor=lab_li, batch=awaiting.batch, reason="Bad", password=PASSWORD)


def test_a_quarantined_product_of_a_rejected_batch_is_rejected_too(awaiting, lab_li, qa_quinn):
    product_quarantine(actor=lab_li, product=awaiting.products[0], reason="Label smudged")
    batch_reject(actor=qa_quinn, batch=awaiting.batch, reason="Failed review", password=PASSWORD)
    assert statuses(*awaiting.products) == [states.PRODUCT_REJECTED] * 2


# --- donor lots -----------------------------------------------------------------------------------------


def test_a_product_from_a_lot_without_documented_eligibility_is_never_released(lab, lab_li, qa_quinn):
    lot = donor_lot_ready(lab, lab_li, qa_quinn, eligible=False)
    batch, products, _ = donor_batch_to("awaiting_release", lot, lab_li, qa_quinn)
    assert refused(batch_release, actor=qa_quinn, batch=batch, password=PASSWORD) == {
        "donor_lot": NOT_ELIGIBLE
    }
    product_quarantine(actor=lab_li, product=products[0], reason="Lot under review")
    errors = refused(
        product_release_from_quarantine,
        actor=qa_quinn,
        product=products[0],
        reason="Reviewed",
        password=PASSWORD,
    )
    assert errors["donor_lot"] == NOT_ELIGIBLE
    assert statuses(*products) == [states.PRODUCT_QUARANTINED, states.PRODUCT_AWAITING_RELEASE]


def test_a_product_from_an_eligible_lot_is_released(lab, lab_li, qa_quinn):
    lot = donor_lot_ready(lab, lab_li, qa_quinn)
    batch, products, _ = donor_batch_to("released", lot, lab_li, qa_quinn)
    assert statuses(batch, *products) == [states.BATCH_RELEASED, *[states.PRODUCT_RELEASED] * 2]


def test_a_product_from_an_expired_lot_is_not_released(lab, lab_li, qa_quinn):
    lot = donor_lot_ready(lab, lab_li, qa_quinn)
    batch, _, _ = donor_batch_to("awaiting_release", lot, lab_li, qa_quinn)
    DonorLot.objects.filter(pk=lot.pk).update(expires_on=timezone.localdate().replace(year=2020))
    errors = refused(batch_release, actor=qa_quinn, batch=batch, password=PASSWORD)
    assert errors == {"donor_lot": "the donor lot expired on 2020-" + timezone.localdate().strftime("%m-%d")}
