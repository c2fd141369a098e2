"""The team's participants as the data manager's people file and the teams' returns tell it together.

The people file (``people.csv``) is the data manager's list; a team reports changes to it in the
optional 'people changes' part of its monthly return (who joined, left or changed role, and on
which day). Those changes are applied here, on top of the file, while the return that reported
them is current — a corrected return replaces its changes — so a role that falls vacant shows
from the day it did, not from the day the data manager next edits the file.

A change is about a person of the same team, recognised as attendees are
(``transforms.attendance.match``): by email (any case), else by name (``schemas.names.name_key``)
when exactly one of the team's people has it. Applied in date order:

* **joined**: a new participant (a person ID made from the team and their email or name, so the
  same change gives the same ID every run); someone already in post is left as the file has
  them, and someone who had left rejoins with a new spell from that day;
* **left**: the spell in force that day ends on it (``left_on``, exclusive, as in the file);
* **role change**: the spell in force ends that day and a new one in the new role starts (a change
  dated the spell's first day corrects the role instead). Each spell is a row, so the role a
  person held on any date — and the day a role fell vacant — stays visible.

Once the data manager's file records a change (the person is in it, has left or holds the new
role), the change finds nothing to do: folding changes into the file never counts them twice. A
'left' or 'role change' about nobody the team has is not applied; validation has told the team
(``change_person_known``) and ``unapplied`` lists it for the data manager.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import polars as pl

from schemas.names import name_key

PEOPLE_COLUMNS: tuple[str, ...] = (
    "person_id",
    "team_id",
    "name",
    "email",
    "role",
    "steering_committee",
    "joined_on",
    "left_on",
)


@dataclass(frozen=True)
class AppliedChanges:
    """``people``: one row per spell in a role (the file's columns); ``unapplied``: the changes that
    named nobody of their team (team_id, period, change, name, email, effective_on)."""

    people: pl.DataFrame
    unapplied: pl.DataFrame


def reported_person_id(team_id: str, email: str | None, key: str | None) -> str:
    """The ID of a participant who first appears in a return: stable for the same team and person."""
    who = (email or "").strip().lower() or (key or "")
    return "R" + hashlib.sha256(f"{team_id}|{who}".encode()).hexdigest()[:10].upper()


def _in_post(spell: dict, on: dt.date) -> bool:
    return spell["joined_on"] <= on and (spell["left_on"] is None or spell["left_on"] > on)


def _find(spells: list[dict], email: str | None, key: str | None) -> str | None:
    """The person_id of the team's person with this email, else the one person with this name."""
    if email:
        ids = {s["person_id"] for s in spells if s["_email"] == email}
        if len(ids) == 1:
            return ids.pop()
    if key:
        ids = {s["person_id"] for s in spells if s["_key"] == key}
        if len(ids) == 1:
            return ids.pop()
    return None


def _apply_one(spells: list[dict], change: dict) -> bool:
    """Apply one change to its team's spells (in place); False when it names nobody of the team."""
    on, kind = change["effective_on"], change["change"]
    person = _find(spells, change["_email"], change["_key"])
    if kind == "joined":
        if person is None:
            spells.append(
                {
                    "person_id": reported_person_id(change["team_id"], change["_email"], change["_key"]),
                    "team_id": change["team_id"],
                    "name": change["name"],
                    "email": change["email"],
                    "role": change["role"],
                    "steering_committee": bool(change["steering_committee"]),
                    "joined_on": on,
                    "left_on": None,
                    "_email": change["_email"],
                    "_key": change["_key"],
                }
            )
            return True
        own = [s for s in spells if s["person_id"] == person]
        if not any(s["left_on"] is None or s["left_on"] > on for s in own):  # had left: rejoins
            last = max(own, key=lambda s: s["joined_on"])
            spells.append({**last, "role": change["role"] or last["role"], "joined_on": on, "left_on": None})
        return True
    if person is None:
        return False
    current = [s for s in spells if s["person_id"] == person and _in_post(s, on)]
    for spell in current:
        if kind == "left":
            spell["left_on"] = on
            continue
        steering = change["steering_committee"]
        if spell["role"] == change["role"]:
            if steering is not None:
                spell["steering_committee"] = steering
        elif spell["joined_on"] == on:
            spell["role"] = change["role"]
            spell["steering_committee"] = spell["steering_committee"] if steering is None else steering
        else:
            spells.append(
                {
                    **spell,
                    "role": change["role"],
                    "steering_committee": spell["steering_committee"] if steering is None else steering,
                    "joined_on": on,
                }
            )
            spell["left_on"] = on
    return True


def _keyed(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("email").str.strip_chars().str.to_lowercase().alias("_email"),
        name_key(pl.col("name")).alias("_key"),
    )


def apply_people_changes(people: pl.DataFrame, changes: pl.DataFrame) -> AppliedChanges:
    """The people file's rows with the returns' changes applied (see the module's docstring).

    ``people``: ``PEOPLE_COLUMNS``. ``changes``: team_id, period, source_row, change, name, email,
    role, steering_committee, effective_on — from the current submissions only.

    A loop over the changes, not an expression: each change depends on the ones before it (a
    person who joined in March can change role in June), and a network reports a handful a month.
    Only the teams with changes are rebuilt.
    """
    unapplied_schema = {
        "team_id": pl.String,
        "period": pl.String,
        "change": pl.String,
        "name": pl.String,
        "email": pl.String,
        "effective_on": pl.Date,
    }
    if changes.is_empty():
        return AppliedChanges(people.select(PEOPLE_COLUMNS), pl.DataFrame(schema=unapplied_schema))
    teams = changes.get_column("team_id").unique()
    touched = _keyed(people.select(PEOPLE_COLUMNS).filter(pl.col("team_id").is_in(teams.implode())))
    by_team: dict[str, list[dict]] = {}
    for spell in touched.iter_rows(named=True):
        by_team.setdefault(spell["team_id"], []).append(spell)
    missed = []
    ordered = _keyed(changes).sort("effective_on", "period", "source_row", nulls_last=True)
    for change in ordered.iter_rows(named=True):
        if change["effective_on"] is None or change["change"] is None:
            continue
        if not _apply_one(by_team.setdefault(change["team_id"], []), change):
            missed.append({k: change[k] for k in unapplied_schema})
    rebuilt = pl.DataFrame(
        [s for spells in by_team.values() for s in spells],
        schema={**people.select(PEOPLE_COLUMNS).schema, "_email": pl.String, "_key": pl.String},
    ).select(PEOPLE_COLUMNS)
    kept = people.filter(~pl.col("team_id").is_in(teams.implode())).select(PEOPLE_COLUMNS)
    return AppliedChanges(
        pl.concat([kept, rebuilt], how="vertical").sort("team_id", "person_id", "joined_on"),
        pl.DataFrame(missed, schema=unapplied_schema),
    )
