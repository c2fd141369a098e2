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


_ALNUM_RUN = re.compile(r"[0-9A-Z]+")


@dataclass(frozen=True)
class Calendar:
    """The current calendar, indexed once for a run's files: a network of 1,000 teams holds
    18,000 meetings, and scanning them for each of a month's 1,000 files took seconds."""

    meetings: pl.DataFrame  # meeting_id, kind, team_id, held_on, title
    ids: dict[str, str]  # each meeting ID in capitals -> the ID
    by_day: dict[dt.date, pl.DataFrame]
    odd_ids: tuple[str, ...]  # IDs that start or end with a character other than a letter or digit

    @classmethod
    def of(cls, meetings: pl.DataFrame) -> Calendar:
        ids = {i.upper(): i for i in meetings.get_column("meeting_id").to_list()} if meetings.height else {}
        days = meetings.partition_by("held_on", as_dict=True) if meetings.height else {}
        return cls(
            meetings,
            ids,
            {key[0]: frame for key, frame in days.items()},
            tuple(u for u in ids if not (_ALNUM_RUN.fullmatch(u[0]) and _ALNUM_RUN.fullmatch(u[-1]))),
        )

    def team_of(self, meeting_id: str | None) -> str | None:
        """The team whose meeting this is (a coaching session); None for a network meeting."""
        if meeting_id is None or "team_id" not in self.meetings.columns:
            return None
        found = self.meetings.filter(pl.col("meeting_id") == meeting_id).get_column("team_id")
        return found.item(0) if found.len() else None  # a file at a time, for the CLI's report only

    def named_in(self, file_name: str) -> list[str]:
        """The meeting IDs that stand in the file name as whole words (ignoring case): not next to
        another letter or digit. An ID that starts and ends with a letter or digit can only stand
        from the start of a run of them to the end of one, so only those spans are looked up."""
        stem = file_name.rsplit(".", 1)[0].upper()
        runs = [(m.start(), m.end()) for m in _ALNUM_RUN.finditer(stem)]
        spans = {stem[s:e] for i, (s, _) in enumerate(runs) for _, e in runs[i:]}
        found = {self.ids[span] for span in spans if span in self.ids}
        found |= {
            self.ids[u] for u in self.odd_ids if re.search(rf"(?<![0-9A-Z]){re.escape(u)}(?![0-9A-Z])", stem)
        }
        return sorted(found)


def assign_meeting(
    calendar: Calendar,
    started: dt.datetime | None,
    title: str | None,
    explicit: str | None = None,
    *,
    file_name: str = "",
    first_join: dt.datetime | None = None,
) -> Assignment:
    """Find the meeting of ``calendar`` an attendance file is for (see the module's docstring)."""
    if explicit:
        wanted = explicit.strip().upper()
        if wanted in calendar.ids:
            return Assignment(calendar.ids[wanted], "named by the data manager")
        return Assignment(None, f"meeting {wanted} is not in the calendar (meetings.csv)")
    named = calendar.named_in(file_name)
    if len(named) == 1:
        return Assignment(named[0], "named in the file name")
    started = started or first_join
    if started is None:
        return Assignment(None, "the file gives no start date: name the meeting with --meeting")
    day = started.date()
    same_day = calendar.by_day.get(day, calendar.meetings.clear())
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
