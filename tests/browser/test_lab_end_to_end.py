"""A patient's cells from the harvest to the bedside, through the real pages in Chromium.

The practitioner records the harvest of a planned patient and sends it; the lab technician receives it,
plans and starts a batch, records a passage, finishes processing and enters every QC result; a QA
reviewer releases the batch with their password; the technician ships the product; a nurse receives it
at the clinic; the practitioner checks it at the bedside against the wrong wristband (a hard stop), then
the right one (PASS), records the administration, and a second check of the same DIN stops again. Every
hand-off shows on the specimen's and the product's timelines. The planned patient is set up with the
pathway builder; everything after that goes through the pages. Desktop throughout, and the bedside on a
phone.
"""

import re
from datetime import date, timedelta

import pytest
from django.db.models import F
from playwright.sync_api import expect

from cellclinic.consents.models import Consent
from cellclinic.lab.models import Batch, Product, Specimen
from cellclinic.lab.tests.builders import criteria_of, lab_ready, passing_value
from cellclinic.patients.services import patient_create
from cellclinic.treatment.tests.helpers import CULTURED, pathway_to
from conftest import PASSWORD
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import DUPLICATE_IDS, UNLABELLED_CONTROLS
from tests.browser.test_phone import PAST_THE_EDGE, SMALL_TARGETS

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
TIMELINE = "() => Array.from(document.querySelectorAll('.custody-event strong')).map(el => el.textContent)"


def _fits(page, *, phone: bool = False) -> None:
    """One heading, every control labelled, no id twice, nothing sideways; on a phone, tappable too."""
    where = page.url
    assert page.locator("h1").count() == 1, f"{where} should have exactly one h1"
    assert page.evaluate(UNLABELLED_CONTROLS) == [], f"unlabelled controls on {where}"
    assert page.evaluate(DUPLICATE_IDS) == [], f"ids used twice on {where}"
    assert page.evaluate(OVERFLOW) <= 0, f"{where} scrolls sideways"
    if phone:
        assert page.evaluate(PAST_THE_EDGE) == [], f"{where} has content past the screen's edge"
        assert page.evaluate(SMALL_TARGETS) == [], f"{where} has tap targets under 44 px"


def _as(page, username: str) -> None:
    sign_in(page, username, PASSWORD)


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()


def _action(page, label: str) -> None:
    """Follow the record's action labelled LABEL to its form."""
    page.get_by_role("list", name="Actions").get_by_role("link", name=label, exact=True).click()
    _fits(page)


def _said(page, text: str) -> None:
    expect(page.locator(".messages")).to_contain_text(text)


def _timeline(page) -> list[str]:
    return page.evaluate(TIMELINE)


# The steps, one person at a time


def _practitioner_harvests_and_sends(page, patient, plan) -> Specimen:
    _as(page, "ada")
    page.goto(f"/patients/{patient.pk}/?section=plan")
    panel = page.get_by_role("region", name="Harvest and bedside")
    panel.get_by_role("link", name=re.compile("^Record the harvest")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record the harvest")
    _fits(page)
    expect(page.get_by_text("The lab has a slot free from")).to_be_visible()
    expect(page.get_by_role("heading", name="Aftercare to hand to the patient")).to_be_visible()
    page.get_by_label("Kind of sample").select_option("punch_biopsy")
    page.get_by_label("Taken from").fill("Behind the left ear")
    page.get_by_label("Size").fill("3 punches of 3 mm")
    page.get_by_role("button", name="Record the harvest").click()
    _said(page, "The harvest is recorded as specimen")
    specimen = Specimen.objects.get(chain__plan=plan)
    expect(page.get_by_role("heading", level=1)).to_contain_text(specimen.coi)

    _action(page, "Pack for the lab")
    page.get_by_label("Courier").fill("Cold Chain Couriers")
    expect(page.get_by_label("Lowest temperature allowed (°C)")).to_have_value("2.0")
    page.get_by_role("button", name="Pack it").click()
    _said(page, "Packed for Cold Chain Couriers")
    _action(page, "Hand to the courier")
    page.get_by_label("Temperature at dispatch (°C)").fill("4.5")
    page.get_by_role("button", name="Hand it over").click()
    _said(page, "on its way to Central Cell Lab")
    expect(page.locator(".page-head .badge")).to_have_text("On its way to the lab")
    _sign_out(page)
    return specimen


def _technician_receives_and_processes(page, specimen: Specimen) -> Batch:
    _as(page, "li")
    page.goto("/lab/")
    page.get_by_role("region", name="Specimens on their way to the lab").get_by_role(
        "link", name=re.compile(specimen.coi)
    ).click()
    _action(page, "Receive at the lab")
    page.get_by_label("Received and accepted").check()
    page.get_by_label("Temperature on arrival (°C)").fill("5.5")
    page.get_by_label("Condition").fill("Sealed, cold packs intact")
    page.get_by_role("button", name="Record the arrival").click()
    _said(page, "The arrival at Central Cell Lab is recorded.")

    _action(page, "Plan a batch")
    page.get_by_label("Doses").fill("2")
    page.get_by_role("button", name="Plan the batch").click()
    _said(page, "is planned: its slot starts")
    batch = Batch.objects.get(specimen=specimen)

    _action(page, "Start processing")
    page.get_by_role("button", name="Start processing").click()
    _said(page, "Processing has started.")
    _action(page, "Record a process step")
    page.get_by_label("Viable cells counted").fill("12000000")
    page.get_by_label("Viability (%)").fill("92.5")
    page.get_by_role("button", name="Record the step").click()
    _said(page, "Passage 1 is recorded.")
    expect(page.get_by_role("region", name="Process steps")).to_contain_text("12,000,000 cells")

    _action(page, "Finish processing")
    expect(page.get_by_label("Doses made")).to_have_value("2")
    page.get_by_role("button", name="Finish processing").click()
    _said(page, "Processing is finished")

    _action(page, "Enter QC results")
    for criterion in criteria_of(batch):
        value, unit = passing_value(criterion)
        row = page.locator(".lab-qc-entry", has=page.get_by_role("heading", name=criterion.test, exact=True))
        expect(row).to_contain_text(criterion.specification)
        row.get_by_role("textbox", name=re.compile(rf"^Result for {re.escape(criterion.test)}")).fill(value)
        row.get_by_role("button", name=f"Enter the result for {criterion.test}").click()
        _said(page, f"{criterion.test}: ")
        expect(
            page.locator(".lab-qc-entry", has=page.get_by_role("heading", name=criterion.test, exact=True))
        ).to_contain_text("Pass")
        _fits(page)
    expect(page.get_by_text("Every release criterion has a result.")).to_be_visible()
    _sign_out(page)
    return batch


def _reviewer_releases(page, batch: Batch) -> None:
    _as(page, "quinn")
    page.goto("/lab/")
    page.get_by_role("region", name="Batches waiting for release by QA").get_by_role(
        "link", name=re.compile(batch.code)
    ).click()
    _action(page, "Release the batch")
    button = page.get_by_role("button", name="Sign and release")
    expect(button).to_have_accessible_description("Meaning of this signature: released")
    page.get_by_label("Your password").fill(PASSWORD)
    button.click()
    _said(page, f"Batch {batch.code} is released, signed by Quinn Adeyemi.")
    expect(page.locator(".page-head .badge")).to_have_text("Released")
    _sign_out(page)


def _technician_ships(page, batch: Batch) -> list[Product]:
    _as(page, "li")
    page.goto(f"/lab/batches/{batch.pk}/")
    _action(page, "Pack products for the clinic")
    products = list(batch.products.order_by("dose_number"))
    for product in products:
        expect(page.get_by_label(re.compile(product.din))).to_be_checked()
    page.get_by_label("Courier").fill("Cold Chain Couriers")
    page.get_by_role("button", name="Pack them").click()
    _said(page, "Packed for Cold Chain Couriers")
    _action(page, "Hand to the courier")
    page.get_by_label("Temperature at dispatch (°C)").fill("4.0")
    page.get_by_role("button", name="Hand it over").click()
    _said(page, "on its way to North Clinic")
    _sign_out(page)
    return products


def _nurse_receives(page, product: Product) -> None:
    _as(page, "bo")
    page.goto("/lab/")
    page.get_by_role("region", name="Products on their way to the clinic").get_by_role(
        "link", name=re.compile(product.din)
    ).first.click()
    _action(page, "Receive at the clinic")
    page.get_by_label("Received and accepted").check()
    page.get_by_label("Temperature on arrival (°C)").fill("5.0")
    page.get_by_label("Condition").fill("Sealed, cold packs intact")
    page.get_by_role("button", name="Record the arrival").click()
    _said(page, "The arrival at North Clinic is recorded.")
    expect(page.locator(".page-head .badge")).to_have_text("Received at the clinic")
    _sign_out(page)


def _check(page, mrn: str, din: str) -> None:
    """Scan the wristband, then the product, as a scanner types them: each followed by Enter."""
    page.goto("/lab/bedside/")
    _fits(page, phone=True)
    expect(page.get_by_label("Patient's MRN")).to_be_focused()
    page.keyboard.type(mrn)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Now scan or type the product's DIN.")).to_be_visible()
    expect(page.get_by_label("Product's DIN")).to_be_focused()
    page.keyboard.type(din)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/lab/bedside/checks/\d+/$"))
    _fits(page, phone=True)


def _practitioner_checks_and_gives(page, patient, someone_else, product: Product) -> None:
    _as(page, "ada")
    page.set_viewport_size(PHONE)
    page.goto(f"/patients/{patient.pk}/?section=plan")
    page.get_by_role("region", name="Harvest and bedside").get_by_role("link", name="Bedside check").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bedside check")
    barcode = f"={product.din}{product.din_flags}"

    _check(page, someone_else.mrn, barcode)
    verdict = page.get_by_role("alert")
    expect(verdict).to_contain_text("HARD STOP")
    expect(verdict).to_contain_text("Do not administer.")
    expect(verdict).to_contain_text("was made from another patient's cells and is for that patient only")
    expect(page.get_by_role("button", name="Record administration")).to_have_count(0)

    _check(page, patient.mrn, barcode)
    expect(page.get_by_role("heading", level=1)).to_have_text("PASS: Bedside check passed")
    expect(page.locator(".din-check")).to_contain_text(product.din_check)
    page.get_by_role("button", name="Record administration").click()
    _said(page, f"The administration of {product.din} to Grace HOPPER is recorded")
    _fits(page, phone=True)
    assert _timeline(page) == ["Released", "Issued", "Shipped", "Received", "Administered"]

    _check(page, patient.mrn, product.din)
    verdict = page.get_by_role("alert")
    expect(verdict).to_contain_text("HARD STOP")
    expect(verdict).to_contain_text("has already been administered; a product is given once only")
    expect(page.get_by_role("button", name="Record administration")).to_have_count(0)


def test_a_specimen_goes_from_the_harvest_to_the_bedside_through_the_pages(
    page, dr_ada, nurse_bo, lab_li, qa_quinn, patient_a, clinic_a, lab
):
    lab_ready(lab)
    plan = pathway_to("planned", patient_a, dr_ada, therapy=CULTURED).plan
    # The consent was signed a day before the harvest (a harvest is timed to the minute).
    Consent.objects.filter(pk=plan.consent_id).update(
        patient_signed_at=F("patient_signed_at") - timedelta(days=1),
        practitioner_signed_at=F("practitioner_signed_at") - timedelta(days=1),
    )
    someone_else = patient_create(
        site=clinic_a,
        actor=dr_ada,
        data={
            "given_name": "Ada",
            "family_name": "Lovelace",
            "date_of_birth": date(1985, 12, 10),
            "sex_at_birth": "female",
            "presenting_concern": "scar",
        },
    )
    page.set_viewport_size(DESKTOP)

    specimen = _practitioner_harvests_and_sends(page, patient_a, plan)
    batch = _technician_receives_and_processes(page, specimen)
    _reviewer_releases(page, batch)
    products = _technician_ships(page, batch)
    _nurse_receives(page, products[0])
    _practitioner_checks_and_gives(page, patient_a, someone_else, products[0])

    # Every hand-off on the specimen's timeline, in order, as the clinic reads it.
    page.set_viewport_size(DESKTOP)
    page.goto(f"/lab/specimens/{specimen.pk}/")
    assert _timeline(page) == ["Collected", "Packed", "Shipped", "Received", "Processing started"]
    page.goto(f"/lab/products/{products[1].din}/")
    assert _timeline(page) == ["Released", "Issued", "Shipped", "Received"]
    products[0].refresh_from_db()
    assert products[0].status == "administered"
