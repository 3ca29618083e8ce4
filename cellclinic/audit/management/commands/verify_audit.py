"""`cellclinic verify-audit`: recompute the audit hash chain; exit 1 at the first event that does not hold."""

import re
import sys

from django.core.management.base import BaseCommand, CommandError

from cellclinic.audit.selectors import audit_verify

_HASH = re.compile(r"^[0-9a-f]{64}$")


class Command(BaseCommand):
    help = (
        "Recompute the hash chain of the audit trail over every event, in order. Prints the event count "
        "and the head hash, or the first broken event and why, and then exits with status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            metavar="HASH",
            help=(
                "A head hash printed by an earlier run (kept somewhere the database cannot change). "
                "Fail when the chain no longer ends with it: this catches a rewrite of the tail with "
                "recomputed hashes, or deleted newest events."
            ),
        )

    def handle(self, *args, expect_head=None, verbosity=1, **options):
        if expect_head is not None:
            expect_head = expect_head.strip().lower()
            if not _HASH.match(expect_head):
                raise CommandError("--expect-head must be a SHA-256 hash: 64 hexadecimal characters")
        progress = None
        if verbosity >= 1:

            def progress(checked: int) -> None:
                self.stderr.write(f"… {checked:,} events checked")

        result = audit_verify(expect_head=expect_head, progress=progress)
        for line in result.lines():
            self.stdout.write(line)
        if not result.ok:
            sys.exit(1)
