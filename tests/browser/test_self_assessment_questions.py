"""The public self-assessment in a real browser: choosing a concern brings its questions into the page
without a reload, unchoosing takes them away, and nothing typed is lost on the way."""

import re

import pytest
from playwright.sync_api import expect

from cellclinic.candidacy.models import Assessment
from tests.browser.conftest import answer_health_questions
from tests.browser.test_accessibility import DUPLICATE_IDS, OVERFLOW, UNLABELLED_CONTROLS

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
VITILIGO = "Vitiligo (white patches where the skin has lost its colour)"
SCARRING = "Scarring (for example from acne, an injury or surgery)"
STABLE = "If you have vitiligo: for how many months has it been stable?"
DIAGNOSED = re.compile("Has a doctor diagnosed the cause of your light patches")
OPEN = re.compile("Is the skin still open")
INJURY = re.compile("How many months ago did the injury")


def assert_accessible(page) -> None:
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    assert page.evaluate(DUPLICATE_IDS) == []
    assert page.locator("h1").count() == 1
    assert page.evaluate(OVERFLOW) <= 0, "the self-assessment scrolls sideways"


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_choosing_a_concern_shows_its_questions_and_keeps_what_was_typed(page, db, size):
    page.set_viewport_size(size)
    page.goto("/assess/")
    assert_accessible(page)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to content"
    questions = page.locator("#condition-questions")
    expect(questions).to_contain_text("When you choose what you would like treated")
    expect(page.get_by_label(STABLE)).to_have_count(0)
    expect(page.get_by_role("button", name="Show the questions for my choices")).to_have_count(0)
    page.evaluate("() => { window.sameDocument = true; }")

    page.get_by_label("Your age in years").fill("34")
    # From the keyboard: the concern's box takes focus and Space ticks it.
    page.get_by_label(VITILIGO).focus()
    page.keyboard.press("Space")
    expect(page.get_by_label(STABLE)).to_be_visible()
    expect(questions.get_by_role("group", name="About your vitiligo")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Questions about your vitiligo are below.")
    expect(page.get_by_role("group", name=OPEN)).to_have_count(0)
    page.get_by_role("group", name=DIAGNOSED).get_by_label("Yes", exact=True).check()
    page.get_by_label(STABLE).fill("18")

    page.get_by_label(SCARRING).check()
    expect(page.get_by_role("group", name=OPEN)).to_be_visible()
    expect(page.get_by_label(STABLE)).to_have_value("18")
    expect(page.get_by_role("group", name=DIAGNOSED).get_by_label("Yes", exact=True)).to_be_checked()
    expect(page.get_by_label("Your age in years")).to_have_value("34")
    assert_accessible(page)

    page.get_by_label(VITILIGO).uncheck()
    expect(page.get_by_label(STABLE)).to_have_count(0)
    expect(page.get_by_role("group", name=DIAGNOSED)).to_have_count(0)
    expect(page.get_by_role("group", name=OPEN)).to_be_visible()
    expect(questions.get_by_role("group", name="About your scarring")).to_be_visible()
    assert page.evaluate("() => window.sameDocument") is True, "the page was reloaded"
    assert_accessible(page)

    page.get_by_label("Where on your body?").select_option("face")
    answer_health_questions(page)
    page.get_by_role("group", name=OPEN).get_by_label("No", exact=True).check()
    page.get_by_label(INJURY).fill("30")
    page.get_by_role("group", name="What are you hoping for?").get_by_label(
        "A gradual improvement over months"
    ).check()
    page.get_by_role("button", name="See my result").click()

    expect(page).to_have_url(re.compile(r"/assess/result/[0-9a-f-]+/$"))
    assessment = Assessment.objects.get()
    assert assessment.answers["concerns"] == ["scar"]
    assert assessment.answers["condition"]["vitiligo_stable_months"] is None
    assert assessment.answers["condition"]["months_since_injury"] == 30


def test_a_missing_answer_is_named_at_the_top_and_the_link_goes_to_the_question(page, db):
    page.set_viewport_size(PHONE)
    page.goto("/assess/")
    page.get_by_label(VITILIGO).check()
    expect(page.get_by_label(STABLE)).to_be_visible()
    page.get_by_role("button", name="See my result").click()

    summary = page.locator(".candidacy-error-summary")
    expect(summary.get_by_role("heading", name="Some answers need another look")).to_be_visible()
    message = f"Enter the number of months for “{STABLE}”, or tick “I am not sure”."
    expect(page.locator(".field-invalid .error", has_text=message)).to_be_visible()
    summary.get_by_role("link", name=message).click()
    expect(page.get_by_label(STABLE)).to_be_focused()
    expect(page.get_by_label(VITILIGO)).to_be_checked()
    assert_accessible(page)
    assert not Assessment.objects.exists()


def test_without_javascript_a_button_shows_the_questions_for_the_choices(browser, live_server, db):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/assess/")
        expect(page.get_by_label(STABLE)).to_have_count(0)
        page.get_by_label(VITILIGO).check()
        page.get_by_label("Your age in years").fill("34")
        page.get_by_role("button", name="Show the questions for my choices").click()

        expect(page.get_by_label(STABLE)).to_be_visible()
        expect(page.get_by_label(VITILIGO)).to_be_checked()
        expect(page.get_by_label("Your age in years")).to_have_value("34")
        expect(page.locator(".candidacy-error-summary")).to_have_count(0)
        assert_accessible(page)
        page.get_by_label("Where on your body?").select_option("face")
        answer_health_questions(page)
        page.get_by_role("group", name=DIAGNOSED).get_by_label("Yes", exact=True).check()
        page.get_by_label(STABLE).fill("18")
        page.get_by_role("group", name=re.compile("Have you tried creams")).get_by_label(
            "Yes", exact=True
        ).check()
        page.get_by_role("group", name="What are you hoping for?").get_by_label(
            "A gradual improvement over months"
        ).check()
        page.get_by_role("button", name="See my result").click()

        expect(page).to_have_url(re.compile(r"/assess/result/[0-9a-f-]+/$"))
        expect(page.locator(".candidacy-outcome")).to_have_text("You may be a suitable candidate")
    finally:
        context.close()
