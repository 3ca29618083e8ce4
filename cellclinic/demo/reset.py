"""Starting the demo over: what counts as a database of demo data only, and recreating the database.

The audit tables refuse DELETE and TRUNCATE (cellclinic/audit/triggers.py), so a reset never deletes
rows: it removes the SQLite file, or drops and recreates PostgreSQL's schema, then migrates afresh.

A database holds demo data only when every site is one of the demo's (LAB, NCL, RSC), every user is one
of the demo's sign-ins, and every patient's MRN carries a demo clinic's prefix. Records that people add
while trying the demo at its clinics (patients, consultations, enquiries) are demo data too; a site or
an account the demo does not make is not, and nor is a database with tables that are not CellClinic's.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, connections, models, transaction

from cellclinic.accounts.models import Site, User
from cellclinic.demo.data import DEMO_USERS
from cellclinic.patients.models import Patient

DEMO_SITE_CODES = ("LAB", "NCL", "RSC")
DEMO_CLINIC_CODES = ("NCL", "RSC")
DEMO_USERNAMES = tuple(spec.username for spec in DEMO_USERS)
# The tables a CellClinic database must have before its rows can be judged.
_JUDGED_TABLES = (Site._meta.db_table, User._meta.db_table, Patient._meta.db_table)
_SHOWN = 5  # names listed per kind in a refusal; the rest are counted


class ResetRefused(Exception):
    """The database cannot or should not be started over; the message says why."""


@dataclass(frozen=True)
class Contents:
    """What the database holds, judged against the demo."""

    empty: bool
    sites: int = 0
    users: int = 0
    patients: int = 0
    strangers: tuple[str, ...] = ()

    @property
    def demo_only(self) -> bool:
        return not self.strangers

    def summary(self) -> str:
        if self.empty:
            return "the database is empty"
        return f"{self.sites} sites, {self.users} users, {self.patients} patients"


def database_label() -> str:
    """The database URL with any password hidden, as a person would recognise it."""
    url = str(getattr(settings, "DATABASE_URL", "") or "")
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        parts = parts._replace(netloc=f"{parts.username}:***@{host}")
        return urlunsplit(parts)
    return url


def check_kind() -> str:
    """'sqlite' or 'postgresql'; any other database is refused, naming it."""
    engine = str(settings.DATABASES["default"].get("ENGINE", ""))
    known = {
        "cellclinic.core.sqlite": "sqlite",
        "django.db.backends.sqlite3": "sqlite",
        "django.db.backends.postgresql": "postgresql",
    }
    vendor = known.get(engine)
    if vendor is None:
        raise ResetRefused(
            f"cannot start over on {database_label()} ({engine or 'no engine'}): "
            "only SQLite and PostgreSQL databases can be reset"
        )
    if vendor == "sqlite":
        name = str(settings.DATABASES["default"].get("NAME") or "")
        if not name or name == ":memory:" or name.startswith("file:"):
            raise ResetRefused(f"cannot start over on {database_label()}: it is not a database file")
    return vendor


def _listed(kind: str, names: list[str], total: int) -> str:
    more = total - len(names)
    return f"{kind}: " + ", ".join(names) + (f" and {more} more" if more > 0 else "")


def inspect() -> Contents:
    """What the database holds, and which records (if any) the demo did not make."""
    tables = set(connection.introspection.table_names())
    if not tables:
        return Contents(empty=True)
    missing = [table for table in _JUDGED_TABLES if table not in tables]
    if missing:
        shown = sorted(tables)[:_SHOWN]
        return Contents(
            empty=False,
            strangers=(_listed("tables that are not CellClinic's", shown, len(tables)),),
        )
    strangers = []
    sites = Site.objects.exclude(code__in=DEMO_SITE_CODES).order_by("code")
    if sites.exists():
        strangers.append(_listed("sites", list(sites.values_list("code", flat=True)[:_SHOWN]), sites.count()))
    users = User.objects.exclude(username__in=DEMO_USERNAMES).order_by("username")
    if users.exists():
        strangers.append(
            _listed("users", list(users.values_list("username", flat=True)[:_SHOWN]), users.count())
        )
    demo_mrn = models.Q()
    for code in DEMO_CLINIC_CODES:
        demo_mrn |= models.Q(mrn__startswith=f"{code}-", site__code=code)
    patients = Patient.objects.exclude(demo_mrn).order_by("mrn")
    if patients.exists():
        strangers.append(
            _listed("patients", list(patients.values_list("mrn", flat=True)[:_SHOWN]), patients.count())
        )
    return Contents(
        empty=False,
        sites=Site.objects.count(),
        users=User.objects.count(),
        patients=Patient.objects.count(),
        strangers=tuple(strangers),
    )


def stored_files() -> list[str]:
    """The names of the files (photos, signed consent copies) the database's records point to."""
    tables = set(connection.introspection.table_names())
    names: list[str] = []
    for model in apps.get_models():
        if model._meta.db_table not in tables:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                names.extend(
                    name
                    for name in model._base_manager.exclude(**{field.name: ""}).values_list(
                        field.name, flat=True
                    )
                    if name
                )
    return names


def remove_files(names: list[str]) -> int:
    """Remove the stored files of records that no longer exist; how many were there to remove."""
    removed = 0
    for name in names:
        if default_storage.exists(name):
            default_storage.delete(name)
            removed += 1
    return removed


def drop_sqlite(progress: Callable[[str], None]) -> None:
    path = Path(connection.settings_dict["NAME"])
    connections.close_all()
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            candidate.unlink()
            progress(f"removed {candidate}")


def drop_postgresql(progress: Callable[[str], None]) -> None:
    quote = connection.ops.quote_name
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_schema(), current_user")
            schema, user = cursor.fetchone()
            if schema is None:
                raise ResetRefused(f"cannot start over on {database_label()}: it has no schema to recreate")
            # A running app holds locks on the tables: fail plainly rather than wait for it forever.
            cursor.execute("SET LOCAL lock_timeout = '10s'")
            cursor.execute(f"DROP SCHEMA {quote(schema)} CASCADE")
            cursor.execute(f"CREATE SCHEMA {quote(schema)} AUTHORIZATION {quote(user)}")
    except DatabaseError as exc:
        raise ResetRefused(
            f"could not drop and recreate the schema of {database_label()}: {str(exc).strip()}. "
            "Stop the app (and anything else using the database) and try again; the connecting user must "
            "own the schema."
        ) from exc
    progress(f"dropped and recreated the schema {schema!r} (owner {user})")


def checkpoint_directory() -> Path:
    """Where `cellclinic audit-checkpoint` writes by default."""
    return Path(settings.VAR_DIR) / "audit-checkpoints"


def old_checkpoints() -> bool:
    """Whether audit checkpoints of an earlier chain are in the default directory."""
    directory = checkpoint_directory()
    return directory.is_dir() and any(directory.glob("audit-head-*.json"))
