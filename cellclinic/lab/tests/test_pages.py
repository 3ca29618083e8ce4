"""The lab's pages: /lab/, its lists, specimens, batches, products, their labels and donor lots."""

import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.html import escape
from pypdf import PdfReader

from cellclinic.audit.models import AccessEvent, AuditEvent
from cellclinic.lab import states, views
from cellclinic.lab.donor import DONOR_TESTS
from cellclinic.lab.models import CustodyEvent, DonorLot, ProcessStep, Product, QCResult, ReagentLot
from cellclinic.lab.tests import rows
from cellclinic.patients.tests.helpers import assert_no_patient_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(patient_a, dr_ada, lab_li):
    return rows.story(patient_a, dr_ada, lab_li)


def _get(client, user, path):
    client.force_login(user)
    return client.get(path)


def _body(client, user, path) -> str:
    response = _get(client, user, path)
    assert response.status_code == 200, path
    return response.content.decode()


def _main(body: str) -> str:
    return body.split('<main id="main"', 1)[1]


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _counts() -> tuple[int, ...]:
    return (Product.objects.count(), CustodyEvent.objects.count(), AuditEvent.objects.count())


# The specimen page


def test_the_specimen_page_shows_the_timeline_in_order_with_who_where_when_and_temperature(
    client, dr_ada, lab_li, story
):
    body = _body(client, lab_li, f"/lab/specimens/{story.specimen.pk}/")
    assert body.count("<h1>") == 1
    assert f'Specimen <span class="mono">{story.specimen.coi}</span>' in body
    kinds = re.findall(r'<li class="custody-event custody-(\w+)">', body)
    assert kinds == ["collected", "packed", "shipped", "received"]
    timeline = body[body.index('id="h-custody"') :]
    received = timeline[timeline.index("custody-received") :]
    assert "Central Cell Lab · Li Chen · 5.5 °C" in received
    assert "North Clinic · Ada Okafor · 4.5 °C" in timeline[timeline.index("custody-shipped") :]
    local = timezone.localtime(story.specimen.collected_at + timedelta(hours=20))
    assert f"{local:%-d %b %Y, %H:%M}" in received
    assert f'href="/lab/batches/{story.batch.pk}/"' in body
    assert "Used up in processing" in body
    assert "style=" not in _main(body)


def test_the_specimen_page_names_the_patient_only_for_their_clinic(client, dr_ada, lab_li, patient_a, story):
    clinic = _body(client, dr_ada, f"/lab/specimens/{story.specimen.pk}/")
    assert f'<a href="/patients/{patient_a.pk}/">Grace HOPPER</a>' in clinic
    assert patient_a.mrn in clinic
    assert "Print the specimen label (PDF)" in clinic
    lab = _get(client, lab_li, f"/lab/specimens/{story.specimen.pk}/")
    assert_no_patient_data(lab, patient_a)
    assert "Grace" not in lab.content.decode()
    assert "Print the specimen label" not in lab.content.decode()


def test_a_reharvest_links_both_ways(client, dr_ada, lab_li, story):
    again = rows.specimen(story.chain, dr_ada)
    again.replaces = story.specimen
    again.save(update_fields=["replaces"])
    first = _body(client, lab_li, f"/lab/specimens/{story.specimen.pk}/")
    assert f'<dt>Replaced by</dt><dd><a href="/lab/specimens/{again.pk}/">' in first
    second = _body(client, lab_li, f"/lab/specimens/{again.pk}/")
    assert f'<dt>Re-harvest of</dt><dd><a href="/lab/specimens/{story.specimen.pk}/">' in second
    assert "No batch is booked for this specimen yet." in second


def test_a_rejected_specimen_says_why(client, dr_ada, lab_li, patient_a):
    rejected = rows.specimen(rows.chain_for(patient_a, dr_ada), dr_ada, status=states.SPECIMEN_REJECTED)
    rejected.rejected_reason = "Container leaked in transit"
    rejected.save(update_fields=["rejected_reason"])
    body = _body(client, lab_li, f"/lab/specimens/{rejected.pk}/")
    assert "Rejected at the lab.</strong> Container leaked in transit" in body
    assert '<span class="badge badge-danger">Rejected on arrival at the lab</span>' in body


# The batch page


def _qc_row(body: str, test: str) -> str:
    start = body.index(f'<td data-label="Test" class="lab-test">{test}</td>')
    return body[start : body.index("</tr>", start)]


def test_the_batch_page_judges_each_release_criterion_with_its_limit(client, lab_li, story):
    body = _body(client, lab_li, f"/lab/batches/{story.batch.pk}/")
    assert body.count("<h1>") == 1
    viability = _qc_row(body, "Viability")
    assert "72%" in viability and "≥ 70%" in viability and "badge-ok" in viability
    endotoxin = _qc_row(body, "Endotoxin")
    assert "7.5 EU/kg" in endotoxin and "≤ 5 EU/kg" in endotoxin and ">Fail<" in endotoxin
    assert "does not meet ≤ 5 EU/kg" in endotoxin
    assert ">Pass<" in _qc_row(body, "Sterility")
    # Criteria without a result wait; none reads as a pass.
    for test in ("Mycoplasma", "Passages", "Identity and purity: fibroblasts"):
        row = _qc_row(body, test)
        assert "Waiting for a result" in row and ">Pass<" not in row
    assert "2 of 7 criteria pass; 1 fails; 4 wait for a result." in body
    # The corrected result stays on record, apart, with its reason.
    assert "Corrected results (1)" in body and "Counted the wrong slide" in body
    assert ">65<" not in viability


def test_the_batch_page_shows_steps_deviations_reagents_window_and_products(client, lab_li, story):
    body = _body(client, lab_li, f"/lab/batches/{story.batch.pk}/")
    assert "Passage 2" in body and "18,000,000 cells" in body and "88.0%" in body
    assert "Incubator door left open for four minutes" in body
    assert "Reason: Alarm fault during a power cut" in body
    assert "DMEM culture medium, lot <span" in body and "RM-2231" in body
    batch = story.batch
    assert f'<time datetime="{batch.ready_from:%Y-%m-%d}">{batch.ready_from:%-d %b %Y}</time>' in body
    assert f'<time datetime="{batch.slot_start:%Y-%m-%d}">' in body
    assert f'href="/lab/products/{story.product.din}/"' in body
    assert "Overdue." not in body


def test_a_batch_past_its_ready_window_is_flagged_overdue(client, dr_ada, lab_li, patient_a):
    chain = rows.chain_for(patient_a, dr_ada)
    late = rows.batch(
        lab=lab_li.memberships.get().site, creator=lab_li, specimen=rows.specimen(chain, dr_ada)
    )
    late.ready_from = timezone.localdate() - timedelta(days=9)
    late.ready_to = timezone.localdate() - timedelta(days=2)
    late.save(update_fields=["ready_from", "ready_to"])
    body = _body(client, lab_li, f"/lab/batches/{late.pk}/")
    assert "<strong>Overdue.</strong>" in body


def test_results_that_cannot_be_judged_are_never_shown_as_passing(client, lab_li, story):
    QCResult.objects.filter(batch=story.batch, test="Viability", status=states.QC_PASSED).update(
        value="about seventy"
    )
    rows.qc_result(story.batch, "Colour", "Pink", lab_li)
    body = _body(client, lab_li, f"/lab/batches/{story.batch.pk}/")
    viability = _qc_row(body, "Viability")
    assert "Cannot be judged" in viability and ">Pass<" not in viability
    colour = _qc_row(body, "Colour")
    assert "Cannot be judged" in colour and "not a release criterion of protocol version" in colour


def test_a_protocol_version_missing_from_the_catalogue_is_said_and_nothing_passes(client, lab_li, story):
    story.batch.therapy_version = "9.9"
    story.batch.save(update_fields=["therapy_version"])
    body = _body(client, lab_li, f"/lab/batches/{story.batch.pk}/")
    assert "Protocol version 9.9 of" in body and "A QA reviewer must check them." in body
    assert ">Pass<" not in body


def test_a_donor_batch_links_its_lot_for_lab_staff(client, lab, lab_li):
    made = rows.batch(lab=lab, creator=lab_li, donor_lot=rows.donor_lot(lab, lab_li))
    body = _body(client, lab_li, f"/lab/batches/{made.pk}/")
    assert f'<a href="/lab/donor-lots/{made.donor_lot.pk}/"' in body


# The product page


def test_the_product_page_prints_the_din_with_its_boxed_check_character(client, dr_ada, lab_li, story):
    product = story.product
    din = views.din_of(product)
    body = _body(client, lab_li, f"/lab/products/{product.din}/")
    assert body.count("<h1>") == 1
    assert (
        f'<span class="din-body">{din.facility} {din.year:02d} {din.sequence:06d}</span>'
        f' <span class="din-flags"><span class="visually-hidden">flags </span>{din.flags}</span>'
        f' <span class="din-check" title="Check character"><span class="visually-hidden">check character '
        f"</span>{product.din_check}</span>"
    ) in body
    assert "<strong>For autologous use only</strong>" in body
    assert "at 2–8 °C" in body
    assert '<span class="badge badge-ok">Received at the clinic</span>' in body
    kinds = re.findall(r'<li class="custody-event custody-(\w+)">', body)
    assert kinds == ["released", "shipped", "received"]


def test_the_din_is_found_in_any_case(client, lab_li, story):
    assert _get(client, lab_li, f"/lab/products/{story.product.din.lower()}/").status_code == 200


def test_expiry_is_shown_on_the_sites_clock(client, settings, lab_li, story):
    settings.TIME_ZONE = "Europe/London"
    Product.objects.filter(pk=story.product.pk).update(expires_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    body = _body(client, lab_li, f"/lab/products/{story.product.din}/")
    assert '<time datetime="2026-07-01T13:00:00+01:00">1 Jul 2026, 13:00</time>' in body
    assert "Expired" in body


def test_a_donor_product_is_not_marked_autologous(client, lab, lab_li):
    made = rows.donor_product(lab, lab_li, status=states.PRODUCT_RELEASED)
    body = _body(client, lab_li, f"/lab/products/{made.din}/")
    assert "autologous use" not in body.lower()
    assert f'href="/lab/donor-lots/{made.donor_lot.pk}/"' in body


# Labels


def test_the_product_label_is_an_inline_pdf_never_kept_with_the_coi_and_no_name(
    client, dr_ada, lab_li, patient_a, story
):
    for reader in (lab_li, dr_ada):
        response = _get(client, reader, f"/lab/products/{story.product.din}/label.pdf")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'inline; filename="product-{story.product.din}.pdf"'
        assert "no-store" in response["Cache-Control"]
        text = _pdf_text(response.content)
        assert story.chain.coi in text and "FOR AUTOLOGOUS USE ONLY" in text
        for secret in (patient_a.given_name, patient_a.family_name, patient_a.mrn):
            assert secret.lower() not in text.lower()


def test_a_donor_products_label_carries_its_lot(client, lab, lab_li):
    made = rows.donor_product(lab, lab_li, status=states.PRODUCT_RELEASED)
    response = _get(client, lab_li, f"/lab/products/{made.din}/label.pdf")
    text = _pdf_text(response.content)
    assert made.donor_lot.lot_number in text and "AUTOLOGOUS" not in text


def test_a_label_that_cannot_be_printed_says_why_and_changes_nothing(client, lab_li, story):
    Product.objects.filter(pk=story.product.pk).update(storage="保存 2–8 °C")
    before = _counts()
    response = _get(client, lab_li, f"/lab/products/{story.product.din}/label.pdf")
    assert response.status_code == 422
    assert "The label cannot be printed" in response.content.decode()
    assert _counts() == before


def test_the_specimen_label_names_the_patient_and_only_their_clinic_prints_it(
    client, dr_ada, nurse_bo, lab_li, qa_quinn, patient_a, story
):
    for reader in (dr_ada, nurse_bo):
        response = _get(client, reader, f"/lab/specimens/{story.specimen.pk}/label.pdf")
        assert response.status_code == 200
        assert response["Content-Disposition"] == f'inline; filename="specimen-{story.specimen.coi}.pdf"'
        assert "no-store" in response["Cache-Control"]
        text = _pdf_text(response.content)
        assert "Grace HOPPER" in text and patient_a.mrn in text and story.specimen.coi in text
    for reader in (lab_li, qa_quinn):
        response = _get(client, reader, f"/lab/specimens/{story.specimen.pk}/label.pdf")
        assert response.status_code == 404
        assert_no_patient_data(response, patient_a)


# Donor lots


def test_lab_staff_see_donor_lots_with_eligibility_and_expiry(client, lab, lab_li):
    eligible = rows.donor_lot(lab, lab_li)
    pending = rows.donor_lot(lab, lab_li, eligible=False)
    DonorLot.objects.filter(pk=pending.pk).update(
        screening={
            "HIV-1/2 antibody": "non-reactive",
            "HBsAg": {"result": "non-reactive", "on": "2026-01-04"},
        },
        expires_on=timezone.localdate() - timedelta(days=1),
    )
    body = _body(client, lab_li, "/lab/donor-lots/")
    assert body.count("<h1>") == 1
    assert body.count('<span class="badge badge-ok">Documented</span>') == 1
    assert body.count('<span class="badge badge-danger">Not documented</span>') == 1
    assert eligible.lot_number in body and pending.lot_number in body
    detail = _body(client, lab_li, f"/lab/donor-lots/{pending.pk}/")
    assert "Donor eligibility is not documented." in detail
    assert "This lot has expired." in detail
    assert 'HBsAg</td><td data-label="Result">result: non-reactive, on: 2026-01-04' in detail
    # Every donor test is named on the page, with the ones still missing said to be missing.
    for label in DONOR_TESTS.values():
        assert f'class="lab-test">{escape(label)}</td>' in detail
    assert detail.count("No result recorded") == len(DONOR_TESTS)
    documented = _body(client, lab_li, f"/lab/donor-lots/{eligible.pk}/")
    assert "Documented by Li Chen" in documented and "not documented" not in documented


@pytest.mark.parametrize("persona", ["dr_ada", "nurse_bo", "admin_al", "pat"])
def test_clinic_staff_and_patients_do_not_reach_donor_or_reagent_lots(client, request, lab, lab_li, persona):
    lot = rows.donor_lot(lab, lab_li)
    ReagentLot.objects.create(site=lab, name="Trypsin-EDTA", lot_number="T-0042")
    for path in ("/lab/donor-lots/", f"/lab/donor-lots/{lot.pk}/", "/lab/reagent-lots/"):
        assert _get(client, request.getfixturevalue(persona), path).status_code == 404


# Reagent lots


def test_lab_staff_see_their_labs_reagent_lots_with_expiry(client, lab, lab_li, qa_quinn):
    from cellclinic.accounts.models import Site

    today = timezone.localdate()
    ReagentLot.objects.create(site=lab, name="Trypsin-EDTA", lot_number="T-0042", expires_on=today)
    ReagentLot.objects.create(
        site=lab, name="DMEM culture medium", lot_number="RM-1", expires_on=today - timedelta(days=1)
    )
    ReagentLot.objects.create(site=lab, name="Fetal bovine serum", lot_number="FBS-7")
    other = Site.objects.create(code="ELAB", name="Elsewhere Lab", kind="lab")
    ReagentLot.objects.create(site=other, name="Their medium", lot_number="X-1")
    for reader in (lab_li, qa_quinn):
        body = _body(client, reader, "/lab/reagent-lots/")
        assert body.count("<h1>") == 1 and "3 lots" in body
        names = re.findall(r'<td data-label="Reagent or medium">([^<]+)</td>', body)
        assert names == ["DMEM culture medium", "Fetal bovine serum", "Trypsin-EDTA"]
        assert (
            body.count('<span class="badge badge-danger">Expired</span>') == 1
        )  # not the one expiring today
        assert f'<time datetime="{today:%Y-%m-%d}">' in body and "No expiry date" in body
        assert "Their medium" not in body and "X-1" not in body


def test_the_reagent_lots_are_listed_a_page_at_a_time(client, lab, lab_li):
    ReagentLot.objects.bulk_create(
        ReagentLot(site=lab, name="Culture medium", lot_number=f"CM-{number:03d}") for number in range(26)
    )
    first = _body(client, lab_li, "/lab/reagent-lots/")
    assert first.count('<td data-label="Lot"') == 25 and "CM-024" in first and "CM-025" not in first
    assert "Page 1 of 2" in first and 'href="?page=2" rel="next"' in first
    second = _body(client, lab_li, "/lab/reagent-lots/?page=2")
    assert second.count('<td data-label="Lot"') == 1 and "CM-025" in second


def test_an_empty_lab_says_it_has_no_reagent_lot(client, lab_li):
    assert "No reagent lot is recorded at your lab." in _body(client, lab_li, "/lab/reagent-lots/")


def test_the_reagent_lots_page_reads_a_pinned_number_of_queries(
    client, lab, lab_li, django_assert_num_queries
):
    ReagentLot.objects.create(site=lab, name="Trypsin-EDTA", lot_number="T-0042")
    client.force_login(lab_li)
    client.get("/lab/reagent-lots/")
    # The session, the user and the roles (3); the clinics the lab serves, for the lots' scope; the lots
    # counted, then the page of them (2); the Lab link's count: the clinics the lab serves again, then
    # one count each of specimens, batches and products (4); the unread notifications.
    with django_assert_num_queries(3 + 1 + 2 + 4 + 1):
        assert client.get("/lab/reagent-lots/").status_code == 200


# Who reaches what


def _paths(story) -> list[str]:
    return [
        "/lab/",
        f"/lab/specimens/{story.specimen.pk}/",
        f"/lab/specimens/{story.specimen.pk}/label.pdf",
        f"/lab/batches/{story.batch.pk}/",
        f"/lab/products/{story.product.din}/",
        f"/lab/products/{story.product.din}/label.pdf",
    ]


@pytest.mark.parametrize("persona", ["dr_ada", "nurse_bo", "admin_al"])
def test_clinic_staff_of_the_patients_clinic_read_every_page(client, request, persona, story):
    for path in _paths(story):
        assert _get(client, request.getfixturevalue(persona), path).status_code == 200, path


def test_another_clinic_and_a_patient_reach_none_of_it(client, dr_cy, pat, patient_a, story):
    for user in (dr_cy, pat):
        for path in _paths(story)[1:]:
            response = _get(client, user, path)
            assert response.status_code == 404, path
            assert_no_patient_data(response, patient_a, names=user is not pat)
    assert _get(client, pat, "/lab/").status_code == 404


def test_a_lab_that_does_not_serve_the_clinic_reaches_none_of_it(client, story):
    from cellclinic.accounts.models import Site
    from conftest import make_user

    other = Site.objects.create(code="ELAB", name="Elsewhere Lab", kind="lab")
    stranger = make_user("elsie", first="Elsie", last="Park", roles=[(other, "lab_technician")])
    for path in _paths(story)[1:]:
        assert _get(client, stranger, path).status_code == 404, path


def test_missing_records_and_malformed_dins_are_not_found(client, lab_li, story):
    for path in (
        "/lab/specimens/999999/",
        "/lab/batches/999999/",
        "/lab/products/A99992699999X/",
        "/lab/products/not-a-din/",
        "/lab/products/not-a-din/label.pdf",
        "/lab/donor-lots/999999/",
        "/lab/waiting/?item=nothing-of-the-kind",
    ):
        assert _get(client, lab_li, path).status_code == 404, path


def test_anonymous_visitors_are_sent_to_sign_in(client, story):
    for path in [*_paths(story), "/lab/donor-lots/", "/lab/reagent-lots/", "/lab/waiting/?item=qc-pending"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/sign-in/?next=")


def test_pages_answer_get_only(client, lab_li, story):
    client.force_login(lab_li)
    for path in _paths(story):
        assert client.post(path).status_code == 405, path


# The access log


def test_each_read_is_logged_naming_the_patient_only_when_the_page_did(
    client, dr_ada, lab_li, patient_a, story
):
    _body(client, dr_ada, f"/lab/products/{story.product.din}/")
    _body(client, lab_li, f"/lab/products/{story.product.din}/")
    events = list(AccessEvent.objects.filter(action="product.view").order_by("id"))
    assert [(event.actor_id, event.patient_id, event.object_id) for event in events] == [
        (dr_ada.pk, patient_a.pk, str(story.product.pk)),
        (lab_li.pk, None, str(story.product.pk)),
    ]
    assert events[1].details == {"coi": story.chain.coi, "din": story.product.din}


# Queries, flat as the records grow


def _grow(story, technician, each: int) -> None:
    """EACH more custody events, process steps and QC results on the story's records."""
    for number in range(each):
        rows.custody(story.specimen, CustodyEvent.Kind.RECEIVED, technician, at_site=story.batch.lab)
        rows.custody(story.product, CustodyEvent.Kind.RECEIVED, technician, at_site=story.batch.lab)
        ProcessStep.objects.create(
            batch=story.batch,
            name=f"Feed {number}",
            cell_count=Decimal(1000 + number),
            performed_by=technician,
            performed_at=timezone.now(),
        )
        rows.qc_result(story.batch, "Sterility", "No growth", technician, status=states.QC_CORRECTED)


# What each page lists: the specimen's timeline, batches and the specimens it replaces or that replace
# it; the batch's QC results, steps, deviations, reagent lots and products; the product's timeline.
PAGE_READS = {"specimen": 3, "batch": 5, "product": 1}
# Lab staff: the session, the user and the roles (3); the clinics their lab serves, read once for the
# request (1); the record; the access log's insert; the Lab link's count: one count each of specimens,
# batches and products (3); the unread notifications.
LAB_PAGE_QUERIES = 3 + 1 + 1 + 1 + 3 + 1
# Clinic staff: the session, the user and the roles (3); the record; the patient behind its chain of
# identity; the access log's insert; the navigation's counts of new requests and unread notifications.
CLINIC_PAGE_QUERIES = 3 + 1 + 1 + 1 + 2


@pytest.mark.parametrize("page", ["specimen", "batch", "product"])
def test_each_detail_page_runs_a_pinned_number_of_queries_for_2_or_20_of_everything(
    client, dr_ada, lab_li, story, django_assert_num_queries, page
):
    path = {
        "specimen": f"/lab/specimens/{story.specimen.pk}/",
        "batch": f"/lab/batches/{story.batch.pk}/",
        "product": f"/lab/products/{story.product.din}/",
    }[page]
    for each in (2, 18):
        _grow(story, lab_li, each)
        for user, expected in ((lab_li, LAB_PAGE_QUERIES), (dr_ada, CLINIC_PAGE_QUERIES)):
            client.force_login(user)
            client.get(path)  # the first request after signing in also touches the session
            with django_assert_num_queries(expected + PAGE_READS[page]):
                assert client.get(path).status_code == 200


# Records made through the lab's services


def test_every_hand_off_made_through_the_services_shows_on_the_timelines(
    client, dr_ada, lab_li, qa_quinn, patient_a
):
    from cellclinic.lab.tests.builders import COURIER, lab_pathway_to

    made = lab_pathway_to("at_clinic", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    specimen = _body(client, dr_ada, f"/lab/specimens/{made.specimen.pk}/")
    kinds = re.findall(r'<li class="custody-event custody-(\w+)">', specimen)
    assert kinds[:4] == ["collected", "packed", "shipped", "received"]
    dose = made.products[0]
    product = _body(client, lab_li, f"/lab/products/{dose.din}/")
    kinds = re.findall(r'<li class="custody-event custody-(\w+)">', product)
    assert kinds.index("released") < kinds.index("issued") < kinds.index("shipped") < kinds.index("received")
    assert COURIER in product and "; delivered</dd>" in product
    batch = _body(client, qa_quinn, f"/lab/batches/{made.batch.pk}/")
    assert "7 of 7 criteria pass." in batch and "Waiting for a result" not in batch
    assert "by Quinn Adeyemi" in batch
