"""Playwright driving Debian's chromium against the live test server."""

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

# Shared with scripts/screenshots.py; the browser tests import sign_in and set_up_code from here.
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, set_up_code, sign_in  # noqa: F401

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# The screening questions of the public self-assessment, as a visitor reads them.
SCREENING_QUESTIONS = (
    "Are you pregnant or breastfeeding?",
    "Do you have a skin infection where you would like treatment, or nearby?",
    "Do you take medicines that weaken the immune system, or are you having chemotherapy?",
    "Do you bruise or bleed easily, or take blood thinners, aspirin or anti-inflammatory painkillers?",
    "Have you ever had raised, thick scars (keloid or hypertrophic scars)?",
    "Have you had skin cancer where you would like treatment, or any other cancer?",
    "Do you have a genetic condition of the skin or connective tissue (for example Ehlers-Danlos or "
    "Marfan syndrome)?",
    "Are you allergic to local anaesthetic (the numbing injection) or adrenaline?",
    "Are you allergic to antiseptics, antibiotics, DMSO (used to freeze cells), trypsin (an enzyme) or "
    "animal products (beef, pork or mouse material)?",
    "Do you get cold sores?",
)


def answer_health_questions(page) -> None:
    """On the public self-assessment: generally fit and healthy, and "No" to every screening question."""
    page.get_by_role("group", name="Are you generally fit and healthy?").get_by_label(
        "Yes", exact=True
    ).check()
    for question in SCREENING_QUESTIONS:
        page.get_by_role("group", name=question, exact=True).get_by_label("No", exact=True).check()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is not installed (apt-get install chromium); `make test` installs it. "
            "Browser tests never skip."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context per test; a screenshot is kept when the test fails."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(10_000)
    third_party: list[str] = []
    page.on(
        "request",
        lambda req: (
            third_party.append(req.url)
            if not req.url.startswith(live_server.url) and not req.url.startswith("data:")
            else None
        ),
    )
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert third_party == [], f"pages called third parties: {third_party}"


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
