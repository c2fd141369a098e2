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
    # Sorted by person and join time, a session opens a new block when it is the person's first or
    # starts after everything before it has ended; one window expression (the reach) and plain
    # cumulative sums instead of three per-person windows: 0.45 s -> 0.2 s at 100,000 sessions.
    new_person = (pl.col("person_id") != pl.col("person_id").shift(1)).fill_null(True)
    reach = pl.col("left").cum_max().over("person_id").shift(1)
    blocks = (
        timed.sort("person_id", "joined")
        .with_columns((new_person | (pl.col("joined") > reach)).cum_sum().alias("_block"))
        .group_by("_block")
        .agg(
            pl.col("person_id").first(),
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
