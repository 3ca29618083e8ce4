"""The lab's pages in a browser, on a desk and on a 390 px phone: one heading, labelled controls, nothing
past the screen's edge, tap targets of 44 px, the keyboard reaching every link; lab staff read no patient
name, clinic staff read their patient's name and find the lab's panel on the chart."""

import pytest
from playwright.sync_api import expect

from cellclinic.lab.tests import rows
from conftest import PASSWORD
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import DUPLICATE_IDS, UNLABELLED_CONTROLS
from tests.browser.test_phone import PAST_THE_EDGE, SMALL_TARGETS

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def story(patient_a, dr_ada, lab_li, lab):
    """Grace Hopper's cells from harvest to a product at the clinic, a QC result corrected on the way."""
    told = rows.story(patient_a, dr_ada, lab_li)
    told.lot = rows.donor_lot(lab, lab_li, eligible=False)
    return told


def _check(page, path, size):
    response = page.goto(path)
    assert response.status == 200, path
    assert page.locator("h1").count() == 1, f"{path} should have exactly one h1"
    assert page.evaluate(UNLABELLED_CONTROLS) == [], f"unlabelled controls on {path}"
    assert page.evaluate(DUPLICATE_IDS) == [], f"ids used twice on {path}"
    assert page.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways"
    if size is PHONE:
        assert page.evaluate(PAST_THE_EDGE) == [], f"{path} has content past the screen's edge"
        assert page.evaluate(SMALL_TARGETS) == [], f"{path} has tap targets under 44 px"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to content", path


def _tab_to(page, name: str, most: int = 60) -> None:
    """Press Tab until the link or button named NAME has the focus."""
    page.locator("body").focus()
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == name:
            return
    raise AssertionError(f"{name!r} is not reached from the keyboard")


def _lab_paths(story) -> list[str]:
    return [
        "/lab/",
        "/lab/waiting/?item=batches-in-process",
        f"/lab/specimens/{story.specimen.pk}/",
        f"/lab/batches/{story.batch.pk}/",
        f"/lab/products/{story.product.din}/",
        "/lab/donor-lots/",
        f"/lab/donor-lots/{story.lot.pk}/",
    ]


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_lab_staff_pages_are_accessible_and_name_no_patient(page, story, lab_li, patient_a, size):
    page.set_viewport_size(size)
    sign_in(page, "li", PASSWORD)
    secrets = [patient_a.given_name, patient_a.family_name, patient_a.mrn, "9 December 1980"]
    for path in _lab_paths(story):
        _check(page, path, size)
        text = page.locator("body").inner_text()
        for secret in secrets:
            assert secret.lower() not in text.lower(), f"{secret!r} is shown to a lab technician on {path}"
    page.goto(f"/lab/products/{story.product.din}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(story.product.din_check)
    expect(page.locator(".din-check")).to_have_css("border-top-style", "solid")
    _tab_to(page, "Print the product label (PDF)")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_clinic_staff_pages_are_accessible_and_name_their_patient(page, story, dr_ada, patient_a, size):
    page.set_viewport_size(size)
    sign_in(page, "ada", PASSWORD)
    for path in _lab_paths(story)[:5]:
        if "waiting" in path:
            path = "/lab/waiting/?item=specimens-to-ship"
        _check(page, path, size)
    page.goto(f"/lab/specimens/{story.specimen.pk}/")
    expect(page.locator(".subtitle")).to_contain_text("Grace HOPPER")
    expect(page.get_by_role("heading", level=1)).to_contain_text(story.chain.coi)
    _tab_to(page, "Print the specimen label (PDF)")
    # The chart's plan tab has the lab's panel; its links lead to the lab's pages.
    _check(page, f"/patients/{patient_a.pk}/?section=plan", size)
    panel = page.get_by_role("region", name="Cells and products")
    expect(panel).to_be_visible()
    panel.get_by_role("link", name=story.product.din).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Product")
    expect(page.get_by_text("For autologous use only")).to_be_visible()


def test_the_lab_link_and_its_count_are_reached_from_the_keyboard(page, story, lab_li):
    from cellclinic.lab import states
    from cellclinic.lab.models import Batch

    Batch.objects.filter(pk=story.batch.pk).update(status=states.BATCH_AWAITING_RELEASE)
    page.set_viewport_size(DESKTOP)
    sign_in(page, "li", PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    link = nav.get_by_role("link", name="Lab 1 waiting")
    expect(link).to_be_visible()
    _tab_to(page, "Lab 1 waiting")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lab")
    expect(page.get_by_role("region", name="Batches waiting for release by QA")).to_contain_text(
        story.batch.code
    )


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_lot_and_batch_record_pages_are_accessible(page, story, lab_li, size):
    """The reagent lots list and the pages that record lots, screening results, a donor lot's batch, a
    batch's cancellation, the disposal of banked cells and the expiry of products, open or saying why
    not."""
    page.set_viewport_size(size)
    sign_in(page, "li", PASSWORD)
    for path in (
        "/lab/reagent-lots/",
        "/lab/reagent-lots/new/",
        f"/lab/reagent-lots/new/?batch={story.batch.pk}",
        "/lab/donor-lots/new/",
        f"/lab/donor-lots/{story.lot.pk}/screening/",
        f"/lab/donor-lots/{story.lot.pk}/plan-batch/",
        f"/lab/batches/{story.batch.pk}/cancel/",
        f"/lab/batches/{story.batch.pk}/banked-cells/dispose/",
        "/lab/expired/",
    ):
        _check(page, path, size)
    page.goto("/lab/donor-lots/new/")
    expect(page.get_by_role("group", name="Donor screening and testing")).to_be_visible()
    _tab_to(page, "Record the lot")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_products_past_their_expiry_are_taken_out_of_use_from_the_lab_page(page, story, lab_li, size):
    """The lab's page offers the list of products past their expiry; its one button takes them out of
    use, from the keyboard."""
    from datetime import timedelta

    from django.utils import timezone

    from cellclinic.lab.models import Product

    Product.objects.filter(pk=story.product.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    page.set_viewport_size(size)
    sign_in(page, "li", PASSWORD)
    _check(page, "/lab/", size)
    _tab_to(page, "Take 1 expired product out of use")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Take expired products out of use")
    _check(page, "/lab/expired/", size)
    listed = page.get_by_role("region", name="Past their expiry")
    expect(listed.locator(".din-check")).to_have_text(f"check character {story.product.din_check}")
    expect(listed).to_contain_text("North Clinic")
    _tab_to(page, "Take them out of use")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lab")
    expect(page.get_by_text("1 product past its expiry is marked expired.")).to_be_visible()
    expect(page.get_by_role("link", name="Take 1 expired product out of use")).to_have_count(0)
