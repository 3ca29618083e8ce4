"""Database triggers that make the audit tables append-only, on SQLite and PostgreSQL.

SQLite has no TRUNCATE (an unqualified DELETE fires the row trigger); PostgreSQL gets a
statement-level TRUNCATE trigger too, so the whole table cannot be emptied in one go either.
"""

TABLES = ("audit_auditevent", "audit_signature")

_SQLITE_CREATE = """
CREATE TRIGGER IF NOT EXISTS {table}_no_{op} BEFORE {OP} ON {table}
BEGIN
    SELECT RAISE(ABORT, '{table} is append-only: {OP} is not allowed');
END;
"""

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION cellclinic_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
"""

_PG_CREATE = """
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION cellclinic_append_only();
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION cellclinic_append_only();
"""


def create_statements(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [
            _SQLITE_CREATE.format(table=table, op=op.lower(), OP=op)
            for table in TABLES
            for op in ("UPDATE", "DELETE")
        ]
    if vendor == "postgresql":
        return [_PG_FUNCTION] + [_PG_CREATE.format(table=table) for table in TABLES]
    raise RuntimeError(f"no append-only triggers are written for the {vendor} database")


def drop_statements(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for table in TABLES for op in ("update", "delete")]
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}"
            for table in TABLES
            for name in ("append_only", "no_truncate")
        ]
    return []


def install(connection) -> None:
    with connection.cursor() as cursor:
        for statement in create_statements(connection.vendor):
            cursor.execute(statement)


def uninstall(connection) -> None:
    with connection.cursor() as cursor:
        for statement in drop_statements(connection.vendor):
            cursor.execute(statement)
