#!/usr/bin/env python
"""Load test: the production server under 16 connections, and the same pages' CPU cost in-process.

    .venv/bin/python scripts/load.py [--seconds 10] [--patients 10000] [--connections 16]

It loads the demo into a temporary SQLite database, grows the registry to --patients at North Clinic,
serves it with `cellclinic serve` (gunicorn, 2 workers) on a free port, and signs the demo practitioner
in with a real session (password and second factor both passed, made through Django's session engine and
the practitioner's authenticator). Then `wrk` (Debian's package: apt-get install -y wrk) sends requests on
--connections connections for --seconds to each of:

- a JSON 404 under /api/: the floor, the least the server can do for a request;
- a patient's chart, the patient list, and the staff home.

It prints requests per second and median latency for each, and each page's rate as a percentage of the
floor's. Then, with the server stopped, Django's test client requests each page --repeat times in this
process after a warm-up, and prints the CPU time per request and its multiple of the floor's.
"""

import argparse
import http.client
import json
import logging
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

WORK = Path(tempfile.mkdtemp(prefix="cellclinic-load-"))
SERVER_ENV = {
    "DATABASE_URL": f"sqlite:///{WORK / 'load.sqlite3'}",
    "CELLCLINIC_VAR_DIR": str(WORK),
    "SECRET_KEY": "load-" + secrets.token_hex(16),
    "DEBUG": "false",
    "PYTHONUNBUFFERED": "1",
}
os.environ.update(SERVER_ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cellclinic.settings")

import django  # noqa: E402

django.setup()

from crash_drill import Server  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from registry import grow_registry  # noqa: E402

from cellclinic.accounts.models import Site, User  # noqa: E402
from cellclinic.demo.data import demo_create  # noqa: E402
from cellclinic.treatment.models import TreatmentPlan  # noqa: E402
from tests.two_factor import TwoFactorClient  # noqa: E402

FLOOR = "JSON 404 under /api/ (floor)"
# wrk's summary as one JSON line: requests, duration, median and 99th percentile latency, errors.
WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, errors))
end
"""


def say(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def prepare(patients: int) -> tuple[User, dict[str, str]]:
    """The database with the demo and a grown registry; the practitioner and the paths to measure."""
    say(f"migrating a fresh SQLite database in {WORK}")
    call_command("migrate", interactive=False, verbosity=0)
    say("loading the demo")
    demo_create()
    north = Site.objects.get(code="NCL")
    say(f"growing the registry to {patients:,} patients")
    grow_registry(north, patients)
    plan = TreatmentPlan.objects.filter(site=north).order_by("id").first()
    paths = {
        FLOOR: "/api/no-such-resource",
        "patient chart": reverse("patients:detail", args=[plan.patient_id]),
        "patient list": reverse("patients:list"),
        "staff home": reverse("accounts:home"),
    }
    return User.objects.get(username="practitioner"), paths


def signed_in_client(user: User) -> TwoFactorClient:
    """A session of USER with both factors passed, stored through Django's session engine."""
    client = TwoFactorClient()
    client.force_login(user)
    return client


def answer_status(base: str, path: str, cookie: str) -> int:
    """The status of one GET, redirects not followed (a sign-in redirect would hide an expired session)."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie})
        return conn.getresponse().status
    finally:
        conn.close()


def run_wrk(base: str, path: str, cookie: str, *, seconds: int, connections: int, script: Path) -> dict:
    argv = [
        shutil.which("wrk") or "wrk",
        "--threads",
        "2",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "30s",
        "--header",
        f"Cookie: {cookie}",
        "--script",
        str(script),
        base + path,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv
    if done.returncode != 0:
        raise SystemExit(f"wrk failed on {path}: {done.stderr.strip()}")
    line = next(line for line in reversed(done.stdout.splitlines()) if line.startswith("{"))
    result = json.loads(line)
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def under_load(paths: dict[str, str], cookie: str, *, seconds: int, connections: int) -> dict[str, dict]:
    server = Server({**os.environ, **SERVER_ENV}, workers=2)
    say(f"starting `cellclinic serve` (gunicorn, 2 workers) on {server.base}")
    server.start(timeout=180)
    script = WORK / "report.lua"
    script.write_text(WRK_REPORT)
    results = {}
    try:
        for name, path in paths.items():
            expected = 404 if name == FLOOR else 200
            status = answer_status(server.base, path, cookie)
            if status != expected:
                raise SystemExit(f"{name} ({path}) answered {status}, not {expected}: is the session valid?")
            say(f"wrk: {name} ({path}), {connections} connections, {seconds} s")
            results[name] = run_wrk(
                server.base, path, cookie, seconds=seconds, connections=connections, script=script
            )
            wrong = results[name]["socket_errors"] + (results[name]["non2xx"] if expected == 200 else 0)
            if wrong:
                say(f"  {wrong} requests failed or did not answer {expected}")
    finally:
        server.stop()
    return results


def in_process(client: TwoFactorClient, paths: dict[str, str], *, repeat: int) -> dict[str, float]:
    """CPU milliseconds per request of each path through Django's test client, after a warm-up."""
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the floor's 404s, one line each
    cpu = {}
    for name, path in paths.items():
        say(f"in-process: {name}, {repeat} requests")
        expected = 404 if name == FLOOR else 200
        status = client.get(path).status_code
        if status != expected:
            raise SystemExit(f"in-process: {name} ({path}) answered {status}, not {expected}")
        for _ in range(max(repeat // 10, 5)):
            client.get(path)
        samples = []
        for _ in range(5):
            start = time.process_time()
            for _ in range(repeat // 5):
                client.get(path)
            samples.append((time.process_time() - start) * 1000 / (repeat // 5))
        cpu[name] = statistics.median(samples)
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="how long wrk runs against each path")
    parser.add_argument("--connections", type=int, default=16, help="wrk's open connections")
    parser.add_argument("--patients", type=int, default=10_000, help="registry size")
    parser.add_argument("--repeat", type=int, default=200, help="in-process requests per path")
    options = parser.parse_args()
    if options.seconds < 1 or options.connections < 1 or options.repeat < 5 or options.patients < 0:
        parser.error(
            "--seconds and --connections must be at least 1, --repeat at least 5, --patients 0 or more"
        )
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (Debian's package)")
    try:
        user, paths = prepare(options.patients)
        client = signed_in_client(user)
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        connections.close_all()
        loaded = under_load(paths, cookie, seconds=options.seconds, connections=options.connections)
        setup_test_environment()
        cpu = in_process(client, paths, repeat=options.repeat)
    finally:
        connections.close_all()
        shutil.rmtree(WORK, ignore_errors=True)

    floor, floor_cpu = loaded[FLOOR]["rate"], cpu[FLOOR]
    print(
        f"\nUnder load: gunicorn with 2 workers, SQLite, {options.patients:,} patients, "
        f"wrk with {options.connections} connections for {options.seconds} s each; {os.cpu_count()} cores\n"
    )
    print("| request | requests/s | median ms | p99 ms | % of the floor's rate |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, result in loaded.items():
        print(
            f"| {name} | {result['rate']:,.0f} | {result['p50_us'] / 1000:.1f} "
            f"| {result['p99_us'] / 1000:.1f} | {100 * result['rate'] / floor:.0f}% |"
        )
    print(
        f"\nIn-process (Django's test client, median of 5 runs of {options.repeat // 5}, after a warm-up)\n"
    )
    print("| request | CPU ms per request | × the floor |\n| --- | ---: | ---: |")
    for name, value in cpu.items():
        print(f"| {name} | {value:.2f} | {value / floor_cpu:.1f} |")


if __name__ == "__main__":
    main()
