#!/usr/bin/env python
"""Screenshots of the main pages with demo data, at a desktop and a phone size (`make screenshots`).

It serves CellClinic with `cellclinic serve` (gunicorn) on a free port against a fresh temporary SQLite
database loaded with the demo, signs in through the real pages with Debian's chromium (Playwright, never a
downloaded browser), and saves full-page PNGs of the staff home, a patient's chart, a consultation, a
treatment plan and the patient portal, each at 1280×800 and 390×844:

    python scripts/screenshots.py                  # into var/screenshots/
    python scripts/screenshots.py --out /tmp/shots

The pages are found from the demo data by URL name (a plan at North Clinic, its consultation and its
patient's chart), so the script follows the pages as they change.
"""

import argparse
import json
import os
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from crash_drill import Server, cellclinic  # noqa: E402

DEFAULT_OUT = ROOT / "var" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
STAFF, PATIENT = "practitioner", "patient"  # demo sign-ins (cellclinic/demo/data.py)
# The pages to show, found by URL name from the demo data, and the demo password; as JSON.
FIND_PAGES = """
import json
from django.urls import reverse
from cellclinic.demo.data import DEMO_PASSWORD
from cellclinic.treatment.models import TreatmentPlan
plan = TreatmentPlan.objects.filter(site__code="NCL", status="active").order_by("id").first()
print(json.dumps({"password": DEMO_PASSWORD, "pages": {
    "home": reverse("accounts:home"),
    "chart": reverse("patients:detail", args=[plan.patient_id]),
    "consultation": reverse("consultations:detail", args=[plan.consultation_id]),
    "plan": reverse("treatment:detail", args=[plan.pk]),
    "portal": reverse("patients:portal"),
}}))
"""
# Who looks at each page.
READERS = {"home": STAFF, "chart": STAFF, "consultation": STAFF, "plan": STAFF, "portal": PATIENT}


def environment(folder: Path) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'screenshots.sqlite3'}",
        "CELLCLINIC_VAR_DIR": str(folder),
        "SECRET_KEY": "screenshots-" + secrets.token_hex(16),
        "DEBUG": "false",
        "PYTHONUNBUFFERED": "1",
    }


def capture(
    base: str, pages: dict[str, str], password: str, out: Path, say: Callable[[str], None]
) -> list[Path]:
    """Sign in as each reader, and save every page at every viewport size."""
    from playwright.sync_api import sync_playwright

    from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, sign_in

    if not Path(CHROMIUM).exists():
        raise SystemExit("Debian's chromium is not installed: apt-get install chromium (make install-test)")
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for reader in (STAFF, PATIENT):
                context = browser.new_context(base_url=base, viewport=VIEWPORTS["desktop"])
                page = context.new_page()
                page.set_default_timeout(30_000)
                say(f"signing in as {reader}")
                sign_in(page, reader, password)
                for name, path in pages.items():
                    if READERS[name] != reader:
                        continue
                    for size, viewport in VIEWPORTS.items():
                        page.set_viewport_size(viewport)
                        response = page.goto(path, wait_until="networkidle")
                        if response is None or response.status != 200:
                            status = response.status if response else "no answer"
                            raise RuntimeError(f"{name} page {path} answered {status}")
                        target = out / f"{name}-{size}.png"
                        page.screenshot(path=str(target), full_page=True, animations="disabled")
                        saved.append(target)
                        say(f"saved {target.name} ({viewport['width']}×{viewport['height']}, full page)")
                context.close()
        finally:
            browser.close()
    return saved


def main(out: Path = DEFAULT_OUT, say: Callable[[str], None] = print) -> list[Path]:
    """Make the ten screenshots in OUT; the paths saved."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cellclinic-screenshots-") as tmp:
        folder = Path(tmp)
        env = environment(folder)
        say("creating a fresh database with demo data")
        cellclinic(env, "migrate", "--noinput", "-v0")
        cellclinic(env, "demo")
        found = json.loads(cellclinic(env, "shell", "-v0", "-c", FIND_PAGES).strip().splitlines()[-1])
        server = Server(env)
        say(f"starting the app on {server.base}")
        server.start(timeout=120)
        try:
            saved = capture(server.base, found["pages"], found["password"], out, say)
        finally:
            server.stop()
    say(f"{len(saved)} screenshots in {out}")
    return saved


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the PNGs")
    main(parser.parse_args().out)
