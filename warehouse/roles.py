"""PostgreSQL roles: the pipeline writes; auditors get a role that can read and nothing else.

* **Writer** — the role in ``JOYFLOW_WAREHOUSE_URL``. It runs the Alembic migrations, so it owns
  the warehouse schema's tables and view; the pipeline needs nothing more (the bulk path's
  index and key rebuild also needs ownership). Give it ``CREATE`` on the schema (or its own
  schema) and nothing on other databases.
* **Read-only** — for auditors and dashboards: ``grant_readonly(engine, role)`` (CLI:
  ``joyflow db grant-readonly NAME``) on an existing login role gives ``USAGE`` on the
  warehouse schema and ``SELECT`` on every table and view in it — also on tables later
  migrations create (default privileges of the writer role) — and takes away ``CREATE`` on the
  schema. It cannot insert, update, delete, truncate or create anything there.
  ``revoke_readonly`` takes all of that back (before ``DROP ROLE``).

The schema is the connection's ``current_schema()``, i.e. the first schema of the URL's
``search_path`` (default ``public``).
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, Engine, text

from joyflow.errors import ConfigError

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _checked(engine: Engine, role: str) -> None:
    if engine.dialect.name != "postgresql":
        raise ConfigError(
            "Roles exist only on PostgreSQL; a SQLite warehouse is protected by file permissions."
        )
    if not _ROLE.match(role):
        raise ConfigError(f"'{role}' is not a plain PostgreSQL role name (lower-case letters, digits, _).")


def _schema_and_role(conn: Connection, role: str) -> tuple[str, str]:
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if not exists:
        raise ConfigError(
            f"Role {role} does not exist; create it first (CREATE ROLE {role} LOGIN PASSWORD …)."
        )
    schema = conn.execute(text("SELECT current_schema()")).scalar()
    if schema is None:
        raise ConfigError("The warehouse connection has no current schema (check search_path in the URL).")
    ident = conn.dialect.identifier_preparer.quote
    return ident(schema), ident(role)


def grant_readonly(engine: Engine, role: str) -> None:
    """GRANT SELECT on every table and view, now and for tables created later by migrations."""
    _checked(engine, role)
    with engine.begin() as conn:
        schema, who = _schema_and_role(conn, role)
        # Identifiers cannot be bound parameters; both are validated above and quoted.
        conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {who}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {who}"))
        conn.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {who}"))
        conn.execute(text(f"REVOKE CREATE ON SCHEMA {schema} FROM {who}"))


def revoke_readonly(engine: Engine, role: str) -> None:
    """Undo ``grant_readonly`` (so the role can be dropped)."""
    _checked(engine, role)
    with engine.begin() as conn:
        schema, who = _schema_and_role(conn, role)
        conn.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE SELECT ON TABLES FROM {who}"))  # noqa: S608
        conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {who}"))
        conn.execute(text(f"REVOKE USAGE ON SCHEMA {schema} FROM {who}"))
