"""The staff worklist on a phone: one heading, no sideways scroll, every row reachable by keyboard."""

import pytest

from cellclinic.accounts.tests.test_home_worklist import build_work
from conftest import PASSWORD
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
FOCUSED_IN_WORKLIST = "() => !!document.activeElement.closest('.worklist-rows')"


def test_a_practitioner_works_through_the_worklist_on_a_phone(page, dr_ada):
    work = build_work(dr_ada)
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, "ada", PASSWORD)
    page.goto("/")
    assert page.locator("h1").count() == 1
    assert page.evaluate(OVERFLOW) <= 0, "the start page scrolls sideways on a phone"
    assert page.locator(".worklist-item").count() == 7
    # From the top of the page the keyboard reaches the first row of the worklist.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED_IN_WORKLIST):
            break
    else:
        pytest.fail("no worklist row is reachable with the Tab key")
    page.locator(".worklist").get_by_role("link", name="COUNTERSIGN, Cora").click()
    page.wait_for_url(f"**/consents/{work['to_countersign'][0].consent.pk}/")
    assert page.locator("h1").count() == 1


def test_a_nurse_with_nothing_waiting_reads_so_calmly(page, nurse_bo):
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, "bo", PASSWORD)
    page.goto("/")
    assert page.get_by_text("No new requests: every request has been answered.").is_visible()
    assert page.evaluate(OVERFLOW) <= 0
