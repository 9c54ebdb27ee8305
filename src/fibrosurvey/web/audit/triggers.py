"""Database triggers that refuse every UPDATE, DELETE and TRUNCATE of audit records.

They stop the application (and anyone using its database role) from changing the trail
with raw SQL. The database owner can drop them; that is what the signed chain, the anchor
and ``verify_audit`` (which also reports a missing trigger) are for.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TRIGGERS", "install_sql", "missing_triggers", "remove_sql"]

TABLE = "audit_auditrecord"

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION 'audit records cannot be changed';
  END IF;
  RAISE EXCEPTION 'audit records cannot be deleted';
END $$ LANGUAGE plpgsql
"""
TRIGGERS = {
    "postgresql": {
        "audit_append_only": (
            f"CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
        ),
        "audit_no_truncate": (
            f"CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        ),
    },
    "sqlite": {
        "audit_no_update": (
            f"CREATE TRIGGER audit_no_update BEFORE UPDATE ON {TABLE} "
            "BEGIN SELECT RAISE(ABORT, 'audit records cannot be changed'); END"
        ),
        "audit_no_delete": (
            f"CREATE TRIGGER audit_no_delete BEFORE DELETE ON {TABLE} "
            "BEGIN SELECT RAISE(ABORT, 'audit records cannot be deleted'); END"
        ),
    },
}


def remove_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {TABLE}" for name in TRIGGERS[vendor]]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS.get(vendor, {})]


def install_sql(vendor: str) -> list[str]:
    create = list(TRIGGERS.get(vendor, {}).values())
    if vendor == "postgresql":
        create.insert(0, _PG_FUNCTION)
    return remove_sql(vendor) + create


def missing_triggers(connection: Any) -> list[str]:
    """Names of the append-only triggers absent (or disabled) in this database."""
    expected = set(TRIGGERS.get(connection.vendor, {}))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass "
                "AND NOT tgisinternal AND tgenabled <> 'D'",
                [TABLE],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
        present = {row[0] for row in cursor.fetchall()}
    return sorted(expected - present)
