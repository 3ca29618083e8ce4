"""The patient chart in a browser: the summary header, then one section at a time, chosen from tabs that
load their section in place (and are plain links when JavaScript does not run), on a desk and a phone."""

import re

import pytest
from playwright.sync_api import expect

from cellclinic.demo.builder import at_stage
from cellclinic.patients.services import patient_update
from conftest import PASSWORD
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import check_page

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def chart(dr_ada, patient_a):
    """Grace Hopper with cold sores and an allergy to local anaesthetic, her plan under way."""
    patient_update(
        patient=patient_a,
        actor=dr_ada,
        data={"history": ["herpes_labialis"], "allergies": ["anaesthetic"]},
        reason="Corrected at the visit",
    )
    at_stage("planned", patient=patient_a, practitioner=dr_ada, password=PASSWORD)
    return f"/patients/{patient_a.pk}/"


def _tabs(page):
    return page.get_by_role("navigation", name="Chart sections")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_header_and_a_tab_loaded_in_place(page, chart, patient_a, size):
    page.set_viewport_size(size)
    sign_in(page, "ada", PASSWORD)
    page.goto(chart)
    expect(page.get_by_role("heading", level=1)).to_have_text("Grace HOPPER")
    expect(page.locator(".chart-identity")).to_contain_text(patient_a.mrn)
    expect(page.locator(".chart-identity")).to_contain_text("9 December 1980")
    alerts = page.get_by_role("region", name="Alerts")
    expect(alerts).to_contain_text("Cold sores (herpes labialis)")
    expect(alerts).to_contain_text("Local anaesthetic or adrenaline")
    expect(page.get_by_role("region", name="Pathway")).to_contain_text("Treatment plan active")
    expect(_tabs(page).get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name="Skin type and presenting concern")).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0, "the chart scrolls sideways"

    # A mark on the window survives only if the page is not loaded again.
    page.evaluate("() => { window.chartNotReloaded = true; }")
    consultations = _tabs(page).get_by_role("link", name="Consultations")
    consultations.click()
    expect(page.get_by_role("heading", name="Consultations", level=2)).to_be_visible()
    expect(page).to_have_url(re.compile(rf"{chart}\?section=consultations$"))
    expect(_tabs(page).get_by_role("link", name="Consultations")).to_have_attribute("aria-current", "page")
    expect(_tabs(page).get_by_role("link", name="Overview")).not_to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name="Skin type and presenting concern")).to_have_count(0)
    assert page.evaluate("() => window.chartNotReloaded === true"), "the tab reloaded the whole page"
    assert page.evaluate(OVERFLOW) <= 0, "the consultations section scrolls sideways"

    # From the keyboard: the tab keeps the focus once its section is in.
    _tabs(page).get_by_role("link", name="History").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="History of changes")).to_be_visible()
    history = _tabs(page).get_by_role("link", name="History")
    expect(history).to_have_attribute("aria-current", "page")
    expect(history).to_be_focused()
    assert page.evaluate("() => window.chartNotReloaded === true")
    assert page.evaluate(OVERFLOW) <= 0, "the history section scrolls sideways"


def test_every_tab_is_a_plain_link_without_javascript(page, chart):
    sign_in(page, "ada", PASSWORD)
    # Without htmx the tabs are ordinary links to the whole page with that section.
    page.route(re.compile(r".*/django_htmx/.*"), lambda route: route.abort())
    page.goto(chart)
    page.evaluate("() => { window.chartNotReloaded = true; }")
    _tabs(page).get_by_role("link", name="Contact and record").click()
    expect(page).to_have_url(re.compile(rf"{chart}\?section=record$"))
    expect(page.get_by_role("heading", name="Demographics")).to_be_visible()
    expect(_tabs(page).get_by_role("link", name="Contact and record")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Grace HOPPER")
    assert page.evaluate("() => window.chartNotReloaded === undefined"), "the link should load a new page"


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_section_as_a_whole_page_is_accessible(page, chart, size):
    page.set_viewport_size(size)
    sign_in(page, "ada", PASSWORD)
    for section in ("overview", "consultations", "consents", "plan", "record", "history"):
        check_page(page, f"{chart}?section={section}")
