"""PostgreSQL privileges for running the application as a role that cannot rewrite history.

The owner role (MIGRATE_DATABASE_URL) owns the tables and runs migrations; the application
role (DATABASE_URL) may read and write research data but may only INSERT audit records
(plus move the chain head). Even with the triggers dropped by the owner, the application
role cannot UPDATE, DELETE or TRUNCATE the trail. Re-run after every migrate (the statements
are idempotent; default privileges cover tables created later, the REVOKEs must follow).
"""

from __future__ import annotations

__all__ = ["grants_sql"]

AUDIT_TABLE = "audit_auditrecord"
HEAD_TABLE = "audit_auditchainhead"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def grants_sql(app_role: str, owner_role: str, schema: str = "public") -> list[str]:
    app, owner, space = _ident(app_role), _ident(owner_role), _ident(schema)
    return [
        f"GRANT USAGE ON SCHEMA {space} TO {app}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {space} TO {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {space} TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {space} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {space} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {app}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {space}.{AUDIT_TABLE} FROM {app}",
        f"REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON {space}.{HEAD_TABLE} FROM {app}",
    ]
