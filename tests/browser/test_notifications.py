"""The notification pages in a browser: one heading, labelled controls, no sideways scroll on a phone,
and reading a notification from the keyboard."""

import pytest
from playwright.sync_api import expect

from cellclinic.notifications.models import Notification
from cellclinic.notifications.services import notify
from conftest import PASSWORD, make_user
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import DUPLICATE_IDS, OVERFLOW, UNLABELLED_CONTROLS

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def _check(page, path: str) -> None:
    response = page.goto(path)
    assert response.status == 200, path
    assert page.locator("h1").count() == 1, path
    assert page.evaluate(UNLABELLED_CONTROLS) == [], path
    assert page.evaluate(DUPLICATE_IDS) == [], path
    assert page.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways on a phone"


def test_a_patient_reads_a_notification_on_a_phone_from_the_keyboard(page, clinic_a):
    maya = make_user("maya", first="Maya", last="Thompson", kind="patient")
    notify(
        kind="plan.made",
        template="treatment/notifications/plan_made",
        site=clinic_a,
        recipient=maya,
        link="/account/",
        context={"steps": []},
    )
    page.set_viewport_size(PHONE)
    sign_in(page, "maya", PASSWORD)
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("link", name="Notifications 1 waiting")).to_be_visible()
    _check(page, "/notifications/")
    link = page.get_by_role("link", name="New Your treatment plan at North Clinic is ready")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/account/")
    assert Notification.objects.get().read_at is not None
    page.goto("/notifications/")
    expect(page.get_by_role("button", name="Mark all as read")).to_have_count(0)


def test_a_clinic_admin_sends_a_failed_email_again_on_a_phone(page, clinic_a, admin_al):
    failed = notify(
        kind="enquiry.received",
        template="candidacy/notifications/request_received",
        site=clinic_a,
        email="a-very-long-address-that-could-push-the-page-sideways@example.org",
        context={"name": "Noor Haddad"},
    )
    Notification.objects.filter(pk=failed.pk).update(
        status=Notification.Status.FAILED, attempts=5, last_error="SMTPException: 550 mailbox unavailable"
    )
    page.set_viewport_size(PHONE)
    sign_in(page, "al", PASSWORD)
    _check(page, "/notifications/")
    page.get_by_role("link", name="Emails that could not be sent from your clinic").click()
    _check(page, "/notifications/failed/")
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_text("is queued to be sent again")).to_be_visible()
    assert Notification.objects.get().status == Notification.Status.QUEUED
    expect(page.get_by_text("Every email from your clinics went out")).to_be_visible()
