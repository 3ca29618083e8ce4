"""Playwright driving Debian's chromium against the live test server."""

import base64
import shutil
import time
from pathlib import Path

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, chromium tries to reach Google's hosts at start-up; this machine has no such network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
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


# The authenticator secret each staff member set up in these tests, and the last time step used with it
# (a code is accepted once: a second sign-in within the same 30 seconds uses the next step's code).
_AUTHENTICATORS: dict[str, tuple[bytes, int]] = {}


def _authenticator_code(username: str) -> str:
    key, last_step = _AUTHENTICATORS[username]
    step = max(int(time.time()) // 30, last_step + 1)
    _AUTHENTICATORS[username] = (key, step)
    totp = TOTP(key, step=30, t0=0, digits=6)
    totp.time = step * 30
    return f"{totp.token():06d}"


def set_up_code(page, username: str) -> str:
    """On the set-up page: read the secret as a person would type it into their app; the app's code now."""
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    _AUTHENTICATORS[username] = (base64.b32decode(secret + "=" * (-len(secret) % 8)), 0)
    return _authenticator_code(username)


def sign_in(page, username: str, password: str) -> None:
    """Sign in through the real pages: the password, then (staff, or a patient who has one) the second
    factor, setting up the authenticator on the first sign-in as a new staff member would."""
    page.goto("/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # Signed in when the page offers to sign out (the sign-in page itself would match any URL wait).
    page.get_by_role("button", name="Sign out").wait_for()
    if "/sign-in/two-factor/set-up/" in page.url:
        page.get_by_label("Code").fill(set_up_code(page, username))
        page.get_by_role("button", name="Confirm").click()
        page.get_by_role("link", name="I have kept my recovery codes — continue").click()
    elif "/sign-in/two-factor/" in page.url:
        page.get_by_label("Code").fill(_authenticator_code(username))
        page.get_by_role("button", name="Verify").click()
    page.wait_for_url(lambda url: "/sign-in/" not in url)
    page.get_by_role("button", name="Sign out").wait_for()
