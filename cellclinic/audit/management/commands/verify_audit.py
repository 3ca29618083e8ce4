"""`cellclinic verify-audit`: recompute the audit chain and the access log, compare the signatures with
their events, and check heads recorded earlier. Exit status: 0 all holds, 1 something was edited, deleted
or inserted, 2 bad arguments or an unreadable checkpoint, 3 a recorded head is not a prefix of the chain."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cellclinic.audit.chain import parse_expected_head
from cellclinic.audit.checkpoints import CheckpointError, checkpoints_read
from cellclinic.audit.selectors import EXIT_USAGE, ExpectedHead, audit_verify


class Command(BaseCommand):
    help = (
        "Recompute the hash chains of the audit trail and of the access log over every event, in order, and "
        "compare every signature with its signature.create event. Prints the counts and the heads, or the "
        "first broken event and why. Exit status: 0 everything holds; 1 an event, an access event or a "
        "signature was edited, deleted or inserted; 2 bad arguments or an unreadable checkpoint; 3 a head "
        "recorded earlier (--expect-head, --checkpoints) is not a prefix of the chain."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            metavar="SEQ:HASH",
            help=(
                "A head printed by an earlier run or a checkpoint, as event number and hash (a bare hash "
                "also works), kept somewhere the database cannot change. The chain may have grown since: "
                "it passes when that event still has that hash, and says how many events came after it."
            ),
        )
        parser.add_argument(
            "--checkpoints",
            metavar="DIR",
            help="Check that each checkpoint in DIR (see audit-checkpoint) is a prefix of the chains.",
        )

    def handle(self, *args, expect_head=None, checkpoints=None, verbosity=1, **options):
        expected = None
        if expect_head is not None:
            try:
                expected = ExpectedHead(*parse_expected_head(expect_head))
            except ValueError as exc:
                raise CommandError(
                    f"--expect-head must be SEQ:HASH or HASH: {exc}", returncode=EXIT_USAGE
                ) from exc
        points = []
        if checkpoints is not None:
            try:
                points = checkpoints_read(Path(checkpoints))
            except CheckpointError as exc:
                raise CommandError(f"--checkpoints: {exc}", returncode=EXIT_USAGE) from exc
        progress = None
        if verbosity >= 1:

            def progress(checked: int) -> None:
                self.stderr.write(f"… {checked:,} events checked")

        result = audit_verify(expect_head=expected, checkpoints=points, progress=progress)
        for line in result.lines():
            self.stdout.write(line)
        if result.exit_code:
            sys.exit(result.exit_code)
