"""How long each matched person was in a meeting, and whether that counts as attending.

A person who joined twice, or from a laptop and a phone at once, was present for the union of
their sessions, never the sum: overlapping time is counted once. Sessions with no times (a sign-in
sheet) mean present for the whole meeting. The network sets the minimum time that counts as
attending (``min_minutes`` in ``network.toml``).
"""

from __future__ import annotations

import polars as pl


def time_present(matched: pl.DataFrame, meeting_seconds: int | None) -> pl.DataFrame:
    """Per ``person_id``: ``seconds`` present (union of their sessions) and ``sessions`` counted.

    ``matched``: sessions with ``person_id`` (unmatched rows are ignored), ``joined``, ``left`` and
    ``seconds``. ``meeting_seconds``: the meeting's length, for sessions that carry no times.
    """
    rows = matched.filter(pl.col("person_id").is_not_null())
    timed = rows.filter(pl.col("joined").is_not_null() & pl.col("left").is_not_null())
    untimed = rows.filter(pl.col("joined").is_null() | pl.col("left").is_null())
    blocks = (
        timed.sort("person_id", "joined")
        .with_columns(pl.col("left").cum_max().shift(1).over("person_id").alias("_reach"))
        .with_columns(
            (pl.col("_reach").is_null() | (pl.col("joined") > pl.col("_reach")))
            .cum_sum()
            .over("person_id")
            .alias("_block")
        )
        .group_by("person_id", "_block")
        .agg(
            (pl.col("left").max() - pl.col("joined").min()).dt.total_seconds().alias("seconds"),
            pl.len().alias("sessions"),
        )
        .group_by("person_id")
        .agg(pl.col("seconds").sum(), pl.col("sessions").sum())
    )
    whole = untimed.group_by("person_id").agg(
        pl.col("seconds").max().fill_null(meeting_seconds or 0).alias("seconds"), pl.len().alias("sessions")
    )
    return (
        pl.concat(
            [
                blocks.cast({"seconds": pl.Int64, "sessions": pl.Int64}),
                whole.cast({"seconds": pl.Int64, "sessions": pl.Int64}),
            ]
        )
        .group_by("person_id")
        .agg(pl.col("seconds").max(), pl.col("sessions").sum())
        .sort("person_id")
    )
