"""cellclinic restore PATH [--force]: the database from a backup made by `cellclinic backup`."""

import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from cellclinic.core.management.commands.backup import pg_environment, pg_tool, sqlite_integrity


class Command(BaseCommand):
    help = (
        "Restore the database from a backup made by `cellclinic backup`. Refuses a database that already "
        "has tables unless --force, which replaces everything in it. Then run `cellclinic verify-audit`."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file.")
        parser.add_argument("--force", action="store_true", help="Replace a database that is not empty.")

    def handle(self, *args, path, force=False, **options):
        source = Path(path)
        if not source.is_file():
            raise CommandError(f"{source}: no such backup file")
        tables = connection.introspection.table_names()
        if tables and not force:
            raise CommandError(
                f"the database is not empty ({len(tables)} tables); restoring would replace it. "
                "Restore into a new, empty database, or pass --force to replace this one."
            )
        if connection.vendor == "sqlite":
            self._sqlite(source)
        elif connection.vendor == "postgresql":
            self._postgresql(source, replace=bool(tables))
        else:
            raise CommandError(f"no restore for the {connection.vendor} database")
        self.stdout.write(f"Restored the {connection.vendor} database from {source}.")
        self.stdout.write("Check the audit trail with `cellclinic verify-audit` before serving.")

    def _sqlite(self, source: Path) -> None:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as backup:
            try:
                result = sqlite_integrity(backup)
            except sqlite3.DatabaseError as error:
                raise CommandError(f"{source} is not a SQLite backup: {error}") from error
            if result != "ok":
                raise CommandError(f"{source} failed its integrity check: {result}")
            connection.ensure_connection()
            backup.backup(connection.connection)
        backup.close()

    def _postgresql(self, source: Path, *, replace: bool) -> None:
        argv = [pg_tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction"]
        if replace:
            argv += ["--clean", "--if-exists"]
        done = subprocess.run(  # noqa: S603 - fixed argv, the database named by libpq's environment
            [*argv, "--dbname", connection.settings_dict["NAME"], str(source)],
            env=pg_environment(),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise CommandError(f"pg_restore failed: {done.stderr.strip()}")
