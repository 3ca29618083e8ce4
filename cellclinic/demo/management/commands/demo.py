"""cellclinic demo: load demonstration data (demo-only passwords)."""

from django.core.management.base import BaseCommand

from cellclinic.demo.data import DEMO_PASSWORD, DEMO_USERS, demo_create, demo_present


class Command(BaseCommand):
    help = "Create demo clinics, a lab, one user per role and realistic patients. Demo-only passwords."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and succeed) when demo data is already there.",
        )

    def handle(self, *args, **options):
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
