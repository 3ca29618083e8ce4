"""The `cellclinic` command: manage.py as a console script, with hyphenated aliases."""

import os
import sys

# Commands spelled with a hyphen on the command line, and the management command behind each.
ALIASES = {"verify-audit": "verify_audit", "audit-checkpoint": "audit_checkpoint"}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cellclinic.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "cellclinic"
    # `cellclinic verify-audit` and `cellclinic help verify-audit` both name verify_audit.
    for index in (1, 2) if len(args) > 2 and args[1] == "help" else (1,):
        if index < len(args):
            args[index] = ALIASES.get(args[index], args[index])
    # `cellclinic serve` also runs the worker that sends notification emails (cellclinic/notifications).
    from cellclinic.notifications import supervisor

    if supervisor.wanted(args[1:]):
        return supervisor.serve_with_worker(args[1:])
    args = [args[0], *supervisor.without_flag(args[1:])]
    try:
        execute_from_command_line(args)
    except ImproperlyConfigured as exc:
        # A configuration problem (a setting, a malformed therapy file) is said plainly, not as a traceback.
        print(f"cellclinic: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
