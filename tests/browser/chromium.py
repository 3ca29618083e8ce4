"""Debian's chromium driven by Playwright, and signing in through the real pages as a person would: used
by the browser tests and by scripts/screenshots.py.

Staff sign in with a password and a code from an authenticator app. At a staff member's first sign-in the
set-up page shows the secret to type into the app; these helpers read it there, remember it, and compute
the codes the app would show.
"""

import base64
import shutil
import time

from django_otp.oath import TOTP

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

# The authenticator secret each staff member set up in this run, and the last time step used with it
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
