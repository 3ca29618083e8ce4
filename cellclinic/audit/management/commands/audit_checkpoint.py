"""`cellclinic audit-checkpoint`: export the heads of the audit chain and the access log as a JSON file."""

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections

from cellclinic.audit.checkpoints import checkpoint_write


def default_directory() -> Path:
    return Path(settings.VAR_DIR) / "audit-checkpoints"


class Command(BaseCommand):
    help = (
        "Write the head of the audit chain and of the access log (event number, hash, time) to "
        "DIR/audit-head-<UTC time>.json, atomically. Keep DIR where the database's users cannot write "
        "(another machine, write-once storage) and run this on a schedule; `cellclinic verify-audit "
        "--checkpoints DIR` then catches a deleted or rewritten tail."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", metavar="DIR", help="Where to write (default: var/audit-checkpoints).")
        parser.add_argument(
            "--every",
            metavar="SECONDS",
            type=float,
            help="Keep running, writing a checkpoint every SECONDS, until stopped.",
        )

    def handle(self, *args, out=None, every=None, **options):
        directory = Path(out) if out else default_directory()
        if every is not None and every <= 0:
            raise CommandError("--every must be a positive number of seconds", returncode=2)
        while True:
            try:
                path = checkpoint_write(directory)
            except DatabaseError as exc:
                if every is None:
                    raise
                # Running on a schedule, a database that is away for a while costs a checkpoint, not the loop.
                self.stderr.write(f"no checkpoint written: {exc}")
                connections.close_all()
            else:
                self.stdout.write(str(path))
            if every is None:
                return
            time.sleep(every)
