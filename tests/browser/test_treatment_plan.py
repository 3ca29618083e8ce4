"""In a real browser, on a phone and a desktop: preview and save a plan, read its dated timeline, and the
patient's portal with what happens next."""

import re

import pytest
from playwright.sync_api import expect

from cellclinic.treatment.models import TreatmentPlan
from cellclinic.treatment.services import plans_stop_for_consent
from cellclinic.treatment.tests.helpers import in_days, pathway_to
from conftest import PASSWORD
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import DUPLICATE_IDS, UNLABELLED_CONTROLS

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# The smallest text in the visible drawing, in CSS pixels as drawn on the screen.
SMALLEST_TEXT = """
(selector) => Math.min(...Array.from(document.querySelectorAll(selector + ' text'))
  .map(el => el.getBoundingClientRect().height).filter(h => h > 0))
"""


def _accessible(page, path: str) -> None:
    assert page.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways"
    assert page.locator("h1").count() == 1
    assert page.evaluate(UNLABELLED_CONTROLS) == [], f"unlabelled controls on {path}"
    assert page.evaluate(DUPLICATE_IDS) == [], f"ids used twice on {path}"


def _dated_timeline(page, shown: str, hidden: str) -> None:
    """The drawing for this width is shown (the other hidden), with today, a dated axis and legible text."""
    chart = page.locator(f"svg.tl-chart-{shown}").first
    expect(chart).to_be_visible()
    expect(page.locator(f"svg.tl-chart-{hidden}").first).to_be_hidden()
    expect(chart.locator("text.tl-today-label")).to_have_text("Today")
    months = chart.locator("g.tl-tick text:not(.tl-year)")
    assert months.count() >= 2
    # The year stands under the first month label.
    expect(chart.locator("g.tl-tick").first.locator("text.tl-year")).to_have_text(re.compile(r"^20\d\d$"))
    # Numbered marks match the numbered list, which stays the full account of every step.
    assert chart.locator("g.tl-mark").count() == page.locator(".tl-steps").first.locator("li").count()
    assert page.evaluate(SMALLEST_TEXT, f"svg.tl-chart-{shown}") >= 9


def test_a_practitioner_previews_then_saves_a_plan_on_a_phone(page, dr_ada, patient_a):
    consultation = pathway_to("consent_signed", patient_a, dr_ada).consultation
    page.set_viewport_size(PHONE)
    sign_in(page, dr_ada.username, PASSWORD)
    path = f"/plans/new/{consultation.pk}/"
    page.goto(path)
    page.get_by_label("Harvest date").fill(in_days(3).isoformat())
    page.get_by_role("button", name="Show the timeline").click()
    expect(page.get_by_role("heading", name="Timeline preview (not saved yet)")).to_be_visible()
    expect(page.locator(".tl-steps li").first).to_contain_text("Harvest")
    _dated_timeline(page, "narrow", "wide")
    _accessible(page, path)
    assert TreatmentPlan.objects.count() == 0
    page.get_by_role("button", name="Save the plan").click()
    page.wait_for_url("**/plans/*/")
    expect(page.get_by_text("The treatment plan is saved.")).to_be_visible()
    _dated_timeline(page, "narrow", "wide")
    expect(page.locator('.tl-steps li[aria-current="step"]')).to_contain_text("Harvest")
    _accessible(page, page.url)


def test_the_plan_timeline_on_a_desktop_shows_dates_today_and_cancelled_steps(page, dr_ada, patient_a):
    plan = pathway_to("planned", patient_a, dr_ada, in_days=5).plan
    page.set_viewport_size(DESKTOP)
    sign_in(page, dr_ada.username, PASSWORD)
    path = f"/plans/{plan.pk}/"
    page.goto(path)
    _dated_timeline(page, "wide", "narrow")
    expect(page.locator("svg.tl-chart-wide .tl-break").first).to_be_attached()
    first = plan.steps.first().due_date
    expect(page.locator(".tl-steps li").first.locator("time")).to_have_attribute(
        "datetime", first.isoformat()
    )
    _accessible(page, path)
    plans_stop_for_consent(consent=plan.consent, actor=dr_ada, reason="Paused at the patient's request")
    page.goto(path)
    expect(page.locator(".tl-steps li").first).to_contain_text("Cancelled")
    assert page.locator("svg.tl-chart-wide g.tl-cancelled").count() == plan.steps.count()
    page.set_viewport_size(PHONE)
    _dated_timeline(page, "narrow", "wide")
    _accessible(page, path)


def test_the_patient_reads_the_plan_in_the_portal_on_a_phone(page, pat, patient_a, dr_ada):
    pathway_to("planned", patient_a, dr_ada, in_days=2)
    page.set_viewport_size(PHONE)
    page.goto("/sign-in/")
    page.get_by_label("Username").fill(pat.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/patients/portal/")
    headings = page.locator("main h2").all_inner_texts()
    assert headings[0] == "What happens next"
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    expect(page.get_by_text("A small sample is taken")).to_be_visible()
    _dated_timeline(page, "narrow", "wide")
    expect(page.locator(".tl-steps li").first).to_contain_text("Coming up")
    _accessible(page, "/patients/portal/")
    page.set_viewport_size(DESKTOP)
    _dated_timeline(page, "wide", "narrow")
    _accessible(page, "/patients/portal/")
