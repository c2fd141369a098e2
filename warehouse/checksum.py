"""Per-table checksums of the warehouse: equal checksums mean equal content, on either dialect.

``table_checksums(engine)`` returns ``{table: sha256}`` for every table of the model (and the
``current_measure_value`` view). Two warehouses that hold the same data — a clean run and a
killed-then-re-run one, or the same run on SQLite and on PostgreSQL — get the same checksums.

How a table is hashed
---------------------
* Rows are read in primary-key order, sorted by the database in binary collation
  (``COLLATE "C"`` on PostgreSQL, SQLite's default BINARY): byte order of UTF-8, the same on
  both, whatever the database's locale. NULLs sort first on both. A table whose key is excluded
  (``delivery``) is ordered by all its remaining columns.
* Each value is normalised to one text form before hashing, so the dialects' different Python
  types do not matter: NULL and NaN → null; booleans → true/false (SQLite returns 0/1 without
  the type); integers → decimal digits; floats → ``repr`` of the IEEE double (``-0.0`` as
  ``0.0``; an integral REAL stored by SQLite in an INTEGER-affinity slot compares equal);
  dates → ``YYYY-MM-DD``; datetimes → ISO 8601 in UTC (SQLite keeps naive UTC text,
  PostgreSQL returns aware values); Decimals → their exact decimal text; bytes → hex.
* The hash covers the table name, the included column names in order, then every row as a
  canonical JSON array — so a column added by a migration changes the checksum.

Excluded: what legitimately differs between two correct runs of the same inputs
--------------------------------------------------------------------------------
Tables (``VOLATILE_TABLES``):

* ``pipeline_run`` — the log of runs itself: a re-run adds a row by design (it records that the
  re-run happened and found duplicates), and a killed run leaves its row behind (closed as
  failed when its lock is taken over). Its content is run ids and times.
* ``run_lock`` — transient: a row exists only while a run holds a period.

Columns (``VOLATILE_COLUMNS``):

* ``received_file``: ``first_seen_at`` (wall-clock time), ``first_run_id`` (run ids embed the
  start time and a random suffix), ``archive_path`` (the archive directory of the machine,
  i.e. ``JOYFLOW_HOME``). The file's identity (SHA-256), name, size, outcome, team, period and
  issue count are kept.
* ``submission``: ``run_id``. Version, ``load_seq``, supersession, status and the data are kept.
* ``validation_issue``: ``run_id`` and ``logged_at`` (run id and wall-clock time of the entry),
  and ``prev_hash``/``entry_hash``, because each entry's hash covers its ``run_id`` and
  ``logged_at``, so the hashes differ whenever those do. ``seq`` and every finding (file, part,
  row, column, check, severity, value, message) are kept, so the chain's order and content are
  still compared; the chain's integrity is checked separately (``warehouse.audit.chain.verify_entries``).
* ``report``: ``pdf_path``/``html_path`` (machine paths), ``rendered_at``, ``run_id``, and
  ``sha256`` of the PDF (WeasyPrint embeds the creation time in the file). ``content_key``, the
  hash of the report's inputs, is kept: it is what says whether a report's content changed.
* ``delivery``: ``delivery_id`` (an autoincrement: its values depend on how many attempts were
  made before), ``attempted_at``, ``run_id``, ``message_id`` (SMTP message ids embed a time and
  a random part).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
from collections.abc import Iterable

from sqlalchemy import Column, Engine, String, Table, Text, func, select

from warehouse.models import CURRENT_VALUE_VIEW, Base, current_value_view

VOLATILE_TABLES: dict[str, str] = {
    "pipeline_run": "the log of runs: a re-run adds a row by design; run ids and times",
    "run_lock": "transient: a row only while a run holds a period",
}

VOLATILE_COLUMNS: dict[str, frozenset[str]] = {
    "received_file": frozenset({"first_seen_at", "first_run_id", "archive_path"}),
    "submission": frozenset({"run_id"}),
    "validation_issue": frozenset({"run_id", "logged_at", "prev_hash", "entry_hash"}),
    "report": frozenset({"pdf_path", "html_path", "rendered_at", "run_id", "sha256"}),
    "delivery": frozenset({"delivery_id", "attempted_at", "run_id", "message_id"}),
    # participation imports (issue 15): like received_file, when and by which run, and the machine's archive
    "participation_import": frozenset({"imported_at", "run_id", "archive_path"}),
    "attendance_import": frozenset({"imported_at", "run_id", "archive_path"}),
}

VIEW_COLUMNS = tuple(c.name for c in current_value_view.columns)
VIEW_KEY = ("team_id", "measure_id", "period")
_BATCH = 10_000


def normalise(value: object) -> object:
    """One JSON-able form per value, whatever the dialect returned."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value == 0.0:
            value = 0.0  # -0.0 and 0.0 are the same value
        return {"f": repr(value)}
    if isinstance(value, decimal.Decimal):
        return {"d": format(value.normalize(), "f")}
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"t": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"b": bytes(value).hex()}
    return str(value)


def _float_columns(table: Table, names: Iterable[str]) -> set[str]:
    from sqlalchemy import Float

    return {n for n in names if isinstance(table.c[n].type, Float)}


def _order(col: Column, dialect: str):
    if isinstance(col.type, String | Text) and dialect == "postgresql":
        col = col.collate("C")
    return col.asc().nulls_first()


def _digest(
    engine: Engine, name: str, selectable, columns: list[Column], key: list[Column], floats: set[str]
) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([name, [c.name for c in columns]]).encode())
    dialect = engine.dialect.name
    stmt = select(*columns).order_by(*[_order(k, dialect) for k in key])
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=_BATCH).execute(stmt)
        for part in result.partitions(_BATCH):
            lines = []
            for row in part:
                values = []
                for col, v in zip(columns, row, strict=True):
                    if col.name in floats and isinstance(v, int) and not isinstance(v, bool):
                        v = float(v)  # SQLite may hand back an integral REAL as int
                    values.append(normalise(v))
                lines.append(json.dumps(values, ensure_ascii=False, separators=(",", ":")))
            h.update(("\n".join(lines) + "\n").encode("utf-8"))
    return h.hexdigest()


def table_checksum(engine: Engine, table: Table) -> str:
    excluded = VOLATILE_COLUMNS.get(table.name, frozenset())
    columns = [c for c in table.columns if c.name not in excluded]
    key = [c for c in table.primary_key.columns if c.name not in excluded] or columns
    if len(key) < len(table.primary_key.columns):
        key = columns  # part of the key is volatile: order by everything that is compared
    return _digest(engine, table.name, table, columns, key, _float_columns(table, [c.name for c in columns]))


def view_checksum(engine: Engine) -> str:
    from sqlalchemy import Float, column, table

    view = table(
        CURRENT_VALUE_VIEW,
        *[
            column(n, Float() if n in ("numerator", "denominator", "value") else String())
            for n in VIEW_COLUMNS
        ],
    )
    cols = [view.c[n] for n in VIEW_COLUMNS]
    return _digest(
        engine,
        CURRENT_VALUE_VIEW,
        view,
        cols,
        [view.c[n] for n in VIEW_KEY],
        {"numerator", "denominator", "value"},
    )


def table_checksums(
    engine: Engine, *, include_volatile: bool = False, include_view: bool = True
) -> dict[str, str]:
    """``{table: sha256}`` over every model table (not ``VOLATILE_TABLES`` unless asked), in name order."""
    out = {}
    for table in sorted(Base.metadata.tables.values(), key=lambda t: t.name):
        if table.name in VOLATILE_TABLES and not include_volatile:
            continue
        out[table.name] = table_checksum(engine, table)
    if include_view:
        out[CURRENT_VALUE_VIEW] = view_checksum(engine)
    return out


def row_counts(engine: Engine, *, include_volatile: bool = True) -> dict[str, int]:
    """``{table: rows}`` over every model table, in name order."""
    out = {}
    with engine.connect() as conn:
        for table in sorted(Base.metadata.tables.values(), key=lambda t: t.name):
            if table.name in VOLATILE_TABLES and not include_volatile:
                continue
            out[table.name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return out


def diff(a: dict[str, str], b: dict[str, str]) -> list[str]:
    """Names whose checksums differ (or that only one side has)."""
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
