"""Every page a clinician uses: labelled controls, one heading, keyboard entry, and a tablet-sized fit."""

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

UNLABELLED_CONTROLS = """
() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 120))
"""
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def check_page(page, path):
    response = page.goto(path)
    assert response.status == 200, path
    assert page.evaluate(UNLABELLED_CONTROLS) == [], f"unlabelled controls on {path}"
    assert page.locator("h1").count() == 1, f"{path} should have exactly one h1"
    assert page.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways on a tablet"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to content", path


def test_practitioner_pages_are_accessible_on_a_tablet(page, dr_ada, patient_a):
    page.set_viewport_size({"width": 768, "height": 1024})
    sign_in(page, "ada", PASSWORD)
    for path in (
        "/",
        "/patients/",
        "/patients/?q=hopper",
        f"/patients/{patient_a.pk}/",
        f"/patients/{patient_a.pk}/edit/",
        "/patients/new/",
        "/catalogue/",
        "/catalogue/autologous_skin_cell_suspension/",
    ):
        check_page(page, path)


def test_clinic_admin_pages_are_accessible_on_a_tablet(page, admin_al, nurse_bo, patient_a):
    page.set_viewport_size({"width": 768, "height": 1024})
    sign_in(page, "al", PASSWORD)
    for path in (
        "/audit/",
        f"/audit/?patient={patient_a.mrn}",
        "/staff/",
        "/staff/new/",
        f"/staff/{nurse_bo.pk}/",
        "/account/",
    ):
        check_page(page, path)


def test_the_sign_in_page_works_from_the_keyboard(page, dr_ada):
    page.goto("/sign-in/")
    expect(page.get_by_label("Username")).to_be_focused()  # focus is on the username on arrival
    page.keyboard.type("ada")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Good to see you")
