"""cellclinic createuser USERNAME --role ROLE [--site CODE] [--token]"""

import getpass
import os

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cellclinic.accounts.models import Site
from cellclinic.accounts.roles import Role
from cellclinic.accounts.services import api_token_create, membership_grant, user_create
from cellclinic.core.errors import InvalidInput


class Command(BaseCommand):
    help = (
        "Create a staff user with a role at a site. The password comes from CELLCLINIC_PASSWORD "
        "or a prompt. With --token, a new API token is printed alone on the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--site", help="Site code (default: the first clinic by code).")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument("--token", action="store_true", help="Also create an API bearer token.")

    def handle(self, *args, **options):
        site = self._site(options["site"])
        password = os.environ.get("CELLCLINIC_PASSWORD") or self._prompt_password()
        try:
            with transaction.atomic():
                user = user_create(
                    username=options["username"],
                    password=password,
                    first_name=options["first_name"],
                    last_name=options["last_name"],
                    email=options["email"],
                )
                membership_grant(user=user, site=site, role=options["role"])
                key = api_token_create(user=user, name="createuser")[1] if options["token"] else None
        except InvalidInput as exc:
            details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail
            raise CommandError(f"User not created. {details}") from exc
        self.stdout.write(f"Created {user.username} ({options['role']} at {site.code}).")
        if key:
            self.stdout.write(key)

    def _site(self, code: str | None) -> Site:
        if code:
            site = Site.objects.filter(code=code.upper()).first()
            if site is None:
                known = ", ".join(Site.objects.order_by("code").values_list("code", flat=True)) or "none yet"
                raise CommandError(f"--site: no site with code {code!r} (known: {known})")
            return site
        site = Site.objects.filter(kind=Site.Kind.CLINIC).order_by("code").first()
        if site is None:
            raise CommandError("--site: there is no clinic yet; run `cellclinic demo` or create a site first")
        return site

    def _prompt_password(self) -> str:
        if not self.stdin_is_tty():
            raise CommandError("password: set CELLCLINIC_PASSWORD, or run in a terminal to be prompted")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("password: the two entries differ")
        return first

    @staticmethod
    def stdin_is_tty() -> bool:
        import sys

        return sys.stdin is not None and sys.stdin.isatty()
