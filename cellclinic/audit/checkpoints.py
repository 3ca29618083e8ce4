"""Checkpoints: the heads of the audit chain and the access log, exported now and then as small JSON
files kept where the database cannot change them. `verify-audit --checkpoints DIR` then finds a deleted
or rewritten tail without a head hash kept by hand."""

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cellclinic.audit.chain import GENESIS_HASH, checkpoint_name, format_time, parse_expected_head
from cellclinic.audit.models import AccessEvent, AuditEvent
from cellclinic.audit.selectors import ExpectedHead

FORMAT = 1
PATTERN = "audit-head-*.json"


class CheckpointError(Exception):
    """A checkpoint file that cannot be read."""


def current_heads() -> dict[str, Any]:
    """The newest event and hash of each chain (event 0 and the genesis hash for an empty one)."""
    head = AuditEvent.objects.order_by("-id").values("id", "hash").first() or {"id": 0, "hash": GENESIS_HASH}
    access = AccessEvent.objects.order_by("-id").values("id", "hash").first() or {
        "id": 0,
        "hash": GENESIS_HASH,
    }
    return {
        "sequence": head["id"],
        "hash": head["hash"],
        "access_sequence": access["id"],
        "access_hash": access["hash"],
    }


def checkpoint_write(directory: Path, *, now: datetime | None = None) -> Path:
    """Write the current heads to DIRECTORY as audit-head-<UTC time>.json, atomically: the file appears
    whole or not at all (written aside, flushed to disk, then renamed into place)."""
    moment = now or datetime.now(UTC)
    document = {"format": FORMAT, "time": format_time(moment), **current_heads()}
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / checkpoint_name(moment)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".audit-head-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(document, handle, sort_keys=True, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)
    return target


def _heads_of(path: Path) -> list[ExpectedHead]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        heads = [
            ExpectedHead(*parse_expected_head(f"{document['sequence']}:{document['hash']}"), source=path.name)
        ]
        if "access_sequence" in document:
            sequence, digest = parse_expected_head(f"{document['access_sequence']}:{document['access_hash']}")
            heads.append(ExpectedHead(sequence, digest, source=path.name, chain="access"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path.name}: not a readable checkpoint ({exc})") from exc
    return heads


def checkpoints_read(directory: Path) -> list[ExpectedHead]:
    """Every head recorded in DIRECTORY's checkpoint files, oldest file first."""
    if not directory.is_dir():
        raise CheckpointError(f"{directory} is not a directory")
    return [head for path in sorted(directory.glob(PATTERN)) for head in _heads_of(path)]
