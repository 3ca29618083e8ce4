"""`cellclinic serve` with its task worker: gunicorn and `db_worker` as two child processes, stopped together.

The worker sends the notification emails queued in the database. This process starts both, passes a
stop signal (Ctrl+C, SIGTERM) on to each, restarts the worker should it die, and stops the worker when
the server ends. Before each start of the worker, `cellclinic requeue_emails` queues again any email a
previous worker left unsent. `cellclinic serve --no-worker` serves alone, for an installation that runs
`cellclinic db_worker` under its own service manager.
"""

import ctypes
import os
import signal
import subprocess  # nosec B404
import sys
import time

NO_WORKER = "--no-worker"
PR_SET_PDEATHSIG = 1  # prctl(2) option: the signal a child gets when its parent dies
CHILD = "CELLCLINIC_SERVE_CHILD"
# A worker that dies sooner than this after starting is restarted only after this long, so a worker
# that cannot start does not spin.
RESTART_PAUSE_SECONDS = 5.0
STOP_GRACE_SECONDS = 20.0


def wanted(args: list[str]) -> bool:
    """True when ARGS (the command line after the program name) is a serve that should run a worker."""
    return bool(args) and args[0] == "serve" and NO_WORKER not in args and os.environ.get(CHILD) != "1"


def without_flag(args: list[str]) -> list[str]:
    """ARGS of a serve without --no-worker, which only this module understands; others as they are."""
    if not args or args[0] != "serve":
        return args
    return [arg for arg in args if arg != NO_WORKER]


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cellclinic.cli", *args]


def _die_with_parent() -> None:
    """In a child, before it runs: on Linux, be sent SIGTERM when this process dies, however it dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _start(argv: list[str]) -> subprocess.Popen:
    """Start one of this program's own commands (fixed arguments, no shell).

    The child stays in this process's group, so a signal to the group (Ctrl+C in a terminal, a service
    manager's stop, a SIGKILL of the group) reaches the server and the worker as well, and it is told to
    stop should this process be killed alone: a server or worker never outlives its supervisor.
    """
    env = {**os.environ, CHILD: "1"}
    return subprocess.Popen(argv, env=env, preexec_fn=_die_with_parent)  # noqa: S603  # nosec B603


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start_worker(worker_argv: list[str]) -> subprocess.Popen:
    """Queue again what a previous worker left unsent (it may have stopped mid-send), then start one."""
    subprocess.run(_command("requeue_emails"), env={**os.environ, CHILD: "1"}, check=False)  # noqa: S603  # nosec B603
    return _start(worker_argv)


def serve_with_worker(args: list[str]) -> int:
    """Run `cellclinic ARGS` (a serve) and `cellclinic db_worker` side by side; the server's exit status."""
    worker_argv = _command("db_worker", "--no-reload", "--interval", "2")
    server = _start(_command(*without_flag(args)))
    worker = _start_worker(worker_argv)
    worker_started = time.monotonic()
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping and server.poll() is None:
            if worker.poll() is not None:
                print(
                    f"cellclinic: the email worker stopped (status {worker.returncode}); restarting it",
                    file=sys.stderr,
                )
                if time.monotonic() - worker_started < RESTART_PAUSE_SECONDS:
                    time.sleep(RESTART_PAUSE_SECONDS)
                worker = _start_worker(worker_argv)
                worker_started = time.monotonic()
            time.sleep(0.5)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _stop(server)
        _stop(worker)
    return server.returncode or 0
