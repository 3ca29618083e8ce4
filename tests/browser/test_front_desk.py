"""The front desk in a browser, at desktop and phone widths: a practitioner's start page hears of a new
consultation request from the public self-assessment, then of a patient's signature in the portal, both
on the worklist and in the notifications, and the emails are handed to the mail backend."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from cellclinic.demo.builder import at_stage
from cellclinic.notifications.models import Notification
from cellclinic.notifications.tests.conftest import run_due_tasks
from cellclinic.patients.services import patient_portal_account_create
from conftest import PASSWORD
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import OVERFLOW, UNLABELLED_CONTROLS
from tests.browser.test_pathway_end_to_end import ENQUIRER, _visitor_assesses_and_asks_for_a_consultation

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
DESK = {"width": 1280, "height": 800}
PATIENT_USERNAME = "carmen"
PATIENT_PASSWORD = "harbour willow signal 17"


def _nav_link(page, name: str):
    """A link of the main navigation; on a phone the navigation is behind its menu button."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible() and menu.get_attribute("aria-expanded") != "true":
        menu.click()
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name)


def _calm(page) -> None:
    assert page.locator("h1").count() == 1, page.url
    assert page.evaluate(UNLABELLED_CONTROLS) == [], page.url
    assert page.evaluate(OVERFLOW) <= 0, f"{page.url} scrolls sideways"


@pytest.mark.parametrize("viewport", [DESK, PHONE], ids=["desktop", "phone"])
def test_the_practitioner_hears_of_a_request_and_of_a_signature(
    browser, live_server, page, dr_ada, clinic_a, viewport
):
    page.set_viewport_size(viewport)
    sign_in(page, "ada", PASSWORD)
    page.goto("/")
    worklist = page.get_by_role("region", name="Waiting for you")
    expect(worklist).to_contain_text("No new requests: every request has been answered.")
    _calm(page)

    # A visitor on their own phone assesses themselves and asks this clinic for a consultation.
    visitor = browser.new_context(base_url=live_server.url, viewport=PHONE)
    try:
        _visitor_assesses_and_asks_for_a_consultation(visitor.new_page(), str(clinic_a))
    finally:
        visitor.close()

    page.reload()
    requests = page.get_by_role("region", name="New consultation requests")
    expect(requests.get_by_role("link", name=re.compile(ENQUIRER))).to_be_visible()
    expect(_nav_link(page, "Enquiries")).to_contain_text("1 waiting")
    _calm(page)
    # The enquirer's email leaves once the worker runs: it names the clinic and how to reach it.
    assert run_due_tasks() >= 1
    (to_enquirer,) = [message for message in mail.outbox if message.to == ["jo.rivers@example.org"]]
    assert clinic_a.name in to_enquirer.body

    # A registered patient of the practitioner reads and signs the consent prepared for them.
    pathway = at_stage("consent_prepared", practitioner=dr_ada, password=PASSWORD)
    patient = pathway.patient
    patient_portal_account_create(
        patient=patient, username=PATIENT_USERNAME, password=PATIENT_PASSWORD, actor=dr_ada
    )
    portal = browser.new_context(base_url=live_server.url, viewport=PHONE)
    try:
        patient_page = portal.new_page()
        sign_in(patient_page, PATIENT_USERNAME, PATIENT_PASSWORD)
        patient_page.get_by_role("region", name="Your consent forms").get_by_role(
            "link", name="Read and sign"
        ).click()
        for choice in ("Photographs for my clinical record", "Anonymous use of my outcomes in reports"):
            patient_page.get_by_role("group", name=choice).get_by_label("No", exact=True).check()
        patient_page.get_by_label("I have read and understood this consent").check()
        patient_page.get_by_label("Your password").fill(PATIENT_PASSWORD)
        patient_page.get_by_role("button", name="Sign the consent").click()
        expect(patient_page.get_by_text("Thank you. You have signed your consent.")).to_be_visible()
    finally:
        portal.close()

    page.reload()
    countersign = page.get_by_role("region", name="Consents to countersign")
    row = countersign.get_by_role("listitem").filter(has_text=patient.given_name)
    expect(row).to_contain_text("patient signed")
    _calm(page)
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.url.endswith(f"/consents/{pathway.consent.pk}/")

    _nav_link(page, re.compile(r"^Notifications")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    expect(page.locator("main")).to_contain_text(f"A consent was signed at {clinic_a.name}")
    _calm(page)
    signed = Notification.objects.get(recipient=dr_ada, kind="consent.signed")
    assert signed.read_at is None

    assert run_due_tasks() >= 1
    (to_practitioner,) = [message for message in mail.outbox if message.to == [dr_ada.email]]
    assert "signed" in to_practitioner.subject
    # Email is no place for health data: the practitioner signs in to see whose consent it is.
    assert patient.family_name not in to_practitioner.body
    assert patient.mrn not in to_practitioner.body
    signed.refresh_from_db()
    assert signed.status == Notification.Status.SENT
