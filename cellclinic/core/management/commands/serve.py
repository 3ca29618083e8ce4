"""cellclinic serve [--port N]: the production server (gunicorn), static files by WhiteNoise."""

import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

# What gunicorn accepts before the app sees a request: the request line (method, path and query),
# the number of header fields and the size of each (README "Configuration").
SERVER_LIMITS = {
    "--limit-request-line": "REQUEST_LINE_MAX_BYTES",
    "--limit-request-fields": "REQUEST_HEADERS_MAX",
    "--limit-request-field_size": "REQUEST_HEADER_MAX_BYTES",
}


def limit_arguments() -> list[str]:
    """gunicorn's request limits, from settings (each from the environment)."""
    return [part for option, name in SERVER_LIMITS.items() for part in (option, str(getattr(settings, name)))]


class Command(BaseCommand):
    help = "Serve CellClinic with gunicorn (a production-grade WSGI server)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 3)))
        parser.add_argument(
            "--no-collectstatic",
            action="store_true",
            help="Skip collecting static files (they are already collected: a restart).",
        )

    def handle(self, *args, **options):
        if not 1 <= options["port"] <= 65535:
            self.stderr.write("--port: must be between 1 and 65535")
            sys.exit(2)
        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(
            f"CellClinic is starting on {url}  (database: {settings.DATABASES['default']['ENGINE']})"
        )
        self.stdout.write("Stop it with Ctrl+C.")
        self.stdout.flush()
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "cellclinic.wsgi:application",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["workers"]),
            "--access-logfile",
            "-",
            "--forwarded-allow-ips",
            os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
            *limit_arguments(),
        ]
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn, fixed argv
