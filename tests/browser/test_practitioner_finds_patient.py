"""A practitioner signs in, searches for a patient and opens the chart."""

import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_practitioner_searches_and_opens_the_chart(page, dr_ada, patient_a, patient_b):
    sign_in(page, "ada", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    expect(page).to_have_url(re.compile(r"/patients/$"))

    page.get_by_label(re.compile("Search patients")).fill("hopper")
    table = page.locator("table.data")
    expect(table).to_contain_text("HOPPER")
    # Only North Clinic's patients are listed for a North Clinic practitioner.
    expect(page.locator("main")).not_to_contain_text("Franklin")

    page.get_by_role("link", name=re.compile("HOPPER", re.IGNORECASE)).first.click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient_a.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Grace")
    expect(page.locator("main")).to_contain_text(patient_a.mrn)


def test_practitioner_cannot_open_another_clinics_chart(page, dr_ada, patient_b):
    sign_in(page, "ada", PASSWORD)
    response = page.goto(f"/patients/{patient_b.pk}/")
    assert response.status == 404
    expect(page.locator("main")).not_to_contain_text("Franklin")
    expect(page.locator("main")).not_to_contain_text(patient_b.mrn)
