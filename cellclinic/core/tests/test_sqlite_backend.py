"""The embedded database gathers the planner's statistics as a connection closes."""

import sqlite3

import pytest
from django.conf import settings
from django.db import connection, connections

from cellclinic.core.sqlite.base import DatabaseWrapper


def wrapper(path) -> DatabaseWrapper:
    return DatabaseWrapper(
        {
            **settings.DATABASES["default"],
            "ENGINE": "cellclinic.core.sqlite",
            "NAME": str(path),
            "OPTIONS": {},
        }
    )


@pytest.fixture
def own_files(django_db_blocker):
    """These tests open their own database files, not the test database."""
    with django_db_blocker.unblock():
        yield


def statistics(path) -> list[tuple]:
    raw = sqlite3.connect(path)
    try:
        if not raw.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            return []
        return sorted(raw.execute("SELECT tbl, idx FROM sqlite_stat1").fetchall())
    finally:
        raw.close()


def filled(path) -> None:
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, status TEXT, lab INTEGER)")
    raw.execute("CREATE INDEX item_status ON item (lab, status)")
    raw.executemany(
        "INSERT INTO item (status, lab) VALUES (?, ?)", [("released", n % 3) for n in range(2000)]
    )
    raw.commit()
    raw.close()


def test_a_table_read_on_a_connection_is_analysed_when_it_closes(tmp_path, own_files):
    path = tmp_path / "planner.sqlite3"
    filled(path)
    assert statistics(path) == []
    db = wrapper(path)
    with db.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM item WHERE lab = 1 AND status = 'released'")
    db.close()
    assert ("item", "item_status") in statistics(path)


def test_a_connection_that_read_nothing_closes_without_analysing(tmp_path, own_files):
    path = tmp_path / "idle.sqlite3"
    filled(path)
    db = wrapper(path)
    db.ensure_connection()
    db.close()
    assert statistics(path) == []


def test_a_connection_closed_inside_a_transaction_is_closed_without_statistics(tmp_path, own_files):
    path = tmp_path / "open.sqlite3"
    filled(path)
    db = wrapper(path)
    db.ensure_connection()
    db.connection.execute("BEGIN")
    db.connection.execute("SELECT count(*) FROM item WHERE lab = 1").fetchone()
    db._close()
    assert db.connection is not None  # the wrapper's own bookkeeping, as Django's close leaves it
    assert statistics(path) == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded database only")
def test_the_embedded_database_uses_this_backend():
    assert settings.DATABASES["default"]["ENGINE"] == "cellclinic.core.sqlite"
    assert isinstance(connections["default"], DatabaseWrapper)
