"""Database triggers that make the audit tables append-only, on SQLite and PostgreSQL.

SQLite has no TRUNCATE (an unqualified DELETE fires the row trigger); PostgreSQL gets a
statement-level TRUNCATE trigger too, so the whole table cannot be emptied in one go either.
"""

TABLES = ("audit_auditevent", "audit_signature", "audit_accessevent")

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


def create_statements(vendor: str, tables: tuple[str, ...] = TABLES) -> list[str]:
    if vendor == "sqlite":
        return [
            _SQLITE_CREATE.format(table=table, op=op.lower(), OP=op)
            for table in tables
            for op in ("UPDATE", "DELETE")
        ]
    if vendor == "postgresql":
        return [_PG_FUNCTION] + [_PG_CREATE.format(table=table) for table in tables]
    raise RuntimeError(f"no append-only triggers are written for the {vendor} database")


def drop_statements(vendor: str, tables: tuple[str, ...] = TABLES) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for table in tables for op in ("update", "delete")]
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}"
            for table in tables
            for name in ("append_only", "no_truncate")
        ]
    return []


def install(connection, tables: tuple[str, ...] = TABLES) -> None:
    with connection.cursor() as cursor:
        for statement in create_statements(connection.vendor, tables):
            cursor.execute(statement)


def uninstall(connection, tables: tuple[str, ...] = TABLES) -> None:
    with connection.cursor() as cursor:
        for statement in drop_statements(connection.vendor, tables):
            cursor.execute(statement)


# PostgreSQL extends the access log in one call of this function: it waits for the access log's own
# advisory lock, then reads the newest hash with a fresh snapshot (a volatile function takes one per
# statement), so two readers at the same moment can never chain to the same event. SQLite needs no
# function: a single INSERT ... SELECT runs under its one write lock (see services.record_access).
# The access log's advisory lock key is 1094927173 (0x41434345, "ACCE"), apart from the audit trail's.
_PG_ACCESS_APPEND = """
CREATE OR REPLACE FUNCTION cellclinic_access_append(
    p_occurred_at timestamptz, p_actor_id bigint, p_actor_name varchar, p_site_id bigint,
    p_patient_id bigint, p_action varchar, p_object_type varchar, p_object_id varchar, p_details jsonb,
    p_request_id varchar, p_client_request_id varchar, p_digest text
) RETURNS void AS $$
DECLARE
    prev text;
BEGIN
    PERFORM pg_advisory_xact_lock(1094927173);
    SELECT hash INTO prev FROM audit_accessevent ORDER BY id DESC LIMIT 1;
    prev := COALESCE(prev, repeat('0', 64));
    INSERT INTO audit_accessevent (
        occurred_at, actor_id, actor_name, site_id, patient_id, action, object_type, object_id, details,
        request_id, client_request_id, prev_hash, hash
    ) VALUES (
        p_occurred_at, p_actor_id, p_actor_name, p_site_id, p_patient_id, p_action, p_object_type,
        p_object_id, p_details, p_request_id, p_client_request_id, prev,
        encode(sha256(convert_to(p_digest || prev, 'UTF8')), 'hex')
    );
END;
$$ LANGUAGE plpgsql VOLATILE;
"""


def install_access_append(connection) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PG_ACCESS_APPEND)


def uninstall_access_append(connection) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP FUNCTION IF EXISTS cellclinic_access_append")
