"""The whole UI on a phone (375 × 740): nothing scrolls sideways, the navigation folds behind a menu
button that works from the keyboard, tables read as cards, long addresses wrap, controls stay tappable."""

import pytest
from playwright.sync_api import expect

from cellclinic.patients.services import patient_update
from conftest import PASSWORD
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# Buttons, the menu's links and disclosure summaries shorter than a 44 px tap target.
SMALL_TARGETS = """
() => Array.from(document.querySelectorAll('button, .btn, summary, .mainnav a, input[type=submit]'))
  .filter(el => el.offsetParent !== null)
  .filter(el => el.getBoundingClientRect().height < 43.5)
  .map(el => el.outerHTML.slice(0, 100))
"""
# Elements whose right edge passes the screen's (something pushed wide, or cut off).
PAST_THE_EDGE = """
() => Array.from(document.querySelectorAll('main *'))
  .filter(el => el.offsetParent !== null && !el.closest('.table-wrap:not(:has(td[data-label]))'))
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .map(el => el.outerHTML.slice(0, 100))
"""
LONG_EMAIL = "grace.brewster.murray.hopper.the.longest.address@north-clinic-skin-cell-therapy.example.org"


@pytest.fixture
def phone(page):
    page.set_viewport_size(PHONE)
    return page


def check_fits(page, path):
    response = page.goto(path)
    assert response.status == 200, path
    assert page.locator("h1").count() == 1, f"{path} should have exactly one h1"
    assert page.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways on a phone"
    assert page.evaluate(PAST_THE_EDGE) == [], f"{path} has content past the screen's edge"
    assert page.evaluate(SMALL_TARGETS) == [], f"{path} has tap targets under 44 px"


def menu_opens_from_the_keyboard(page, expected_links):
    """Tab to the menu button, open it with Enter: the links (with their counts) appear; Escape shuts it."""
    button = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    page.locator("body").focus()
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "nav-toggle":
            break
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    for name in expected_links:
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    assert page.evaluate(SMALL_TARGETS) == [], "menu links under 44 px"
    assert page.evaluate(OVERFLOW) <= 0, "the open menu scrolls sideways"
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link").first).to_be_focused()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(button).to_be_focused()


def test_practitioner_pages_fit_a_phone_and_the_menu_opens_from_the_keyboard(phone, dr_ada, patient_a):
    sign_in(phone, "ada", PASSWORD)
    for path in (
        "/",
        "/patients/",
        "/patients/?q=hopper",
        f"/patients/{patient_a.pk}/",
        f"/patients/{patient_a.pk}/edit/",
        "/patients/new/",
        "/catalogue/",
        "/catalogue/autologous_skin_cell_suspension/",
        "/account/",
    ):
        check_fits(phone, path)
    phone.goto("/patients/")
    menu_opens_from_the_keyboard(phone, ["Home", "Patients", "My account"])


def test_a_table_reads_as_one_card_per_row_with_each_value_labelled(phone, dr_ada, patient_a):
    sign_in(phone, "ada", PASSWORD)
    phone.goto("/patients/")
    expect(phone.locator("table.data thead")).not_to_be_visible()
    cell = phone.locator("table.data td", has_text=patient_a.mrn)
    expect(cell).to_be_visible()
    assert cell.get_attribute("data-label") == "MRN"
    assert cell.evaluate("td => getComputedStyle(td, '::before').content") == '"MRN"'
    assert cell.evaluate("td => getComputedStyle(td).display") == "block"
    row = phone.locator("table.data tbody tr").first
    assert row.bounding_box()["width"] <= PHONE["width"]
    name_cell = row.locator("td").first
    # The cells of a card stack: each starts below the one before it, at the same left edge.
    second = row.locator("td").nth(1)
    assert (
        second.bounding_box()["y"] >= name_cell.bounding_box()["y"] + name_cell.bounding_box()["height"] - 1
    )
    assert abs(second.bounding_box()["x"] - name_cell.bounding_box()["x"]) < 1


def test_check_boxes_keep_their_size_beside_long_labels(phone, dr_ada):
    sign_in(phone, "ada", PASSWORD)
    phone.goto("/patients/new/")
    boxes = phone.locator("input[type=checkbox]:visible, input[type=radio]:visible")
    assert boxes.count() > 0
    sizes = boxes.evaluate_all(
        "els => els.map(el => [el.getBoundingClientRect().width, el.getBoundingClientRect().height])"
    )
    assert all(width >= 17.5 and height >= 17.5 and abs(width - height) < 0.5 for width, height in sizes), (
        sizes
    )


def test_nurse_pages_fit_a_phone(phone, nurse_bo, patient_a):
    sign_in(phone, "bo", PASSWORD)
    for path in ("/", "/patients/", "/enquiries/", "/catalogue/", "/account/"):
        check_fits(phone, path)


def test_clinic_admin_pages_fit_a_phone_and_a_long_email_wraps(phone, admin_al, nurse_bo, dr_ada, patient_a):
    nurse_bo.email = LONG_EMAIL
    nurse_bo.save(update_fields=["email"])
    sign_in(phone, "al", PASSWORD)
    for path in (
        "/",
        "/audit/",
        f"/audit/?patient={patient_a.mrn}",
        "/audit/?log=access",
        "/staff/",
        "/staff/new/",
        f"/staff/{nurse_bo.pk}/",
        "/account/",
    ):
        check_fits(phone, path)
    phone.goto(f"/staff/{nurse_bo.pk}/")
    email = phone.get_by_text(LONG_EMAIL, exact=True)
    expect(email).to_be_visible()
    box = email.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    line_height = email.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
    assert box["height"] > 1.5 * line_height, "the address wraps onto more lines rather than overflow"
    menu_opens_from_the_keyboard(phone, ["Home", "Staff", "Audit trail", "My account"])


def test_the_audit_trail_reads_as_cards_of_changes_on_a_phone(phone, admin_al, dr_ada, patient_a):
    notes = "Partial thickness scald to the left forearm, dressed at the burns unit for three weeks. " * 3
    patient_update(patient=patient_a, actor=dr_ada, data={"history_notes": notes}, reason="history taken")
    sign_in(phone, "al", PASSWORD)
    check_fits(phone, f"/audit/?patient={patient_a.mrn}")
    # A long value is cut short on its line; the whole of it opens from the keyboard.
    more = phone.get_by_text("Show “Notes on the history” in full")
    expect(more).to_be_visible()
    whole = phone.locator(".change-full p", has_text=notes.strip())
    expect(whole).to_have_count(1)
    expect(whole).to_be_hidden()
    more.focus()
    phone.keyboard.press("Enter")
    expect(whole).to_be_visible()
    assert phone.evaluate(OVERFLOW) <= 0
    changes = phone.locator("td.changes").last  # the registration, oldest, comes last
    expect(changes).to_be_visible()
    assert changes.evaluate("td => getComputedStyle(td, '::before').content") == '"Changes"'
    expect(changes).to_contain_text("Date of birth: 9 Dec 1980")
    assert changes.bounding_box()["x"] + changes.bounding_box()["width"] <= PHONE["width"]
    # The filters stack: each label sits above its input.
    label = phone.get_by_text("Object type", exact=True)
    field = phone.get_by_label("Object type")
    assert label.bounding_box()["y"] + label.bounding_box()["height"] <= field.bounding_box()["y"] + 1


def test_lab_and_quality_pages_fit_a_phone(phone, lab_li, qa_quinn):
    sign_in(phone, "li", PASSWORD)
    for path in ("/", "/catalogue/", "/account/"):
        check_fits(phone, path)
    phone.get_by_role("button", name="Sign out").click()
    sign_in(phone, "quinn", PASSWORD)
    for path in ("/", "/catalogue/", "/account/"):
        check_fits(phone, path)


def test_the_patient_portal_fits_a_phone(phone, pat):
    sign_in(phone, "pat", PASSWORD)
    for path in ("/patients/portal/", "/account/"):
        check_fits(phone, path)
    menu_opens_from_the_keyboard(phone, ["My record", "My account"])


def test_without_javascript_the_navigation_is_shown_in_full(browser, live_server, pat):
    """The menu button needs the script; without it the links are all shown, wrapping, and still fit."""
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/sign-in/")
        page.get_by_label("Username").fill("pat")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="My record")).to_be_visible()
        expect(nav.get_by_role("link", name="My account")).to_be_visible()
        assert page.evaluate(OVERFLOW) <= 0
    finally:
        context.close()


def test_the_sign_in_and_public_pages_fit_a_phone(phone):
    for path in ("/sign-in/", "/assess/"):
        response = phone.goto(path)
        assert response.status == 200
        assert phone.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways on a phone"
        assert phone.evaluate(SMALL_TARGETS) == [], f"{path} has tap targets under 44 px"
