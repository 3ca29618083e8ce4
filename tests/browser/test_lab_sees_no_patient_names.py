"""A lab technician works without patient names on the pages that do not need them."""

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_lab_technician_pages_show_no_patient_names(page, lab_li, patient_a, patient_b):
    sign_in(page, "li", PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Therapies")).to_be_visible()
    expect(nav.get_by_role("link", name="Patients")).to_have_count(0)

    names = [patient_a.family_name, patient_a.given_name, patient_b.family_name, patient_a.mrn, patient_b.mrn]
    for path in ("/", "/catalogue/", "/patients/", f"/patients/{patient_a.pk}/", "/audit/"):
        page.goto(path)
        body = page.locator("body").inner_text()
        for name in names:
            assert name not in body, f"{name!r} is shown to a lab technician on {path}"
