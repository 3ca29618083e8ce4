"""cellclinic backup PATH: a consistent copy of the database, taken while the app keeps serving."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.backends.sqlite3._functions import register as register_django_functions


def sqlite_integrity(copy: sqlite3.Connection) -> str:
    """PRAGMA integrity_check on COPY, which checks constraints written with Django's SQL functions."""
    register_django_functions(copy)
    return ", ".join(row[0] for row in copy.execute("PRAGMA integrity_check"))


def pg_environment() -> dict:
    """libpq's variables for the configured PostgreSQL database (the password never on a command line)."""
    settings = connection.settings_dict
    values = {
        "PGHOST": settings.get("HOST"),
        "PGPORT": settings.get("PORT"),
        "PGUSER": settings.get("USER"),
        "PGPASSWORD": settings.get("PASSWORD"),
        "PGDATABASE": settings.get("NAME"),
    }
    return {**os.environ, **{name: str(value) for name, value in values.items() if value}}


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise CommandError(f"{name} is not installed; on Debian: apt-get install postgresql-client")
    return path


class Command(BaseCommand):
    help = (
        "Back the database up to PATH: SQLite through its online backup API (the app may keep serving), "
        "PostgreSQL with pg_dump in its custom format. Restore with `cellclinic restore PATH`."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file to write (refused when it exists).")

    def handle(self, *args, path, **options):
        target = Path(path)
        if target.exists():
            raise CommandError(f"{target} exists already; choose a new file for each backup")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        try:
            if connection.vendor == "sqlite":
                self._sqlite(partial)
            elif connection.vendor == "postgresql":
                self._postgresql(partial)
            else:
                raise CommandError(f"no backup for the {connection.vendor} database")
            partial.replace(target)  # a backup file is complete, or absent
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(
            f"Backed up the {connection.vendor} database to {target} ({target.stat().st_size:,} bytes)."
        )

    def _sqlite(self, partial: Path) -> None:
        connection.ensure_connection()
        with sqlite3.connect(partial) as copy:
            connection.connection.backup(copy)
            result = sqlite_integrity(copy)
        copy.close()
        if result != "ok":
            raise CommandError(f"the copy failed its integrity check: {result}")

    def _postgresql(self, partial: Path) -> None:
        done = subprocess.run(  # noqa: S603 - fixed argv, the database named by libpq's environment
            [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial)],
            env=pg_environment(),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise CommandError(f"pg_dump failed: {done.stderr.strip()}")
