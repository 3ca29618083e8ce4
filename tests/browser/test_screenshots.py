"""`make screenshots`: the script serves the demo, signs in, and saves ten full-page PNGs at two widths."""

import importlib.util
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshots.py"
PAGES = ("home", "chart", "consultation", "plan", "portal")
WIDTHS = {"desktop": 1280, "phone": 390}


def load_script():
    spec = importlib.util.spec_from_file_location("screenshots", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_screenshot_script_saves_each_page_at_desktop_and_phone_width(tmp_path):
    said: list[str] = []
    out = tmp_path / "screenshots"

    # In a thread of its own: Playwright's sync API refuses to start inside the event loop that the
    # other browser tests' session-wide browser leaves in this thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        saved = pool.submit(load_script().main, out, said.append).result()

    expected = {f"{page}-{size}.png" for page in PAGES for size in WIDTHS}
    assert {path.name for path in saved} == expected
    assert {path.name for path in out.iterdir()} == expected
    for name in expected:
        with Image.open(out / name) as image:
            assert image.format == "PNG", name
            width, height = image.size
        size = name.removesuffix(".png").split("-")[1]
        # Full page: as wide as the window (nothing wider than the screen) and at least as tall.
        assert width == WIDTHS[size], name
        assert height >= {"desktop": 800, "phone": 844}[size], name
    # Progress was shown for each screenshot.
    assert sum(line.startswith("saved ") for line in said) == 10
