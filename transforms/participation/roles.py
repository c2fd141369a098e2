"""The three roles every team must fill, held on a given date, and how long each has been vacant.

Seed 003: one senior leader (who sits on the steering committee), one core leader or unit-level
manager, one frontline clinician. A person holds a role from ``joined_on`` until ``left_on``
(exclusive); a role is vacant from the day its last holder left, or since the team joined the
network if nobody has held it.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from schemas.contract import PARTICIPANT_ROLES

ROLES: tuple[str, ...] = PARTICIPANT_ROLES
ROLE_WORDS = {
    "senior_leader": "senior leader",
    "core_leader": "core leader or unit-level manager",
    "frontline_clinician": "frontline clinician",
}


def _active(people: pl.DataFrame, on: dt.date) -> pl.Expr:
    return (pl.col("joined_on") <= on) & (pl.col("left_on").is_null() | (pl.col("left_on") > on))


def role_coverage(teams: pl.DataFrame, people: pl.DataFrame, on: dt.date) -> pl.DataFrame:
    """Per team and role: ``holders`` (how many hold it on ``on``) and ``vacant_since`` (null when held).

    ``teams``: team_id, joined_on (the first day of the team's first period).
    ``people``: team_id, person_id, role, joined_on, left_on.
    """
    grid = teams.select("team_id", pl.col("joined_on").alias("_team_joined")).join(
        pl.DataFrame({"role": list(ROLES)}), how="cross"
    )
    held = people.filter(_active(people, on)).group_by("team_id", "role").agg(pl.len().alias("holders"))
    last_left = (
        people.filter(pl.col("left_on").is_not_null() & (pl.col("left_on") <= on))
        .group_by("team_id", "role")
        .agg(pl.col("left_on").max().alias("_last_left"))
    )
    return (
        grid.join(held, on=["team_id", "role"], how="left")
        .join(last_left, on=["team_id", "role"], how="left")
        .with_columns(pl.col("holders").fill_null(0).cast(pl.Int64))
        .select(
            "team_id",
            "role",
            "holders",
            pl.when(pl.col("holders") > 0)
            .then(None)
            .otherwise(pl.max_horizontal("_last_left", "_team_joined"))
            .alias("vacant_since"),
        )
        .sort("team_id", pl.col("role").replace_strict({r: i for i, r in enumerate(ROLES)}))
    )


def roles_by_team(coverage: pl.DataFrame) -> pl.DataFrame:
    """One row per team: ``roles_covered`` and ``roles_missing`` as lists, in the seed's order."""
    return coverage.group_by("team_id", maintain_order=True).agg(
        pl.col("role").filter(pl.col("holders") > 0).alias("roles_covered"),
        pl.col("role").filter(pl.col("holders") == 0).alias("roles_missing"),
        pl.col("vacant_since").min().alias("vacant_since"),
    )
