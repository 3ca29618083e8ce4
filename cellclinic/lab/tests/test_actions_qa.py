"""The QA reviewer's actions through their pages: release a batch with an electronic signature or reject
it, recall, quarantine, release from quarantine and dispose of a product, document donor eligibility;
and the refusals: the processor, a technician and clinic staff never release, and each page says why."""

import pytest
from django.utils.html import escape
from django.utils.text import capfirst

from cellclinic.audit.models import Signature
from cellclinic.audit.services import WRONG_PASSWORD
from cellclinic.lab import available, services, states
from cellclinic.lab.models import CustodyEvent
from cellclinic.lab.tests.actions_pages import NOT_NOW, field_error, notes, offered, page, submit
from cellclinic.lab.tests.builders import (
    NEGATIVE_SCREENING,
    donor_lot_ready,
    lab_advance,
    lab_counts,
    lab_pathway_to,
    lab_staff,
)
from cellclinic.notifications.models import Notification
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(patient_a, dr_ada, lab_li, qa_quinn):
    """A batch with every release criterion passing, waiting for release by QA."""
    return lab_pathway_to("awaiting_release", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)


def release_path(made) -> str:
    return f"/lab/batches/{made.batch.pk}/release/"


# Release


def test_the_reviewer_releases_the_batch_with_the_password_and_its_meaning_beside_the_button(
    client, qa_quinn, waiting
):
    detail = page(client, qa_quinn, f"/lab/batches/{waiting.batch.pk}/")
    assert offered(detail) == ["Release the batch", "Reject the batch"]
    body = page(client, qa_quinn, release_path(waiting))
    form = body[body.index('<form method="post" class="card"') :]
    button = form.index(">Sign and release</button>")
    meaning = form.index(
        '<p class="signature-meaning" id="action-meaning">Meaning of this signature: released</p>'
    )
    assert button < meaning < form.index("</form>")
    assert 'aria-describedby="action-meaning"' in form and escape(services.RELEASE_STATEMENT) in form
    assert 'type="password"' in form and 'autocomplete="current-password"' in form
    # What is signed for: every criterion as judged, and the products.
    assert body.count(">Pass<") == 7 and all(p.din in body for p in waiting.products)
    response = submit(client, qa_quinn, release_path(waiting), {"password": PASSWORD})
    assert response["Location"] == f"/lab/batches/{waiting.batch.pk}/"
    made = waiting.refresh()
    assert (made.batch.status, made.batch.decided_by) == (states.BATCH_RELEASED, qa_quinn)
    assert {p.status for p in made.products} == {states.PRODUCT_RELEASED}
    signature = Signature.objects.get(object_type="batch", object_id=str(made.batch.pk))
    assert (signature.meaning, signature.signer) == (Signature.Meaning.RELEASED, qa_quinn)
    assert made.products[0].custody.filter(kind=CustodyEvent.Kind.RELEASED).count() == 1
    assert "is released, signed by Quinn Adeyemi" in client.get(response["Location"]).content.decode()


def test_a_wrong_password_is_refused_beside_it_and_nothing_is_released(client, qa_quinn, waiting):
    before = lab_counts()
    response = submit(client, qa_quinn, release_path(waiting), {"password": "not it"}, status=422)
    assert field_error(response.content.decode(), "password") == WRONG_PASSWORD
    assert lab_counts() == before
    assert waiting.refresh().batch.status == states.BATCH_AWAITING_RELEASE


def test_the_processor_cannot_release_and_the_pages_say_why(client, dr_ada, patient_a, lab):
    both = lab_staff(lab, "lab_technician")
    both.memberships.create(site=lab, role="qa_reviewer")
    made = lab_pathway_to("awaiting_release", patient_a, dr_ada, technician=both)
    detail = page(client, both, f"/lab/batches/{made.batch.pk}/")
    assert "Release the batch" not in offered(detail)
    assert notes(detail) == [escape(available.PROCESSED_IT)]
    body = page(client, both, release_path(made))
    assert NOT_NOW in body and escape(available.PROCESSED_IT) in body
    assert 'type="password"' not in body
    before = lab_counts()
    response = submit(client, both, release_path(made), {"password": PASSWORD}, status=422)
    assert escape(services.RELEASER_PROCESSED) in response.content.decode()
    assert lab_counts() == before


@pytest.mark.parametrize("persona", ["lab_li", "dr_ada", "nurse_bo"])
def test_a_technician_and_clinic_staff_are_told_they_cannot_release(client, request, waiting, persona):
    user = request.getfixturevalue(persona)
    assert "Release the batch" not in offered(page(client, user, f"/lab/batches/{waiting.batch.pk}/"))
    body = page(client, user, release_path(waiting), status=403)
    assert "Not allowed" in body and services.CANNOT_RELEASE in body
    before = lab_counts()
    response = submit(client, user, release_path(waiting), {"password": PASSWORD}, status=403)
    assert services.CANNOT_RELEASE in response.content.decode()
    assert lab_counts() == before


def test_a_failing_criterion_holds_release_back_and_the_batch_is_rejected_instead(
    client, qa_quinn, patient_a, dr_ada, lab_li
):
    made = lab_pathway_to(
        "awaiting_release", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn, failing=("Endotoxin",)
    )
    detail = page(client, qa_quinn, f"/lab/batches/{made.batch.pk}/")
    assert offered(detail) == ["Reject the batch"]
    assert notes(detail) == [available.NOT_ALL_PASS.format(count=1, total=7)]
    before = lab_counts()
    response = submit(client, qa_quinn, release_path(made), {"password": PASSWORD}, status=422)
    assert "Endotoxin" in response.content.decode()
    assert lab_counts() == before
    reject = f"/lab/batches/{made.batch.pk}/reject/"
    body = page(client, qa_quinn, reject)
    assert "Meaning of this signature: reviewed: the batch is rejected" in body
    response = submit(client, qa_quinn, reject, {"reason": "", "password": PASSWORD}, status=422)
    assert field_error(response.content.decode(), "reason")
    assert lab_counts() == before
    submit(client, qa_quinn, reject, {"reason": "Endotoxin out of limit", "password": PASSWORD})
    made.refresh()
    assert (made.batch.status, made.batch.rejected_reason) == (
        states.BATCH_REJECTED,
        "Endotoxin out of limit",
    )
    assert {p.status for p in made.products} == {states.PRODUCT_REJECTED}
    assert offered(page(client, qa_quinn, f"/lab/batches/{made.batch.pk}/")) == []


# Products


@pytest.fixture
def at_clinic(patient_a, dr_ada, lab_li, qa_quinn):
    return lab_pathway_to("at_clinic", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)


def test_the_reviewer_recalls_a_product_and_the_clinic_is_told(client, qa_quinn, nurse_bo, at_clinic):
    product = at_clinic.products[0]
    detail = page(client, qa_quinn, f"/lab/products/{product.din}/")
    assert offered(detail) == [
        "Quarantine",
        "Recall",
        "Dispose of the product",
        "Print the product label (PDF)",
    ]
    submit(client, qa_quinn, f"/lab/products/{product.din}/recall/", {"reason": "Reagent lot recalled"})
    product.refresh_from_db()
    assert (product.status, product.status_reason) == (states.PRODUCT_RECALLED, "Reagent lot recalled")
    assert Notification.objects.filter(recipient=nurse_bo, kind="lab.product_recalled").exists()
    assert "Recall" not in offered(page(client, qa_quinn, f"/lab/products/{product.din}/"))


def test_a_nurse_quarantines_a_product_and_qa_releases_it_again_with_a_signature(
    client, nurse_bo, qa_quinn, lab_li, at_clinic
):
    product = at_clinic.products[0]
    nurse_sees = offered(page(client, nurse_bo, f"/lab/products/{product.din}/"))
    assert nurse_sees == [
        "Check at the bedside",
        "Quarantine",
        "Dispose of the product",
        "Print the product label (PDF)",
    ]
    submit(client, nurse_bo, f"/lab/products/{product.din}/quarantine/", {"reason": "Label smudged"})
    product.refresh_from_db()
    assert product.status == states.PRODUCT_QUARANTINED
    assert product.custody.get(kind=CustodyEvent.Kind.QUARANTINED).at_site == at_clinic.clinic
    assert "Release from quarantine" not in offered(page(client, lab_li, f"/lab/products/{product.din}/"))
    assert "Release from quarantine" in offered(page(client, qa_quinn, f"/lab/products/{product.din}/"))
    path = f"/lab/products/{product.din}/release/"
    assert "Meaning of this signature: released" in page(client, qa_quinn, path)
    before = lab_counts()
    submit(client, qa_quinn, path, {"reason": "Relabelled", "password": "wrong"}, status=422)
    assert lab_counts() == before
    submit(client, qa_quinn, path, {"reason": "Relabelled", "password": PASSWORD})
    product.refresh_from_db()
    assert product.status == states.PRODUCT_RELEASED


def test_a_rejected_product_is_disposed_of_once(client, lab_li, qa_quinn, patient_a, dr_ada):
    made = lab_pathway_to("rejected", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    product = made.products[0]
    path = f"/lab/products/{product.din}/dispose/"
    assert "Dispose of the product" in offered(page(client, lab_li, f"/lab/products/{product.din}/"))
    submit(client, lab_li, path, {"reason": "Incinerated"})
    product.refresh_from_db()
    assert product.status == states.PRODUCT_REJECTED
    assert product.custody.get(kind=CustodyEvent.Kind.DISPOSED).note == "Incinerated"
    assert "Dispose of the product" not in offered(page(client, lab_li, f"/lab/products/{product.din}/"))
    assert escape(capfirst(services.ALREADY_DISPOSED)) in page(client, lab_li, path)
    before = lab_counts()
    submit(client, lab_li, path, {"reason": "Again"}, status=422)
    assert lab_counts() == before


def test_clinic_staff_of_another_clinic_find_no_product_action(client, dr_cy, at_clinic):
    din = at_clinic.products[0].din
    for action in ("quarantine", "release", "recall", "dispose"):
        page(client, dr_cy, f"/lab/products/{din}/{action}/", status=404)
        submit(client, dr_cy, f"/lab/products/{din}/{action}/", {"reason": "x"}, status=404)


# Donor lots


def test_qa_documents_donor_eligibility_once_every_test_is_negative(client, lab, lab_li, qa_quinn):
    partial = dict.fromkeys(list(NEGATIVE_SCREENING)[:2], "Negative")
    lot = donor_lot_ready(lab, lab_li, qa_quinn, eligible=False, screening=partial)
    path = f"/lab/donor-lots/{lot.pk}/eligibility/"
    detail = page(client, qa_quinn, f"/lab/donor-lots/{lot.pk}/")
    assert "Document donor eligibility" not in offered(detail) and notes(detail)
    assert NOT_NOW in page(client, qa_quinn, path)
    before = lab_counts()
    submit(client, qa_quinn, path, {}, status=422)
    assert lab_counts() == before
    services.donor_lot_screening_record(actor=lab_li, lot=lot, results=NEGATIVE_SCREENING)
    assert offered(page(client, qa_quinn, f"/lab/donor-lots/{lot.pk}/")) == ["Document donor eligibility"]
    assert services.CANNOT_RELEASE in page(client, lab_li, path, status=403)
    submit(client, qa_quinn, path, {})
    lot.refresh_from_db()
    assert lot.eligible and lot.eligibility_documented_by == qa_quinn
    assert offered(page(client, qa_quinn, f"/lab/donor-lots/{lot.pk}/")) == []


def test_donor_products_are_sent_to_the_clinic_chosen(client, lab, clinic_a, lab_li, qa_quinn):
    from cellclinic.lab.tests.builders import donor_batch_to

    lot = donor_lot_ready(lab, lab_li, qa_quinn)
    batch, products, _ = donor_batch_to("released", lot, lab_li, qa_quinn)
    path = f"/lab/batches/{batch.pk}/ship/"
    body = page(client, lab_li, path)
    assert 'name="clinic"' in body and "North Clinic" in body
    data = {
        "products": [str(p.pk) for p in products],
        "courier": "Cold Chain Couriers",
        "temperature_min_c": "-85",
        "temperature_max_c": "-65",
    }
    before = lab_counts()
    response = submit(client, lab_li, path, data, status=422)
    assert field_error(response.content.decode(), "clinic")
    assert lab_counts() == before
    submit(client, lab_li, path, {**data, "clinic": str(clinic_a.pk)})
    products[0].refresh_from_db()
    assert products[0].site == clinic_a and products[0].shipment.site == clinic_a


def test_released_batches_offer_nothing_more_to_qa(client, qa_quinn, waiting):
    made = lab_advance(waiting, "released")
    detail = page(client, qa_quinn, f"/lab/batches/{made.batch.pk}/")
    assert offered(detail) == [] and notes(detail) == []
    assert NOT_NOW in page(client, qa_quinn, release_path(made))


def test_the_release_page_reads_a_pinned_number_of_queries(
    client, qa_quinn, waiting, django_assert_num_queries
):
    path = release_path(waiting)
    client.force_login(qa_quinn)
    client.get(path)
    # The session, the user and the roles (3); the clinics the lab serves, read once for the request (1);
    # the batch; its QC results; its products; who processed it; whether its consent is in force; the
    # Lab link's count: one count each of specimens, batches and products (3); the unread notifications.
    with django_assert_num_queries(3 + 1 + 1 + 1 + 1 + 1 + 1 + 3 + 1):
        assert client.get(path).status_code == 200
