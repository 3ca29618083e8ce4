"""Which idempotency keys are being answered right now, so a duplicate sent meanwhile answers 409.

A guard is held while its request runs and is let go when the request ends, and also when the process
dies (the operating system or the database lets go of it), so a crash never leaves a key stuck in flight:
the retry after it runs anew, and finds nothing of the first attempt, whose transaction rolled back.

- PostgreSQL: a transaction-level advisory lock, which holds across app servers on several machines.
- SQLite (one machine by nature): a lock on one byte of a file beside the database, one byte per key,
  which holds across the app's processes; threads of one process are kept apart in memory.
"""

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import transaction

# The first of PostgreSQL's two advisory-lock keys ("IDMP"), so these locks never meet the audit chain's.
_PG_CLASS = 0x49444D50
_held_here: set[int] = set()
_held_here_lock = threading.Lock()
_lock_files: dict[str, int] = {}


def key_number(scope: str, key: str) -> int:
    """A 62-bit number for SCOPE and KEY."""
    return int.from_bytes(hashlib.sha256(f"{scope}\0{key}".encode()).digest()[:8], "big") >> 2


@contextmanager
def guarded_transaction(connection, scope: str, key: str) -> Iterator[bool]:
    """A transaction that holds the key: yields True inside it, or False when another request holds the key.

    On PostgreSQL the lock is taken inside the transaction and ends with it. On SQLite it is taken before
    the transaction begins, since a second writer's BEGIN IMMEDIATE would wait for the first to finish.
    """
    if connection.vendor == "postgresql":
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_try_advisory_xact_lock(%s, %s)", [_PG_CLASS, key_number(scope, key) % 2**31]
                )
                held = bool(cursor.fetchone()[0])
            yield held
        return
    with _file_guard(connection, key_number(scope, key)) as held:
        if not held:
            yield False
            return
        with transaction.atomic(using=connection.alias):
            yield True


@contextmanager
def _file_guard(connection, number: int) -> Iterator[bool]:
    with _held_here_lock:
        if number in _held_here:
            held = False
        else:
            _held_here.add(number)
            held = True
    if not held:
        yield False
        return
    descriptor = _lock_file(connection)
    try:
        if descriptor is None:
            yield True
            return
        try:
            fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, number)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.lockf(descriptor, fcntl.LOCK_UN, 1, number)
    finally:
        with _held_here_lock:
            _held_here.discard(number)


def _lock_file(connection) -> int | None:
    """The open lock file beside the SQLite database; None for an in-memory database (one process only).

    It stays open for the life of the process: closing any descriptor of a file drops every POSIX lock
    the process holds on it.
    """
    if connection.is_in_memory_db():
        return None
    path = f"{connection.settings_dict['NAME']}.idempotency-locks"
    if path not in _lock_files:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        _lock_files[path] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    return _lock_files[path]
