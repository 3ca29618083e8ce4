"""`cellclinic serve` is the production path: gunicorn, hashed static files, WhiteNoise."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "cellclinic.cli"]
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()


@pytest.fixture
def served(tmp_path):
    """The app served by `cellclinic serve` on a free port, with its own SQLite database."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "CELLCLINIC_VAR_DIR": str(tmp_path),
        "DEBUG": "false",
    }
    subprocess.run([*CLI, "migrate", "-v0"], env=env, cwd=ROOT, check=True, timeout=120)
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                fetch(base + "/sign-in/")
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"the server stopped: {server.stdout.read()}")
                time.sleep(0.2)
        else:
            pytest.fail("the server did not answer within 30 s")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_it_serves_pages_and_hashed_static_files(served):
    status, content_type, html = fetch(served + "/sign-in/")
    assert status == 200 and content_type.startswith("text/html")
    css = re.search(r'href="(/static/cellclinic/app\.[0-9a-f]{12}\.css)"', html)
    assert css, "the stylesheet is not served under a hashed name"
    status, content_type, body = fetch(served + css.group(1))
    assert status == 200 and content_type.startswith("text/css")
    assert "--brand" in body
    script = re.search(r'src="(/static/django_htmx/[^"]+\.js)"', html)
    assert script and fetch(served + script.group(1))[0] == 200


def test_it_answers_missing_pages_with_the_app_404(served):
    status, _, html = fetch(served + "/no-such-page/")
    assert status == 404
    assert "Not found" in html
