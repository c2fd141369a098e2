"""Pandera schemas built from the contract and the rule table, and the failures read back from Pandera.

One ``DataFrameSchema`` per frame: every declared column with its dtype and nullability (its label as
the title, its help as the description), and every rule as its own named check (its name, and its
message as the check's description; its severity stays in the rule table — a check's ``error`` would
replace its name in Pandera's failure cases). Validation is lazy, so one call reports every failure;
``SchemaErrors.failure_cases`` then names the check (the rule), the column and the row — nothing is
evaluated a second time to find out what failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from schemas.contract import Column
from schemas.issues import short_value
from schemas.rules import Rule

NOT_NULLABLE = "not_nullable"  # the check Pandera names for a blank in a column declared not nullable

FAILURES_SCHEMA = {"index": pl.Int64, "rule": pl.String}


def _check(rule: Rule) -> pa.Check:
    return pa.Check(
        lambda data, ok=rule.ok: data.lazyframe.select(ok),
        name=rule.name,
        description=rule.message,
    )


def build_schema(name: str, columns: Iterable[Column], rules: Sequence[Rule]) -> pa.DataFrameSchema:
    """A frame's schema: its columns as declared, each rule a check on its column (or on the frame)."""
    columns = list(columns)
    declared = {col.name for col in columns}
    # A blank in a not-null column is reported under the column's ``required`` rule; one with none
    # (a frame this program builds) is the program's error, raised by ``failing_rules``.
    not_nullable = {col.name for col in columns if not col.nullable}
    for rule in rules:
        if rule.not_null and rule.column not in not_nullable:
            raise ValueError(f"{name}: {rule.name} is a required rule, but {rule.column} may be blank")
    checks: dict[str | None, list[pa.Check]] = {}
    for rule in rules:
        if rule.column is not None and rule.column not in declared:
            raise ValueError(f"{name}: rule {rule.name} is about an undeclared column {rule.column}")
        if not rule.not_null:
            checks.setdefault(rule.column, []).append(_check(rule))
    return pa.DataFrameSchema(
        {
            col.name: pa.Column(
                col.dtype,
                nullable=bool(col.nullable),
                checks=checks.get(col.name, []),
                title=col.label,
                description=col.help,
            )
            for col in columns
        },
        checks=checks.get(None, []),
        name=name,
        strict=False,  # context columns (``_``-prefixed) ride along undeclared
    )


def failing_rules(schema: pa.DataFrameSchema, rules: Sequence[Rule], frame: pl.DataFrame) -> pl.DataFrame:
    """``index`` (row position in ``frame``) and ``rule`` of every failure, in row then rule order.

    Raises ``SchemaErrors`` for a failure that names no row or no rule (a missing column, a wrong
    dtype, a check that crashed): those are the program's errors, not the return's.
    """
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        named, unnamed = read_failures(exc, rules)
        if not unnamed.is_empty():
            raise
        return named
    return pl.DataFrame(schema=FAILURES_SCHEMA)


def read_failures(exc: SchemaErrors, rules: Sequence[Rule]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pandera's failure cases as (``index``, ``rule``) pairs, in row then rule order, and apart
    from them Pandera's own rows that name no row or no rule (a missing column, a wrong type)."""
    by_name = {r.name: r.name for r in rules}
    by_null_column = {r.column: r.name for r in rules if r.not_null}
    rank = {r.name: i for i, r in enumerate(rules)}
    cases = exc.failure_cases.with_columns(
        pl.when(pl.col("check") == NOT_NULLABLE)
        .then(pl.col("column").replace_strict(by_null_column, default=None, return_dtype=pl.String))
        .otherwise(pl.col("check").replace_strict(by_name, default=None, return_dtype=pl.String))
        .alias("rule")
    )
    known = pl.col("index").is_not_null() & pl.col("rule").is_not_null()
    named = (
        cases.filter(known)
        .select(pl.col("index").cast(pl.Int64), "rule")
        .sort("index", pl.col("rule").replace_strict(rank, return_dtype=pl.Int64), maintain_order=True)
    )
    return named, cases.filter(~known).drop("rule")


# --------------------------------------------------------------------------- the sentence a team reads


def show(v: object) -> object:
    """Numbers as a person writes them: 24 not 24.0, 1.292 not 1.2916666666666667."""
    if isinstance(v, float):
        return int(v) if v.is_integer() else float(f"{v:.4g}")
    return "" if v is None else v


def offending_value(rule: Rule, row: Mapping[str, object]) -> object:
    """The value the rule is about, as the audit log keeps it."""
    column = rule.value_from or rule.column
    value = row.get(column) if column else None
    if rule.decimals is not None and isinstance(value, float):
        return round(value, rule.decimals)
    if not rule.exact and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def message(rule: Rule, row: Mapping[str, object], value: object) -> str:
    """The rule's sentence, filled in from the failing row."""
    values = dict(row) if rule.exact else {k: show(v) for k, v in row.items()}
    values["value"] = "(blank)" if value is None else short_value(show(value), 60)
    try:
        return rule.message.format(**values)
    except (KeyError, IndexError, ValueError):
        return rule.message
