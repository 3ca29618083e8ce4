"""In a real browser on a phone: preview and save a plan, read its timeline, and the patient's portal."""

import pytest
from playwright.sync_api import expect

from cellclinic.treatment.models import TreatmentPlan
from cellclinic.treatment.tests.helpers import in_days, pathway_to
from conftest import PASSWORD
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def _fits_a_phone(page, path: str) -> None:
    assert page.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways on a phone"
    assert page.locator("h1").count() == 1


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
    _fits_a_phone(page, path)
    assert TreatmentPlan.objects.count() == 0
    page.get_by_role("button", name="Save the plan").click()
    page.wait_for_url("**/plans/*/")
    expect(page.get_by_text("The treatment plan is saved.")).to_be_visible()
    expect(page.locator("svg.timeline-chart")).to_be_visible()
    expect(page.locator('.tl-steps li[aria-current="step"]')).to_contain_text("Harvest")
    _fits_a_phone(page, page.url)


def test_the_patient_reads_the_plan_in_the_portal_on_a_phone(page, pat, patient_a, dr_ada):
    pathway_to("planned", patient_a, dr_ada, in_days=2)
    page.set_viewport_size(PHONE)
    page.goto("/sign-in/")
    page.get_by_label("Username").fill(pat.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/patients/portal/")
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    expect(page.get_by_text("A small sample is taken")).to_be_visible()
    expect(page.locator("svg.timeline-chart")).to_be_visible()
    _fits_a_phone(page, "/patients/portal/")
