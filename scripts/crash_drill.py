#!/usr/bin/env python
"""The crash drill: acknowledged writes survive the app server being killed at any moment.

It serves CellClinic with `cellclinic serve` (gunicorn) against a fresh database, runs concurrent
writers that register patients through the API, and kills the whole server (master and workers) with
SIGKILL at random moments, then starts it again, for a number of cycles. A writer sends each request with
an Idempotency-Key and, when the answer is lost, sends it again with the same key until it is answered,
as a careful client would. At the end:

- every write that was acknowledged (201) is present, with the same id and MRN;
- no write was made twice (each request names a patient no other request names);
- `PRAGMA integrity_check` answers ok (SQLite);
- `cellclinic verify-audit` passes.

    python scripts/crash_drill.py                                   # SQLite, 5 cycles
    python scripts/crash_drill.py --cycles 50 --writers 8
    python scripts/crash_drill.py --database-url postgres://postgres@127.0.0.1:5432/postgres

On PostgreSQL it creates a database of its own on that server and drops it at the end. It exits with
status 1 when a check fails.
"""

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "cellclinic.cli"]
INTEGRITY_CHECK = """
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA integrity_check")
    print(", ".join(row[0] for row in cursor.fetchall()))
"""
PASSWORD = "drill password 2026"  # noqa: S105 - a throw-away account in a throw-away database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(
    base: str, method: str, path: str, *, token: str | None = None, body=None, headers=None, timeout=30
) -> tuple[int, dict, dict]:
    """(status, JSON body, headers) of one API call; raises OSError when the server does not answer."""
    data = None if body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    call = urllib.request.Request(base + path, data=data, method=method, headers=sent)  # noqa: S310
    try:
        with urllib.request.urlopen(call, timeout=timeout) as response:  # noqa: S310 - loopback http only  # nosec B310
            return response.status, json.loads(response.read() or b"null"), dict(response.headers)
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            answer = json.loads(raw or b"null")
        except ValueError:
            answer = {"detail": raw[:200].decode(errors="replace")}
        return error.code, answer, dict(error.headers)


class Database:
    """A fresh database for the drill: a SQLite file in a folder of its own, or a PostgreSQL database."""

    def __init__(self, url: str | None, folder: Path):
        self.folder = folder
        self.admin_url = None
        if url and url.startswith(("postgres://", "postgresql://")):
            import psycopg

            parts = urllib.parse.urlsplit(url)
            self.admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
            self.name = f"cellclinic_drill_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            self.url = urllib.parse.urlunsplit(parts._replace(path=f"/{self.name}"))
            self.vendor = "postgresql"
        else:
            self.path = folder / "drill.sqlite3"
            self.url = f"sqlite:///{self.path}"
            self.vendor = "sqlite"

    def drop(self) -> None:
        if self.admin_url:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def integrity(self, env: dict) -> str:
        """PRAGMA integrity_check through the app's own connection (its schema uses Django's functions)."""
        if self.vendor != "sqlite":
            return "ok"
        return cellclinic(env, "shell", "-v0", "-c", INTEGRITY_CHECK).strip()


def environment(database: Database, folder: Path) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database.url,
        "CELLCLINIC_VAR_DIR": str(folder),
        "SECRET_KEY": "crash-drill-" + uuid.uuid4().hex,
        "DEBUG": "false",
        "CELLCLINIC_PASSWORD": PASSWORD,
        "PYTHONUNBUFFERED": "1",
    }


def cellclinic(env: dict, *args: str, timeout: int = 300) -> str:
    done = subprocess.run(  # noqa: S603 - fixed argv
        [*CLI, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"cellclinic {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def prepare(env: dict) -> str:
    """Migrate, make a lab, a clinic and a practitioner; answer the practitioner's API token."""
    cellclinic(env, "migrate", "-v0")
    cellclinic(env, "createsite", "LAB", "--name", "Drill Lab", "--kind", "lab")
    cellclinic(env, "createsite", "NCL", "--name", "Drill Clinic", "--kind", "clinic", "--lab", "LAB")
    out = cellclinic(env, "createuser", "drill", "--role", "practitioner", "--site", "NCL", "--token")
    return out.strip().splitlines()[-1]


class Server:
    """`cellclinic serve` in a process group of its own, so a kill takes the master and every worker."""

    def __init__(self, env: dict, workers: int = 2):
        self.env, self.workers = env, workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = Path(env["CELLCLINIC_VAR_DIR"]) / "server.log"

    def start(self, timeout: float = 60) -> float:
        """Start and wait until the API answers; the seconds that took. Restarts skip collectstatic."""
        started = time.monotonic()
        again = ["--no-collectstatic"] if self.process is not None else []
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv
                [*CLI, "serve", "--port", str(self.port), "--workers", str(self.workers), *again],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped on its own:\n{self.log.read_text()[-3000:]}")
            try:
                if request(self.base, "GET", "/api/v1/openapi.json", timeout=2)[0] == 200:
                    return time.monotonic() - started
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s")

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once: nothing gets to finish or clean up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Tally:
    acknowledged: dict = field(default_factory=dict)  # family name -> (id, mrn)
    attempted: set = field(default_factory=set)
    lost: int = 0
    replayed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def writer(server: Server, token: str, number: int, stop: threading.Event, tally: Tally) -> None:
    """Register patients one after another; resend each with its key until it is answered."""
    count = 0
    while not stop.is_set():
        count += 1
        family = f"Drill-{number}-{count}-{uuid.uuid4().hex[:8]}"
        body = {"given_name": "Crash", "family_name": family, "date_of_birth": "1980-01-01"}
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        with tally.lock:
            tally.attempted.add(family)
        while not stop.is_set():
            try:
                status, answer, answer_headers = request(
                    server.base, "POST", "/api/v1/patients", token=token, body=body, headers=headers
                )
            except (OSError, http.client.HTTPException):  # the server went down: send the request again
                with tally.lock:
                    tally.lost += 1
                time.sleep(0.05)
                continue
            if status == 201:
                with tally.lock:
                    tally.acknowledged[family] = (answer["id"], answer["mrn"])
                    tally.replayed += answer_headers.get("Idempotent-Replayed") == "true"
                break
            if status in (409, 500, 502, 503):  # still in flight, or the server was going down
                time.sleep(0.05)
                continue
            raise RuntimeError(f"unexpected answer {status}: {answer}")


def registry(server: Server, token: str) -> list[dict]:
    items, offset = [], 0
    while True:
        status, page, _ = request(
            server.base, "GET", f"/api/v1/patients?limit=200&offset={offset}", token=token
        )
        if status != 200:
            raise RuntimeError(f"listing patients answered {status}: {page}")
        items += page["items"]
        offset += 200
        if offset >= page["count"]:
            return items


@dataclass
class Report:
    vendor: str
    cycles: int
    writers: int
    acknowledged: int
    attempted: int
    lost: int
    replayed: int
    seconds: float
    restart_seconds: list
    prepare_seconds: float
    problems: list

    def lines(self) -> list[str]:
        restart = sum(self.restart_seconds) / max(len(self.restart_seconds), 1)
        lines = [
            f"crash drill on {self.vendor}: {self.cycles} kills, {self.writers} writers, "
            f"{self.seconds:.1f} s in all",
            f"  writes acknowledged {self.acknowledged} of {self.attempted} sent; {self.lost} sends found "
            f"the server down or dying and were sent again; {self.replayed} answered from the kept answer",
            f"  database made and migrated in {self.prepare_seconds:.1f} s; "
            f"server up in {restart:.1f} s on average",
        ]
        lines += [f"  FAILED: {problem}" for problem in self.problems] or ["  OK: every check passed"]
        return lines


def run(
    database_url: str | None = None,
    *,
    cycles: int = 5,
    writers: int = 4,
    workers: int = 2,
    up: tuple[float, float] = (0.5, 2.0),
    seed: int | None = None,
    keep: bool = False,
) -> Report:
    rng = random.Random(seed)  # noqa: S311 - kill moments, not secrets
    folder = Path(tempfile.mkdtemp(prefix="cellclinic-drill-"))
    database = Database(database_url, folder)
    started = time.monotonic()
    problems: list[str] = []
    prepared = started
    tally = Tally()
    restarts: list[float] = []
    try:
        env = environment(database, folder)
        token = prepare(env)
        server = Server(env, workers=workers)
        stop = threading.Event()
        threads = [
            threading.Thread(target=writer, args=(server, token, n, stop, tally), daemon=True)
            for n in range(writers)
        ]
        prepared = time.monotonic()
        try:
            restarts.append(server.start())
            for thread in threads:
                thread.start()
            for _ in range(cycles):
                time.sleep(rng.uniform(*up))
                server.kill()
                restarts.append(server.start())
            time.sleep(up[0])  # the writers' last resends get through
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            present = {p["family_name"]: (p["id"], p["mrn"]) for p in registry(server, token)}
            names = Counter(p["family_name"] for p in registry(server, token))
        finally:
            stop.set()
            server.stop()
        for family, written in tally.acknowledged.items():
            if present.get(family) != written:
                problems.append(
                    f"acknowledged write {family} {written} is {present.get(family) or 'missing'}"
                )
        problems += [f"{family} was written {n} times" for family, n in names.items() if n > 1]
        problems += [f"{family} was never sent" for family in set(present) - tally.attempted]
        if (integrity := database.integrity(env)) != "ok":
            problems.append(f"PRAGMA integrity_check: {integrity}")
        audit = subprocess.run(  # noqa: S603 - fixed argv
            [*CLI, "verify-audit", "-v0"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        if audit.returncode != 0:
            problems.append(f"verify-audit: {audit.stdout.strip()} {audit.stderr.strip()}")
    finally:
        if not keep:
            database.drop()
    return Report(
        vendor=database.vendor,
        cycles=cycles,
        writers=writers,
        acknowledged=len(tally.acknowledged),
        attempted=len(tally.attempted),
        lost=tally.lost,
        replayed=tally.replayed,
        seconds=time.monotonic() - started,
        restart_seconds=restarts,
        prepare_seconds=prepared - started,
        problems=problems,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="postgres://... for PostgreSQL (default: a SQLite file)")
    parser.add_argument("--cycles", type=int, default=5, help="kills and restarts (default 5)")
    parser.add_argument("--writers", type=int, default=4, help="concurrent writers (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--min-up", type=float, default=0.5, help="least seconds between start and kill")
    parser.add_argument("--max-up", type=float, default=2.0, help="most seconds between start and kill")
    parser.add_argument("--seed", type=int, help="seed of the random kill moments")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    args = parser.parse_args(argv)
    report = run(
        args.database_url,
        cycles=args.cycles,
        writers=args.writers,
        workers=args.workers,
        up=(args.min_up, args.max_up),
        seed=args.seed,
        keep=args.keep,
    )
    print("\n".join(report.lines()))
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
