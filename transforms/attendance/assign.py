"""Which meeting of the network's calendar an attendance file is for — found, never guessed.

The data manager may name it (``--meeting``), or name the file after it (``WS2.csv``,
``zoom_CALL-2026-03.csv``: one meeting ID of the calendar as a whole word of the file name).
Otherwise the file's start date — the meeting's start as the file gives it, else its first join —
must be the date of exactly one meeting; when several share that date, the file's title (or, failing
that, a team ID it names) must single one out. None found, or more than one left: the file is
unassigned, with the reason in words, and waits for the data manager.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Assignment:
    meeting_id: str | None
    reason: str  # how it was found, or why not


def _words(text: str | None) -> str:
    return re.sub(r"[^0-9a-z]+", " ", (text or "").lower()).strip()


def _words_expr(col: str) -> pl.Expr:
    """``_words`` for a whole column at once."""
    return pl.col(col).str.to_lowercase().str.replace_all(r"[^0-9a-z]+", " ").str.strip_chars()


def _named_in(file_name: str, ids: set[str]) -> list[str]:
    """The calendar's meeting IDs that stand in the file name as whole words (ignoring case).

    A plain substring test first (a calendar holds thousands of IDs, a run hundreds of files), the
    word boundaries only for the few IDs it leaves."""
    stem = file_name.rsplit(".", 1)[0].upper()
    inside = [i for i in ids if i.upper() in stem]
    return sorted(i for i in inside if re.search(rf"(?<![0-9A-Z]){re.escape(i.upper())}(?![0-9A-Z])", stem))


def assign_meeting(
    meetings: pl.DataFrame,
    started: dt.datetime | None,
    title: str | None,
    explicit: str | None = None,
    *,
    file_name: str = "",
    first_join: dt.datetime | None = None,
) -> Assignment:
    """``meetings``: meeting_id, kind, team_id, held_on, title (the current calendar)."""
    ids = set(meetings.get_column("meeting_id").to_list()) if meetings.height else set()
    if explicit:
        wanted = explicit.strip().upper()
        if wanted in ids:
            return Assignment(wanted, "named by the data manager")
        return Assignment(None, f"meeting {wanted} is not in the calendar (meetings.csv)")
    named = _named_in(file_name, ids)
    if len(named) == 1:
        return Assignment(named[0], "named in the file name")
    started = started or first_join
    if started is None:
        return Assignment(None, "the file gives no start date: name the meeting with --meeting")
    day = started.date()
    same_day = meetings.filter(pl.col("held_on") == day)
    if same_day.height == 1:
        return Assignment(same_day.item(0, "meeting_id"), f"the only meeting on {day}")
    if same_day.height == 0:
        return Assignment(None, f"no meeting in the calendar on {day}: name it with --meeting")
    said = _words(title)
    if said:
        by_title = same_day.filter(_words_expr("title") == said)
        if by_title.height == 1:
            return Assignment(by_title.item(0, "meeting_id"), f"on {day}, titled '{title}'")
        teams = same_day.filter(
            pl.col("team_id").is_not_null()
            & pl.lit(f" {said} ").str.contains(
                pl.concat_str(pl.lit(" "), pl.col("team_id").str.to_lowercase(), pl.lit(" ")), literal=True
            )
        )
        if teams.height == 1:
            return Assignment(teams.item(0, "meeting_id"), f"on {day}, for team {teams.item(0, 'team_id')}")
    return Assignment(
        None,
        f"{same_day.height} meetings on {day} and the file's title does not say which: name it with --meeting",
    )
