"""The return's rules as bare Polars expressions: the floor under the Pandera schemas.

Not used by the pipeline. The benchmark times it beside ``schemas.returns.check_frame``, and a
test holds the two to naming the same failures.
"""

from __future__ import annotations

import polars as pl

from schemas.rules import RULES


def bare_rules(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``index`` and ``rule`` of each failure of a frame's rules: a row fails where a rule is False."""
    rules = [r for r in RULES if r.frame == name]
    if not rules:
        return pl.DataFrame(schema={"index": pl.Int64, "rule": pl.String})
    flags = frame.select(*[(~r.ok.fill_null(True)).alias(r.name) for r in rules]).with_row_index("index")
    return (
        flags.unpivot(index="index", variable_name="rule", value_name="failed")
        .filter("failed")
        .select(pl.col("index").cast(pl.Int64), "rule")
    )
