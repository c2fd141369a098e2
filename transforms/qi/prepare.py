"""Normalise the long input frame: defaults, ordering, dense ids, plotted value, baseline flags.

Every later step relies on the frame being sorted by series then x, with dense integer ids
``_sid`` (series) and ``_gid`` (series x part), so group statistics can be gathered back by
position instead of joined.
"""

from __future__ import annotations

import polars as pl

from .constants import CHARTS, RATIO_CHARTS
from .frame import add

OPTIONAL_COLUMNS: dict[str, pl.DataType] = {
    "n": pl.Float64(),
    "direction": pl.Utf8(),
    "target": pl.Float64(),
    "freeze": pl.Int64(),
    "fix_after": pl.Int64(),
    "part": pl.Int64(),
    "exclude": pl.Boolean(),
    "screen": pl.Boolean(),
}


CHART_ENUM = pl.Enum(list(CHARTS))
DIRECTION_ENUM = pl.Enum(["up", "down"])


def _as_enum(col: pl.Series, dtype: pl.Enum, what: str) -> pl.Series:
    """Cast to a small Enum (fast comparisons); lower-case and name the culprits on failure."""
    try:
        return col.cast(dtype)
    except pl.exceptions.InvalidOperationError:
        low = col.cast(pl.Utf8).str.to_lowercase()
        bad = sorted(set(low.drop_nulls().unique().to_list()) - set(dtype.categories.to_list()))
        if bad:
            raise ValueError(
                f"analyse: unknown {what} {bad}; expected one of {dtype.categories.to_list()}"
            ) from None
        return low.cast(dtype)


def with_defaults(points: pl.DataFrame, series_keys: list[str], keep_raw: bool = False) -> pl.DataFrame:
    """Add absent optional columns as nulls; cast known columns (chart, direction as Enums).

    ``keep_raw`` keeps the caller's chart/direction columns as ``_chart_raw``/``_direction_raw``
    so they can be handed back unchanged (casting 2.4 M Enums back to strings is not free).
    """
    missing = [c for c in (*series_keys, "x", "y", "chart") if c not in points.columns]
    if missing:
        raise ValueError(f"analyse: missing required column(s) {missing}")
    absent = [pl.lit(None, dtype=t).alias(c) for c, t in OPTIONAL_COLUMNS.items() if c not in points.columns]
    df = points.with_columns(absent) if absent else points
    df = add(
        df,
        pl.col("y").cast(pl.Float64),
        *(pl.col(c).cast(t) for c, t in OPTIONAL_COLUMNS.items() if c != "direction"),
    )
    if keep_raw:
        df = df.with_columns(pl.col("chart").alias("_chart_raw"), pl.col("direction").alias("_direction_raw"))
    if df["chart"].null_count():
        raise ValueError("analyse: chart must not be null")
    return df.with_columns(
        _as_enum(df["chart"], CHART_ENUM, "chart type(s)"),
        _as_enum(df["direction"], DIRECTION_ENUM, "direction(s)"),
    )


def _is_sorted(df: pl.DataFrame, order: list[str]) -> bool:
    """Strictly increasing in ``order`` lexicographically (no nulls): the sort can be skipped."""
    if df.height < 2 or any(df[c].null_count() for c in order):
        return df.height < 2
    later = pl.col(order[-1]) > pl.col(order[-1]).shift(1)
    for c in reversed(order[:-1]):
        later = (pl.col(c) > pl.col(c).shift(1)) | ((pl.col(c) == pl.col(c).shift(1)) & later)
    return bool(df.lazy().select(later.slice(1).all()).collect().item())


def prepare(points: pl.DataFrame, series_keys: list[str], baseline: int | None = None) -> pl.DataFrame:
    """Sorted frame with ids, index, part, plotted ``value`` and the baseline/include flags.

    The points of a part that fix its limits: the first ``fix_after`` points of the part when
    that column is set (NHSRplotthedots ``fix_after_n_points``, applied per rebase group); else,
    in the first part, the first ``freeze`` points (qicharts2 ``freeze``); else the first
    ``baseline`` points of every part (the rule set's baseline); else all of them.
    """
    df = with_defaults(points, series_keys, keep_raw=True)
    order = [*series_keys, "x"]
    if not _is_sorted(df, order):
        df = df.sort(order)
    keys_change = pl.any_horizontal([pl.col(k).ne_missing(pl.col(k).shift(1)) for k in series_keys])
    first = pl.col("_first")
    # one lazy query over just the columns it reads; ids come from running counts (sorted frame)
    q = df.lazy().select(*series_keys, "y", "n", "chart", "freeze", "fix_after", "part", "exclude", "screen")
    q = q.with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"),
        keys_change.fill_null(True).alias("_first"),
        pl.col("n").is_not_null().alias("_nn"),
    )
    # a new part starts where `part` changes within the series (nulls compare equal)
    new_group = first | pl.col("part").ne_missing(pl.col("part").shift(1))
    q = q.with_columns(
        first.shift(-1, fill_value=True).alias("_last"),
        (first.cast(pl.Int32).cum_sum() - 1).set_sorted().alias("_sid"),
        (new_group.cast(pl.Int32).cum_sum() - 1).set_sorted().alias("_gid"),
        (pl.col("_row") - pl.when(first).then(pl.col("_row")).forward_fill() + 1).alias("_idx"),
        pl.col("_nn").cast(pl.Int32).cum_sum().alias("_nn_run"),
    )
    chart = pl.col("chart")
    ratio = chart.is_in(RATIO_CHARTS)
    n_pos = pl.when(pl.col("n") > 0).then(pl.col("n"))
    # series with any denominator: running count at its last row minus the count before its first
    nn_before = pl.when(first).then(pl.col("_nn_run") - pl.col("_nn").cast(pl.Int32)).forward_fill()
    nn_total = pl.when(pl.col("_last")).then(pl.col("_nn_run")).backward_fill() - nn_before
    q = q.with_columns(
        (pl.col("_gid") - pl.when(first).then(pl.col("_gid")).forward_fill() + 1)
        .cast(pl.Int64)
        .alias("_part"),
        # run, i, mr: y/n when the series has denominators (qicharts2); c: the count itself
        pl.when(ratio | ((nn_total > 0) & (chart != "c")))
        .then(pl.col("y") / n_pos)
        .otherwise(pl.col("y"))
        .fill_nan(None)
        .alias("_v0"),
    )
    same_group_prev = pl.col("_gid") == pl.col("_gid").shift(1)
    mr_value = pl.when(same_group_prev).then((pl.col("_v0") - pl.col("_v0").shift(1)).abs())
    part_start = (
        pl.when(pl.col("_gid") != pl.col("_gid").shift(1).fill_null(-1)).then(pl.col("_row")).forward_fill()
    )
    fix = pl.coalesce(
        pl.col("fix_after"),
        pl.when(pl.col("_part") == 1).then(pl.col("freeze")),
        pl.lit(baseline, dtype=pl.Int64),
    )
    in_base = fix.is_null() | (pl.col("_row") - part_start + 1 <= fix)
    inc = ~pl.col("exclude").fill_null(False)
    q = q.with_columns(
        pl.when(chart == "mr").then(mr_value).otherwise(pl.col("_v0")).alias("value"),
        (in_base & inc).alias("_bi"),
        inc.alias("_inc"),
        pl.col("screen").fill_null(False).alias("_screen"),
        # like qicharts2 (complete.cases), a missing numerator also drops its denominator
        pl.when(ratio & pl.col("y").is_not_null()).then(n_pos).alias("_n"),
    )
    q = q.with_columns((pl.col("_bi") & pl.col("value").is_not_null()).alias("_use"))
    new = q.select(
        "_row", "_last", "_sid", "_gid", "_idx", "_part", "value", "_bi", "_inc", "_screen", "_n", "_use"
    ).collect()
    return df.with_columns(new.get_columns())
