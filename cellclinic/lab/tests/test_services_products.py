"""Products after release: quarantine and its release, recall, disposal, expiry, banked cells."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cellclinic.audit.models import AuditEvent, Signature
from cellclinic.core.errors import Forbidden, InvalidInput, NotFound
from cellclinic.lab import states
from cellclinic.lab.models import CustodyEvent, Product
from cellclinic.lab.services import (
    ALREADY_DISPOSED,
    BATCH_NOT_RELEASED,
    CANNOT_EXPIRE,
    CANNOT_HANDLE_PRODUCT,
    CANNOT_RELEASE,
    NO_BANKED_CELLS,
    RELEASER_PROCESSED,
    REQUIRED,
    banked_cells_dispose,
    product_dispose,
    product_expire,
    product_quarantine,
    product_recall,
    product_release_from_quarantine,
)
from cellclinic.lab.tests.builders import field_errors, lab_counts, lab_pathway_to, statuses
from cellclinic.notifications.models import Notification
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
def released(patient_a, dr_ada, lab_li, qa_quinn):
    return to("released", patient_a, dr_ada, lab_li, qa_quinn)


@pytest.fixture
def at_clinic(patient_a, dr_ada, lab_li, qa_quinn):
    return to("at_clinic", patient_a, dr_ada, lab_li, qa_quinn)


# --- quarantine ----------------------------------------------------------------------------------------


def test_the_lab_quarantines_a_released_product(released, lab_li):
    product = product_quarantine(actor=lab_li, product=released.products[0], reason="Label smudged")
    product.refresh_from_db()
    assert (product.status, product.status_reason) == (states.PRODUCT_QUARANTINED, "Label smudged")
    event = product.custody.latest("id")
    assert (event.kind, event.at_site, event.by, event.note) == (
        "quarantined",
        released.lab,
        lab_li,
        "Label smudged",
    )
    audit = AuditEvent.objects.latest("id")
    assert (audit.action, audit.before, audit.after) == (
        "product.quarantine",
        {"status": "released", "status_reason": ""},
        {"status": "quarantined", "status_reason": "Label smudged"},
    )


def test_the_clinic_quarantines_a_product_it_holds(at_clinic, nurse_bo, admin_al, dr_cy):
    with pytest.raises(Forbidden, match=CANNOT_HANDLE_PRODUCT):
        product_quarantine(actor=admin_al, product=at_clinic.products[0], reason="Unsure")
    with pytest.raises(NotFound):
        product_quarantine(actor=dr_cy, product=at_clinic.products[0], reason="Unsure")
    product_quarantine(actor=nurse_bo, product=at_clinic.products[0], reason="Fridge alarm")
    assert at_clinic.products[0].custody.latest("id").at_site == at_clinic.clinic


def test_quarantine_needs_a_reason_and_a_product_that_can_be_held(released, lab_li, qa_quinn):
    assert refused(product_quarantine, actor=lab_li, product=released.products[0], reason="") == {
        "reason": REQUIRED
    }
    product_quarantine(actor=lab_li, product=released.products[0], reason="Held")
    errors = refused(product_quarantine, actor=lab_li, product=released.products[0], reason="Again")
    assert set(errors) == {"status"}


def test_a_qa_reviewer_releases_a_product_from_quarantine_with_a_signature(released, lab_li, qa_quinn):
    product = released.products[0]
    product_quarantine(actor=lab_li, product=product, reason="Label smudged")
    with pytest.raises(Forbidden, match=CANNOT_RELEASE):
        product_release_from_quarantine(actor=lab_li, product=product, reason="Relabelled", password=PASSWORD)
    assert refused(
        product_release_from_quarantine, actor=qa_quinn, product=product, reason="Relabelled", password="x"
    ) == {"password": "The password is not correct; the record was not signed."}
    product_release_from_quarantine(actor=qa_quinn, product=product, reason="Relabelled", password=PASSWORD)
    assert statuses(product) == [states.PRODUCT_RELEASED]
    signature = Signature.objects.get(object_type="product", object_id=str(product.pk))
    assert (signature.meaning, signature.signer) == ("released", qa_quinn)
    assert product.custody.latest("id").kind == CustodyEvent.Kind.RELEASED


def test_a_product_quarantined_before_its_batch_was_released_is_not_released_alone(
    patient_a, dr_ada, lab_li, qa_quinn
):
    made = to("awaiting_release", patient_a, dr_ada, lab_li, qa_quinn)
    product_quarantine(actor=lab_li, product=made.products[0], reason="Cap loose")
    errors = refused(
        product_release_from_quarantine,
        actor=qa_quinn,
        product=made.products[0],
        reason="Ok",
        password=PASSWORD,
    )
    assert errors == {"product": BATCH_NOT_RELEASED}


def test_the_processor_does_not_release_from_quarantine(patient_a, dr_ada, lab, qa_quinn):
    both = make_user("both", first="Bo", last="Th", roles=[(lab, "lab_technician"), (lab, "qa_reviewer")])
    made = to("released", patient_a, dr_ada, both, qa_quinn)
    product_quarantine(actor=both, product=made.products[0], reason="Check")
    errors = refused(
        product_release_from_quarantine, actor=both, product=made.products[0], reason="Ok", password=PASSWORD
    )
    assert errors == {"actor": RELEASER_PROCESSED}


def test_an_expired_product_stays_in_quarantine(released, lab_li, qa_quinn):
    product = released.products[0]
    product_quarantine(actor=lab_li, product=product, reason="Check")
    Product.objects.filter(pk=product.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    errors = refused(
        product_release_from_quarantine, actor=qa_quinn, product=product, reason="Ok", password=PASSWORD
    )
    assert errors == {"product": f"{product.din} is past its expiry"}


# --- recall --------------------------------------------------------------------------------------------


def test_qa_recalls_a_product_and_the_clinic_is_told(
    at_clinic, qa_quinn, lab_li, dr_ada, nurse_bo, patient_a
):
    with pytest.raises(Forbidden):
        product_recall(actor=lab_li, product=at_clinic.products[0], reason="Sterility retest positive")
    product = product_recall(
        actor=qa_quinn, product=at_clinic.products[0], reason="Sterility retest positive"
    )
    product.refresh_from_db()
    assert (product.status, product.status_reason) == (states.PRODUCT_RECALLED, "Sterility retest positive")
    assert product.custody.latest("id").kind == CustodyEvent.Kind.RECALLED
    told = Notification.objects.filter(kind="lab.product_recalled").order_by("recipient_id")
    assert [n.recipient for n in told] == [dr_ada, nurse_bo]
    assert product.din in told[0].subject and "Do not administer" in told[0].body
    assert told[0].link == f"/lab/products/{product.din}/"
    assert patient_a.family_name not in told[0].body


def test_a_product_not_released_is_not_recalled(patient_a, dr_ada, lab_li, qa_quinn):
    made = to("awaiting_release", patient_a, dr_ada, lab_li, qa_quinn)
    errors = refused(product_recall, actor=qa_quinn, product=made.products[0], reason="x")
    assert set(errors) == {"status"}


# --- disposal ------------------------------------------------------------------------------------------


def test_a_recalled_product_is_disposed_of_with_the_reason(at_clinic, qa_quinn, nurse_bo):
    product = at_clinic.products[0]
    product_recall(actor=qa_quinn, product=product, reason="Recall")
    assert refused(product_dispose, actor=nurse_bo, product=product, reason="") == {"reason": REQUIRED}
    product_dispose(actor=nurse_bo, product=product, reason="Incinerated per SOP-12")
    assert statuses(product) == [states.PRODUCT_DISPOSED]
    event = product.custody.latest("id")
    assert (event.kind, event.at_site, event.note) == ("disposed", at_clinic.clinic, "Incinerated per SOP-12")


def test_a_rejected_products_disposal_is_recorded_once_and_it_stays_rejected(
    patient_a, dr_ada, lab_li, qa_quinn
):
    made = to("rejected", patient_a, dr_ada, lab_li, qa_quinn)
    product = made.products[0]
    product_dispose(actor=lab_li, product=product, reason="Autoclaved")
    assert statuses(product) == [states.PRODUCT_REJECTED]
    assert product.custody.filter(kind=CustodyEvent.Kind.DISPOSED).count() == 1
    assert AuditEvent.objects.latest("id").after == {"status": "rejected", "disposed": True}
    assert refused(product_dispose, actor=lab_li, product=product, reason="Again") == {
        "status": ALREADY_DISPOSED
    }


def test_a_product_waiting_for_release_is_not_disposed_of(patient_a, dr_ada, lab_li, qa_quinn):
    made = to("qc_pending", patient_a, dr_ada, lab_li, qa_quinn)
    errors = refused(product_dispose, actor=lab_li, product=made.products[0], reason="x")
    assert set(errors) == {"status"}


# --- expiry --------------------------------------------------------------------------------------------


def test_products_past_their_expiry_are_marked_expired(at_clinic, released, nurse_bo, lab_li):
    # Two pathways of the same patient: one at the clinic, one released at the lab.
    later = timezone.now() + timedelta(days=2)
    assert product_expire(actor=nurse_bo, now=later) == 2
    assert statuses(*at_clinic.products, *released.products) == [
        states.PRODUCT_EXPIRED,
        states.PRODUCT_EXPIRED,
        states.PRODUCT_RELEASED,
        states.PRODUCT_RELEASED,
    ]
    event = at_clinic.products[0].custody.latest("id")
    assert (event.kind, event.at_site, event.by) == ("expired", at_clinic.clinic, nurse_bo)
    assert product_expire(actor=lab_li, now=later) == 2
    assert released.products[0].custody.latest("id").at_site == released.lab
    assert AuditEvent.objects.filter(action="product.expire").count() == 4
    assert product_expire(actor=lab_li, now=later) == 0


def test_products_not_yet_expired_are_left_alone(released, lab_li):
    assert product_expire(actor=lab_li) == 0
    assert statuses(*released.products) == [states.PRODUCT_RELEASED] * 2


def test_expiry_is_run_by_people_who_handle_products(released, admin_al):
    with pytest.raises(Forbidden, match=CANNOT_EXPIRE):
        product_expire(actor=admin_al)


def test_expiry_costs_the_same_queries_for_any_number_of_products_but_their_audit_events(
    patient_a, dr_ada, lab_li, qa_quinn
):
    made = to("released", patient_a, dr_ada, lab_li, qa_quinn, doses=3)
    later = timezone.now() + timedelta(days=2)
    first, rest = made.products[:1], made.products[1:]
    Product.objects.filter(pk__in=[p.pk for p in rest]).update(expires_at=later + timedelta(days=1))
    counted = []
    for due in (first, rest):
        Product.objects.filter(pk__in=[p.pk for p in due]).update(expires_at=later - timedelta(hours=1))
        with CaptureQueriesContext(connection) as queries:
            assert product_expire(actor=lab_li, now=later) == len(due)
        # Each audit event locks the chain (PostgreSQL), reads its last hash and inserts, within a
        # savepoint of its own (the service's own savepoint is the first pair).
        audit = sum(word in query["sql"] for query in queries for word in ("audit_auditevent", "pg_advisory"))
        savepoints = sum("SAVEPOINT" in query["sql"] for query in queries)
        counted.append((len(queries) - audit - savepoints, audit / len(due), (savepoints - 2) / len(due)))
    assert counted[0] == counted[1]


# --- banked cells --------------------------------------------------------------------------------------


def test_banked_cells_are_disposed_of_with_a_reason(patient_a, dr_ada, lab_li, qa_quinn):
    made = to("qc_pending", patient_a, dr_ada, lab_li, qa_quinn, banked_vials=4)
    assert refused(banked_cells_dispose, actor=lab_li, batch=made.batch, reason="") == {"reason": REQUIRED}
    banked_cells_dispose(actor=lab_li, batch=made.batch, reason="Storage consent ended")
    made.batch.refresh_from_db()
    assert made.batch.banked_vials == 0
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.before["banked_vials"], event.reason) == (
        "batch.banked_dispose",
        4,
        "Storage consent ended",
    )
    assert refused(banked_cells_dispose, actor=lab_li, batch=made.batch, reason="Again") == {
        "batch": NO_BANKED_CELLS
    }
