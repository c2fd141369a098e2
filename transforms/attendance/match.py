"""Who was who: each attendance session matched to one of the network's named participants.

In this order, and never by guessing: the email the meeting tool recorded (any case); then the
person's name, normalised (case, accents, punctuation, 'Surname, Forename', a device or guest
mark in brackets) — first among the people of the meeting's own team, when it is one team's
(coaching), then among the whole network's; then the aliases the data manager has confirmed for a
person. A name shared by two participants of the same scope matches neither: two Sam Lees in
different teams are told apart in each team's coaching, but not on an all-team call. Whoever is
left is listed as unmatched for the data manager to resolve, with the names and email the file gave.
"""

from __future__ import annotations

import polars as pl

from schemas.names import name_key

_BRACKETED = r"\s*\([^()]*\)\s*$"


def _name_candidates(sessions: pl.DataFrame) -> pl.DataFrame:
    """Every name a session could be: as shown, without a trailing bracketed mark, and the mark itself
    (Zoom's original name of a renamed device)."""
    shown = pl.col("name")
    return (
        sessions.select(
            "_session",
            pl.concat_list(
                shown,
                shown.str.replace(_BRACKETED, ""),
                pl.col("original_name"),
                shown.str.extract(r"\(([^()]*)\)\s*$", 1),
            ).alias("_candidate"),
        )
        .explode("_candidate")
        .with_columns(name_key(pl.col("_candidate")).alias("_key"))
        .drop_nulls("_key")
        .select("_session", "_key")
        .unique()
    )


def match_sessions(sessions: pl.DataFrame, people: pl.DataFrame, aliases: pl.DataFrame) -> pl.DataFrame:
    """``sessions`` with ``person_id`` and ``matched_by`` (email, name, alias; null when unmatched).

    ``people``: person_id, name, email, and team_id if the sessions have one (a person with a role
    change has a row per role: each person counts once). ``aliases``: alias, person_id (confirmed
    by the data manager). ``sessions`` may carry ``team_id``: the team whose meeting it was (null
    for a network meeting), whose people a name is looked for among first.
    """
    by_team = "team_id" in sessions.columns and "team_id" in people.columns
    people = people.unique(["person_id", "name", "email"], keep="last", maintain_order=True)
    numbered = sessions.with_row_index("_session")
    emails = (
        people.filter(pl.col("email").is_not_null())
        .select(pl.col("email").str.to_lowercase().str.strip_chars().alias("_email"), "person_id")
        .unique()
        .unique("_email", keep="none")
    )
    by_email = (
        numbered.select("_session", pl.col("email").str.to_lowercase().str.strip_chars().alias("_email"))
        .join(emails, on="_email", how="inner")
        .select("_session", "person_id", pl.lit("email").alias("matched_by"))
    )
    candidates = _name_candidates(numbered)
    names = people.select(name_key(pl.col("name")).alias("_key"), "person_id").drop_nulls("_key").unique()
    unique_names = names.unique("_key", keep="none")  # a name two people share identifies neither
    alias_keys = (
        aliases.select(name_key(pl.col("alias")).alias("_key"), "person_id").drop_nulls("_key").unique()
    )

    def by_key(table: pl.DataFrame, how: str) -> pl.DataFrame:
        found = candidates.join(table, on="_key", how="inner").select("_session", "person_id").unique()
        # a session whose candidate names point at two different people is left for the data manager
        return found.filter(pl.len().over("_session") == 1).with_columns(pl.lit(how).alias("matched_by"))

    in_team = []
    if by_team:
        team_names = (
            people.select(name_key(pl.col("name")).alias("_key"), "team_id", "person_id")
            .drop_nulls(["_key", "team_id"])
            .unique()
            .unique(["team_id", "_key"], keep="none")  # ... nor does a name two of one team share
        )
        in_team = [
            candidates.join(numbered.select("_session", "team_id"), on="_session")
            .join(team_names, on=["team_id", "_key"], how="inner")
            .select("_session", "person_id")
            .unique()
            .filter(pl.len().over("_session") == 1)
            .with_columns(pl.lit("name").alias("matched_by"))
        ]
    matched = pl.concat(
        [by_email, *in_team, by_key(unique_names, "name"), by_key(alias_keys, "alias")], how="vertical"
    )
    first = matched.unique("_session", keep="first", maintain_order=True)
    return numbered.join(first, on="_session", how="left").sort("_session").drop("_session")
