"""cellclinic demo: load demonstration data (demo-only passwords), or start over with fresh demo data."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from cellclinic.demo import reset
from cellclinic.demo.data import DEMO_PASSWORD, DEMO_USERS, demo_create, demo_present


class Command(BaseCommand):
    help = "Create demo clinics, a lab, one user per role and realistic patients. Demo-only passwords."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and succeed) when demo data is already there.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help=(
                "Start over: recreate the database (SQLite file or PostgreSQL schema), migrate and load "
                "fresh demo data. Refused unless every site, user and patient is one the demo makes."
            ),
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="With --reset: start over even when the database holds records the demo did not make.",
        )

    def handle(self, *args, **options):
        if options["force"] and not options["reset"]:
            raise CommandError("--force only goes with --reset", returncode=2)
        if options["reset"]:
            if options["if_empty"]:
                raise CommandError("--reset and --if-empty cannot be given together", returncode=2)
            self.start_over(force=options["force"])
            return
        if demo_present():
            if options["if_empty"]:
                self.stdout.write("Demo data is already loaded.")
                self.print_sign_ins()
                return
            self.stderr.write("Demo data is already loaded (sites NCL, RSC, LAB exist); nothing was changed.")
            raise SystemExit(1)
        self.stdout.write("Loading demo data…")
        demo_create(progress=lambda message: self.stdout.write(f"  {message}"))
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.print_sign_ins()

    def start_over(self, *, force: bool) -> None:
        def progress(message: str) -> None:
            self.stdout.write(f"  {message}")

        label = reset.database_label()
        try:
            vendor = reset.check_kind()
            self.stdout.write(f"Starting over on {label} ({vendor}).")
            self.stdout.write("Checking that the database holds demo data only…")
            contents = reset.inspect()
            progress(contents.summary())
            if not contents.demo_only:
                for stranger in contents.strangers:
                    progress(f"not made by the demo: {stranger}")
                if not force:
                    raise reset.ResetRefused(
                        f"{label} holds records the demo did not make, so it was not reset and nothing "
                        "was changed. Give --force to delete everything in it and start over anyway."
                    )
                progress("--force given: they are deleted with the rest")
            files = reset.stored_files()
            self.stdout.write("Recreating the database…")
            if vendor == "sqlite":
                reset.drop_sqlite(progress)
            else:
                reset.drop_postgresql(progress)
        except reset.ResetRefused as exc:
            self.stderr.write(f"cellclinic demo --reset: {exc}")
            raise SystemExit(1) from exc
        except DatabaseError as exc:
            self.stderr.write(f"cellclinic demo --reset: could not read {label}: {str(exc).strip()}")
            raise SystemExit(1) from exc
        except OSError as exc:
            self.stderr.write(f"cellclinic demo --reset: could not remove the database file: {exc}")
            raise SystemExit(1) from exc
        if files:
            removed = reset.remove_files(files)
            progress(f"removed {removed} stored files (photos, signed consent copies) of the old records")
        self.stdout.write("Creating the tables (migrate)…")
        call_command("migrate", interactive=False, verbosity=0)
        progress("all migrations applied")
        self.stdout.write("Loading demo data…")
        demo_create(progress=progress)
        self.stdout.write(self.style.SUCCESS("Started over: fresh demo data loaded."))
        self.print_sign_ins()
        if reset.old_checkpoints():
            self.stdout.write(
                f"Audit checkpoints written before the reset are in {reset.checkpoint_directory()}; they "
                "describe the old audit chain: move them away before `verify-audit --checkpoints`."
            )

    def print_sign_ins(self):
        self.stdout.write(f"Demo sign-ins (DEMO ONLY — password for all: {DEMO_PASSWORD}):")
        for spec in DEMO_USERS:
            self.stdout.write(f"  {spec.username:<14} {spec.what}")
        self.stdout.write(
            "Staff sign in with a second factor. At a demo staff account's first sign-in, scan the QR code\n"
            "with an authenticator app (or give the secret shown under it to one, e.g.\n"
            "`oathtool --totp -b SECRET`), type the six-digit code, and keep the recovery codes.\n"
            "The patient account signs in with the password alone."
        )
