"""PostgreSQL roles: the pipeline writes; auditors get a role that can read and nothing else."""

from __future__ import annotations

import re

from sqlalchemy import Engine, text

from joyflow.errors import ConfigError

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_readonly(engine: Engine, role: str) -> None:
    """GRANT SELECT on every table and view, now and for tables created later by migrations."""
    if engine.dialect.name != "postgresql":
        raise ConfigError("Roles exist only on PostgreSQL; a SQLite warehouse is protected by file permissions.")
    if not _ROLE.match(role):
        raise ConfigError(f"'{role}' is not a plain PostgreSQL role name (lower-case letters, digits, _).")
    with engine.begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        if not exists:
            raise ConfigError(f"Role {role} does not exist; create it first (CREATE ROLE {role} LOGIN PASSWORD …).")
        schema = conn.execute(text("SELECT current_schema()")).scalar()
        ident = conn.dialect.identifier_preparer.quote
        # Identifiers cannot be bound parameters; both are validated/quoted above.
        conn.execute(text(f"GRANT USAGE ON SCHEMA {ident(schema)} TO {ident(role)}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {ident(schema)} TO {ident(role)}"))
        conn.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {ident(schema)} GRANT SELECT ON TABLES TO {ident(role)}"))
        conn.execute(text(f"REVOKE CREATE ON SCHEMA {ident(schema)} FROM {ident(role)}"))
