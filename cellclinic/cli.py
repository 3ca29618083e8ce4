"""The `cellclinic` command: manage.py as a console script, with hyphenated aliases."""

import os
import sys

# Commands spelled with a hyphen on the command line, and the management command behind each.
ALIASES = {"verify-audit": "verify_audit"}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cellclinic.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "cellclinic"
    if len(args) > 1:
        args[1] = ALIASES.get(args[1], args[1])
    execute_from_command_line(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
