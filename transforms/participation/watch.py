"""The watch list: teams drifting away from the network, each with its reasons in words.

A team is listed for any of: fewer than two named participants at too many of its recent
meetings; a required role vacant too long; too many late, missing or rejected returns lately; a
self-assessed progress score below 4.0 that has not moved for months. Thresholds are the network's
(``schemas.participation.ParticipationSettings``). Teams with more reasons come first.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from schemas.participation import ParticipationSettings
from transforms.participation.meetings import TWO
from transforms.participation.roles import ROLE_WORDS


def _date_words(col: str) -> pl.Expr:
    return pl.col(col).dt.strftime("%-d %B %Y")


def missed_meeting_reasons(attended: pl.DataFrame, settings: ParticipationSettings) -> pl.DataFrame:
    recent = attended.sort("held_on").group_by("team_id").tail(settings.recent_meetings)
    return (
        recent.group_by("team_id")
        .agg(pl.len().alias("_held"), (pl.col("named_present") < TWO).sum().alias("_short"))
        .filter(pl.col("_short") >= settings.missed_meetings)
        .select(
            "team_id",
            pl.format(
                "fewer than two named participants at {} of its last {} meetings", "_short", "_held"
            ).alias("reason"),
        )
    )


def vacancy_reasons(coverage: pl.DataFrame, on: dt.date, settings: ParticipationSettings) -> pl.DataFrame:
    return (
        coverage.filter(pl.col("vacant_since").is_not_null())
        .with_columns(((pl.lit(on) - pl.col("vacant_since")).dt.total_days()).alias("_days"))
        .filter(pl.col("_days") >= settings.vacancy_days)
        .select(
            "team_id",
            pl.format(
                "no {} since {} ({} days)",
                pl.col("role").replace_strict(ROLE_WORDS),
                _date_words("vacant_since"),
                "_days",
            ).alias("reason"),
        )
    )


def return_reasons(grid: pl.DataFrame, settings: ParticipationSettings) -> pl.DataFrame:
    """``grid``: team_id, period, status (the compliance grid's words) over the recent periods."""
    recent = (
        grid.filter(pl.col("status") != "not_due")
        .sort("period")
        .group_by("team_id")
        .tail(settings.recent_periods)
    )
    late = pl.col("status").is_in(["late", "missing", "rejected"])
    return (
        recent.group_by("team_id")
        .agg(
            late.sum().alias("_n"),
            pl.len().alias("_of"),
            pl.concat_str(pl.col("period"), pl.lit(" "), pl.col("status")).filter(late).alias("_which"),
        )
        .filter(pl.col("_n") >= settings.late_returns)
        .select(
            "team_id",
            pl.format(
                "{} of its last {} returns late, missing or rejected ({})",
                "_n",
                "_of",
                pl.col("_which").list.join(", "),
            ).alias("reason"),
        )
    )


def stalled_score_reasons(scores: pl.DataFrame, settings: ParticipationSettings) -> pl.DataFrame:
    """``scores``: team_id, period, progress_score (the team's own, from its returns)."""
    latest = (
        scores.drop_nulls("progress_score")
        .sort("period")
        .group_by("team_id")
        .agg(
            pl.col("progress_score").tail(settings.stalled_months).alias("_last"),
            pl.col("progress_score").last().alias("_now"),
        )
    )
    return latest.filter(
        (pl.col("_last").list.len() >= settings.stalled_months)
        & (pl.col("_last").list.n_unique() == 1)
        & (pl.col("_now") < 4.0)
    ).select(
        "team_id",
        pl.format(
            "progress score {} unchanged for {} months", pl.col("_now").round(1), pl.col("_last").list.len()
        ).alias("reason"),
    )


def watch_list(reasons: list[pl.DataFrame], teams: pl.DataFrame) -> pl.DataFrame:
    """One row per team on the list: ``reasons`` (in the order given) and how many, most first."""
    stacked = pl.concat(
        [r.with_columns(pl.lit(i).alias("_kind")) for i, r in enumerate(reasons)], how="vertical"
    )
    return (
        stacked.sort("_kind", maintain_order=True)
        .group_by("team_id", maintain_order=True)
        .agg(pl.col("reason").alias("reasons"))
        .join(teams.select("team_id"), on="team_id")
        .with_columns(pl.col("reasons").list.len().alias("n_reasons"))
        .sort(["n_reasons", "team_id"], descending=[True, False])
    )
