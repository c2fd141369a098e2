"""Public entry points: ``analyse`` (all series at once) and ``analyse_one`` (the CLI contract)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from .constants import QICHARTS2_I_FACTOR
from .limits import add_limits, too_few_points
from .mdc import add_point_types, assurance_expr
from .prepare import OPTIONAL_COLUMNS, prepare
from .rulesets import DEFAULT_RULES, RuleSet
from .runs import add_runs

POINT_OUTPUT = (
    "value",
    "cl",
    "lcl",
    "ucl",
    "lcl_2s",
    "ucl_2s",
    "sigma_signal",
    "runs_signal",
    "shift_point",
    "trend_point",
    "baseline",
    "point_type",
    "signal_rule",
)
PART_OUTPUT = (
    "part",
    "chart",
    "x_first",
    "x_last",
    "n_obs",
    "n_useful",
    "longest_run",
    "longest_run_max",
    "crossings",
    "crossings_min",
    "runs_signal",
    "cl",
    "ihi_shift",
    "ihi_trend",
    "ihi_runs",
    "ihi_runs_min",
    "ihi_runs_max",
)


@dataclass(frozen=True)
class QIResult:
    """The three views the reports need: per point, per series x part, per series."""

    points: pl.DataFrame
    parts: pl.DataFrame
    series: pl.DataFrame


def analyse(
    points: pl.DataFrame,
    series_keys: list[str] = ["series_id"],  # noqa: B006 - the documented public signature
    *,
    i_factor: float = QICHARTS2_I_FACTOR,
    rules: RuleSet = DEFAULT_RULES,
) -> QIResult:
    """Analyse every series of ``points`` at once (see the package docstring for columns).

    ``i_factor`` is the I chart's limit multiple of the average moving range: 3/1.128 as in
    qicharts2 (default) or 2.66 as hard-coded in NHSRplotthedots. ``rules`` is the network's
    rule set (``rulesets``); the default reproduces joyflow's results before rule sets existed.
    """
    keys = list(series_keys)
    input_cols = list(dict.fromkeys([*points.columns, *OPTIONAL_COLUMNS]))
    df = prepare(points, keys, rules.baseline)
    df = add_limits(df, i_factor)
    df = too_few_points(df, rules.min_points)
    df, parts = add_runs(df, rules)
    df = add_point_types(df, rules)
    df = df.with_columns(pl.col("_use").alias("baseline"))
    parts = parts.with_columns(pl.col("chart").cast(pl.Utf8))

    raw = {
        "chart": pl.col("_chart_raw").alias("chart"),
        "direction": pl.col("_direction_raw").alias("direction"),
    }
    out_points = df.select(*(raw.get(c, c) for c in input_cols if c not in POINT_OUTPUT), *POINT_OUTPUT)
    # sorted by series: each series' last row is its latest point and carries its constants
    series = (
        df.lazy()
        .filter(pl.col("_last"))
        .select(
            "_sid",
            *keys,
            pl.col("chart").cast(pl.Utf8),
            pl.col("direction").cast(pl.Utf8),
            "target",
            pl.col("_idx").alias("n_points"),
            pl.col("x").alias("latest_x"),
            pl.col("value").alias("latest_value"),
            pl.col("cl").alias("cl_latest"),
            pl.col("lcl").alias("lcl_latest"),
            pl.col("ucl").alias("ucl_latest"),
            pl.col("point_type").alias("variation"),
            pl.col("signal_rule").alias("variation_rule"),
            "runs_signal",
            pl.col("_few").alias("too_few_points"),
        )
        .collect()
    )  # lazy, so only these columns are filtered
    part_keys = series.select(*keys).gather(parts["_sid"])
    out_parts = pl.concat([part_keys, parts.select(*PART_OUTPUT)], how="horizontal")
    series = series.with_columns(assurance_expr().alias("assurance")).select(
        *keys,
        "chart",
        "direction",
        "target",
        "n_points",
        "latest_x",
        "latest_value",
        "cl_latest",
        "lcl_latest",
        "ucl_latest",
        "variation",
        "assurance",
        "runs_signal",
        "variation_rule",
        "too_few_points",
    )
    return QIResult(points=out_points, parts=out_parts, series=series)


def parts_from_splits(splits: Sequence[int] | None, n: int) -> list[int]:
    """qicharts2 ``part = c(12, 24)``: a new part starts after point 12, another after 24."""
    cuts = sorted({int(s) for s in (splits or []) if 0 < int(s) < n})
    return [1 + sum(1 for s in cuts if s < i) for i in range(1, n + 1)]


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    return v


def analyse_one(
    y: Sequence[float | None],
    n: Sequence[float | None] | None = None,
    x: Sequence[Any] | None = None,
    chart: str = "run",
    freeze: int | None = None,
    part: Sequence[int] | None = None,
    exclude: Sequence[int] | None = None,
    screen: bool = False,
    target: float | None = None,
    direction: str | None = None,
    *,
    rules: RuleSet = DEFAULT_RULES,
    fix_after: int | Sequence[int | None] | None = None,
    summary: bool = False,
) -> dict[str, Any]:
    """One series through ``analyse``; the JSON contract of ``joyflow chart --json``.

    Conventions (qicharts2's): ``x`` defaults to 1..len(y); ``part`` is a list of split
    points -- ``[12, 24]`` starts new parts after the 12th and the 24th point; ``exclude``
    lists 1-based point numbers left out of the centre line and limits (still plotted and
    classified); ``freeze`` is the number of leading points that form the baseline.
    In the output, "y" is the plotted value (y/n for ratio charts).

    ``fix_after``: the baseline length of every part (one number, NHSRplotthedots
    ``fix_after_n_points`` with ``rebase``) or of each part in turn (a list; None = all points).
    ``summary=True`` adds per point ``part``, ``signal_rule``, ``shift_point``, ``trend_point``
    and a "series" entry (rule set, variation, assurance, the rule behind the variation, and
    whether there were too few points for limits) -- what ``joyflow chart --json`` will show.
    """
    size = len(y)
    part_no = parts_from_splits(part, size)
    if fix_after is None or isinstance(fix_after, int):
        fix = [fix_after] * size
    else:
        per_part = list(fix_after)
        if len(per_part) != max(part_no, default=1):
            raise ValueError(
                f"analyse_one: fix_after lists {len(per_part)} baseline length(s) for {max(part_no, default=1)} part(s)"
            )
        fix = [per_part[q - 1] for q in part_no]
    data: dict[str, pl.Series] = {
        "series_id": pl.Series([0] * size, dtype=pl.Int64),
        "x": pl.Series(list(x) if x is not None else list(range(1, size + 1))),
        "y": pl.Series(list(y), dtype=pl.Float64),
        "n": pl.Series(list(n) if n is not None else [None] * size, dtype=pl.Float64),
        "chart": pl.Series([chart] * size, dtype=pl.Utf8),
        "direction": pl.Series([direction] * size, dtype=pl.Utf8),
        "target": pl.Series([target] * size, dtype=pl.Float64),
        "freeze": pl.Series([freeze] * size, dtype=pl.Int64),
        "fix_after": pl.Series(fix, dtype=pl.Int64),
        "part": pl.Series(part_no, dtype=pl.Int64),
        "exclude": pl.Series([i + 1 in set(exclude or []) for i in range(size)], dtype=pl.Boolean),
        "screen": pl.Series([bool(screen)] * size, dtype=pl.Boolean),
    }
    if len(data["x"]) != size or len(data["n"]) != size:
        raise ValueError("analyse_one: x and n must have the same length as y")
    res = analyse(pl.DataFrame(data), ["series_id"], rules=rules)
    part_keys = (
        "n_useful",
        "longest_run",
        "longest_run_max",
        "crossings",
        "crossings_min",
        "runs_signal",
        "cl",
    )
    parts = [{k: _jsonable(r[k]) for k in part_keys} for r in res.parts.iter_rows(named=True)]
    points = [
        {
            "x": _jsonable(r["x"]),
            "y": _jsonable(r["value"]),
            "cl": _jsonable(r["cl"]),
            "lcl": _jsonable(r["lcl"]),
            "ucl": _jsonable(r["ucl"]),
            "sigma_signal": r["sigma_signal"],
            "point_type": r["point_type"],
            **(
                {
                    "part": r["part"],
                    "signal_rule": r["signal_rule"],
                    "shift_point": r["shift_point"],
                    "trend_point": r["trend_point"],
                }
                if summary
                else {}
            ),
        }
        for r in res.points.iter_rows(named=True)
    ]
    if not summary:
        return {"parts": parts, "points": points}
    row = res.series.row(0, named=True) if res.series.height else {}
    series = {"rules": rules.name} | {
        k: _jsonable(row.get(k))
        for k in ("variation", "variation_rule", "assurance", "runs_signal", "too_few_points", "target")
    }
    return {"parts": parts, "points": points, "series": series}
