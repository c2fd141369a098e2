"""The demo network's participation: people, the calendar, attendance files as the meeting tools
write them, enrolment letters, readiness answers and the coach's progress scores.

Deterministic (its own random stream from the seed), so a second ``joyflow demo`` writes the same
bytes. Most teams take part as asked; a few fall short in different ways, so the watch list has
something to show:

* team 4 lost its frontline clinician five months before the end and has not replaced them: the
  team reported it in the 'people changes' part of that month's return, and the data manager's
  people.csv has not caught up (the return's change is what makes the role vacant);
* team 6 sends one person to its meetings from six months before the end;
* team 9's core leader changed in month 8 (a vacancy of a few days: not on the watch list);
* team 10 never sent its readiness baseline, team 11 its letter of support;
* team 2's coach scores it below its self-score, with a reason.

Attendance: coaching sessions on Teams (UTF-16 LE with BOM, tabs, sectioned; United Kingdom and
United States downloads alternate), the monthly all-team calls on Zoom (UTF-8 with BOM; the meeting
block in even months), the workshops on a sign-in sheet (CSV as Excel saves it, Windows-1252). In
them: a participant joining as a guest, a rejoin, a device renamed ``Current (Original)``, and one
attendee nobody can match. The coaches and network staff who host the meetings are left out of
the files, so the one unmatched attendee is the only one a data manager has to resolve.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from schemas.participation_files import DEFAULT_READINESS

FIRST_NAMES = [
    "Amira", "Kofi", "Renée", "Tom", "Priya", "Sam", "Jo", "Ola", "Grace", "Dev", "Hannah", "Luis",
    "Mei", "Owen", "Fatima", "Ian", "Zara", "Callum", "Nia", "Ravi", "Erin", "Tariq", "Lucy", "Bola",
]  # fmt: skip
LAST_NAMES = [
    "Haddad", "Mensah", "Dubois", "O'Neill", "Raman", "Patel", "Bright", "Nordmann", "Evans", "Shah",
    "Kowalski", "García", "Chen", "Hughes", "Begum", "Murray", "Ali", "Fraser", "Jones", "Iyer",
]  # fmt: skip
DOMAINS = {"NSH": "northshire.nhs.example", "RCH": "riverside.nhs.example", "EPC": "eastvale.nhs.example",
           "WMH": "westmoor.nhs.example"}  # fmt: skip
ROLES = ("senior_leader", "core_leader", "frontline_clinician")
# the items of the readiness instrument the network uses by default (schemas/default_readiness.csv)
ITEM_IDS = pl.read_csv(DEFAULT_READINESS).get_column("item_id").to_list()
OCCASIONS = (("baseline", 0), ("month-9", 8), ("month-18", 17))
WORKSHOP_MONTHS = (1, 6, 11, 16)
JUSTIFICATIONS = {
    "same": "Agree with the team's self-assessment: tests of change under way and data collected monthly.",
    "lower": "Changes tested but not yet shown in the measures; holding at this level until the data move.",
    "higher": "The team undersells itself: two changes adopted and the pulse shows a sustained shift.",
    "stalled": "No new tests since the spring; we agreed a plan at the last coaching session.",
}


@dataclass(frozen=True)
class Person:
    team_id: str
    person_id: str
    name: str
    email: str
    role: str
    steering_committee: bool
    joined_on: dt.date
    left_on: dt.date | None

    def active(self, on: dt.date) -> bool:
        return self.joined_on <= on and (self.left_on is None or self.left_on > on)


def _month_start(period: str) -> dt.date:
    return dt.date.fromisoformat(period + "-01")


def _nth_weekday(period: str, weekday: int, n: int) -> dt.date:
    first = _month_start(period)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _people(registry: pl.DataFrame, periods: list[str], rng: random.Random) -> list[Person]:
    start = _month_start(periods[0]) - dt.timedelta(days=14)
    people: list[Person] = []
    n = 0
    used: set[str] = set()

    def email(first: str, last: str, domain: str) -> str:
        """Unique across the network, as real work emails are: a namesake gets a number (a network
        of hundreds of teams has several Sam Patels; their emails tell them apart)."""
        address = _email(first, last, domain)
        if address in used:
            local, at = address.split("@")
            address = f"{local}.{n}@{at}"
        used.add(address)
        return address

    for t, team in enumerate(registry.iter_rows(named=True)):
        domain = DOMAINS.get(team["organisation_id"], "trust.nhs.example")
        for role in ROLES:
            n += 1
            first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 7 + t) % len(LAST_NAMES)]
            left = None
            if t == 3 and role == "frontline_clinician" and len(periods) > 6:
                left = _month_start(periods[-5]) + dt.timedelta(days=3)
            if t == 8 and role == "core_leader" and len(periods) > 9:
                left = _month_start(periods[7]) + dt.timedelta(days=20)
            people.append(
                Person(
                    team["team_id"],
                    f"P{n:04d}",
                    f"{first} {last}",
                    email(first, last, domain),
                    role,
                    role == "senior_leader",
                    start + dt.timedelta(days=rng.randint(0, 10)),
                    left,
                )  # fmt: skip
            )
            if t == 8 and role == "core_leader" and left is not None:
                n += 1
                first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 7 + t) % len(LAST_NAMES)]
                people.append(
                    Person(
                        team["team_id"],
                        f"P{n:04d}",
                        f"{first} {last}",
                        email(first, last, domain),
                        role,
                        False,
                        left + dt.timedelta(days=6),
                        None,
                    )  # fmt: skip
                )
    return people


def _reported(person: Person) -> bool:
    """A departure the team reports in its return rather than the data manager in people.csv."""
    return person.left_on is not None and person.role == "frontline_clinician"


def reported_changes(
    registry: pl.DataFrame, periods: list[str], seed: int
) -> dict[str, list[tuple[str, dict]]]:
    """Per team: (month, row of the return's people_changes part) for each change the team reports
    itself; the demo writes each into the team's first return of that month or later."""
    people = _people(registry, periods, random.Random(f"{seed}:participation"))
    out: dict[str, list[tuple[str, dict]]] = {}
    for p in people:
        if _reported(p):
            row = {"change": "left", "name": p.name, "email": p.email, "effective_on": p.left_on}
            out.setdefault(p.team_id, []).append((p.left_on.strftime("%Y-%m"), row))
    return out


def _email(first: str, last: str, domain: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode()
    return plain.replace("'", "").lower() + "@" + domain


@dataclass(frozen=True)
class Meeting:
    meeting_id: str
    kind: str
    team_id: str | None
    held_on: dt.date
    starts_at: dt.time
    minutes: int
    title: str


def _calendar(registry: pl.DataFrame, periods: list[str]) -> list[Meeting]:
    meetings = []
    for m, period in enumerate(periods):
        call = _nth_weekday(period, 3, 2)  # second Thursday
        meetings.append(Meeting(f"CALL-{period}", "all_team_call", None, call, dt.time(14, 0), 60,
                                f"Joy in Work network: all-team call ({call:%B %Y})"))  # fmt: skip
        if m in WORKSHOP_MONTHS:
            k = WORKSHOP_MONTHS.index(m) + 1
            day = _nth_weekday(period, 2, 3)  # third Wednesday
            meetings.append(Meeting(f"WS{k}", "workshop", None, day, dt.time(9, 30), 390,
                                    f"Joy in Work workshop {k}"))  # fmt: skip
        for t, team in enumerate(registry.iter_rows(named=True)):
            day = _month_start(period) + dt.timedelta(days=14 + t % 10)
            while day.weekday() >= 5:
                day += dt.timedelta(days=1)
            meetings.append(Meeting(f"C-{team['team_id']}-{period}", "coaching", team["team_id"], day,
                                    dt.time(9 + t % 6, 0), 60, f"Coaching: {team['team_name']}"))  # fmt: skip
    return sorted(meetings, key=lambda x: (x.held_on, x.meeting_id))


def _who_comes(team_people: list[Person], meeting: Meeting, t: int, months_left: int, rng: random.Random) -> list[Person]:  # fmt: skip
    active = [p for p in team_people if p.active(meeting.held_on)]
    if t == 5 and months_left < 6:  # team 6 drifts away: one person, sometimes nobody
        return active[:1] if rng.random() < 0.8 else []
    keep = [p for p in active if rng.random() < 0.85]
    if len(keep) < 2 and rng.random() < 0.85:
        keep = active[:2]
    return keep


# --- the files, byte for byte as the tools write them ----------------------------------------


def _duration(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return " ".join(f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (s, "s")) if v) or "0s"


def _teams_stamp(when: dt.datetime, us: bool) -> str:
    if us:
        hour = when.hour % 12 or 12
        return f"{when.month}/{when.day}/{when:%y}, {hour}:{when:%M:%S} {'AM' if when.hour < 12 else 'PM'}"
    return f"{when:%d/%m/%y, %H:%M:%S}"


def _teams_file(
    meeting: Meeting, sessions: list[tuple[str, str, dt.datetime, dt.datetime]], us: bool
) -> bytes:
    """A Teams attendance report: ``sessions`` are (name, email, joined, left), one per join."""
    start = dt.datetime.combine(meeting.held_on, meeting.starts_at)
    end = start + dt.timedelta(minutes=meeting.minutes)
    pad = "\t" * 6
    first: dict[str, list] = {}
    for name, email, joined, left in sessions:
        row = first.setdefault(name, [name, email, joined, left, 0])
        row[2], row[3] = min(row[2], joined), max(row[3], left)
        row[4] += int((left - joined).total_seconds())
    avg = sum(r[4] for r in first.values()) // max(len(first), 1)
    head = (
        ("First Join", "Last Leave", "In-Meeting Duration")
        if us
        else ("First join", "Last leave", "In-meeting duration")
    )
    act = ("Join Time", "Leave Time") if us else ("Join time", "Leave time")
    lines = [
        "1. Summary" + pad,
        f"Meeting title\t{meeting.title}" + "\t" * 5,
        f"Attended participants\t{len(first)}" + "\t" * 5,
        f"Start time\t{_teams_stamp(start, us)}" + "\t" * 5,
        f"End time\t{_teams_stamp(end, us)}" + "\t" * 5,
        f"Meeting duration\t{_duration(meeting.minutes * 60)}" + "\t" * 5,
        f"Average attendance time\t{_duration(avg)}" + "\t" * 5,
        pad,
        "2. Participants" + pad,
        "\t".join(("Name", *head, "Email", "Participant ID (UPN)", "Role")),
    ]
    for name, email, joined, left, secs in first.values():
        lines.append("\t".join((name, _teams_stamp(joined, us), _teams_stamp(left, us), _duration(secs), email, email, "Attendee")))  # fmt: skip
    lines += [pad, ("3. In-Meeting Activities" if us else "3. In-Meeting activities") + pad,
              "\t".join(("Name", *act, "Duration", "Email", "Role", ""))]  # fmt: skip
    for name, email, joined, left in sessions:
        secs = int((left - joined).total_seconds())
        lines.append("\t".join((name, _teams_stamp(joined, us), _teams_stamp(left, us), _duration(secs), email, "Attendee", "")))  # fmt: skip
    return b"\xff\xfe" + ("\r\n".join(lines) + "\r\n").encode("utf-16-le")


def _zoom_stamp(when: dt.datetime) -> str:
    return f"{when:%m/%d/%Y %I:%M:%S %p}"


def _csv_cell(text: str) -> str:
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\r\n') else text


def _zoom_file(
    meeting: Meeting, rows: list[tuple[str, str, dt.datetime, dt.datetime, bool]], block: bool
) -> bytes:
    """A Zoom participants export: ``rows`` are (name shown, email, joined, left, guest), one per join."""
    start = dt.datetime.combine(meeting.held_on, meeting.starts_at)
    end = start + dt.timedelta(minutes=meeting.minutes)
    lines = []
    if block:
        lines += [
            "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants,",
            ",".join(("861 2040 5517", _csv_cell(meeting.title), _zoom_stamp(start), _zoom_stamp(end),
                      "network.calls@ihi.example.org", str(meeting.minutes), str(len({r[0] for r in rows})), "")),
            "",
        ]  # fmt: skip
    lines.append(
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest,Recording Consent"
    )
    for name, email, joined, left, guest in rows:
        minutes = -(-int((left - joined).total_seconds()) // 60)  # Zoom rounds up
        lines.append(",".join((_csv_cell(name), email, _zoom_stamp(joined), _zoom_stamp(left), str(minutes),
                               "Yes" if guest else "No", "Y")))  # fmt: skip
    return b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _signin_file(rows: list[tuple[str, str, str, str]]) -> bytes:
    """A workshop sign-in sheet saved by Excel as CSV: Windows-1252, no BOM, CRLF."""
    lines = ["Name,Email,Team,Signed in"] + [",".join(_csv_cell(c) for c in r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252", errors="replace")


# --- the generator ----------------------------------------------------------------------------


def write_participation(
    out: Path,
    registry: pl.DataFrame,
    periods: list[str],
    self_scores: dict[tuple[str, str], float],
    seed: int,
) -> int:
    """Write people.csv, meetings.csv, attendance/, enrolment.csv, letters/, readiness/ and
    coach_scores.csv into the network folder; return how many files were written."""
    rng = random.Random(f"{seed}:participation")
    people = _people(registry, periods, rng)
    meetings = _calendar(registry, periods)
    by_team: dict[str, list[Person]] = {}
    for p in people:
        by_team.setdefault(p.team_id, []).append(p)
    team_ids = registry.get_column("team_id").to_list()
    index = {tid: i for i, tid in enumerate(team_ids)}
    names = dict(zip(team_ids, registry.get_column("team_name").to_list(), strict=True))
    files = 0

    pl.DataFrame(
        [(p.team_id, p.person_id, p.name, p.email, p.role, "yes" if p.steering_committee else "no",
          p.joined_on.isoformat(), p.left_on.isoformat() if p.left_on and not _reported(p) else None)
         for p in people],
        schema=["team_id", "person_id", "name", "email", "role", "steering_committee", "joined_on", "left_on"],
        orient="row",
    ).write_csv(out / "people.csv")  # fmt: skip
    pl.DataFrame(
        [(m.meeting_id, m.kind, m.team_id, m.held_on.isoformat(), m.starts_at.strftime("%H:%M"), m.title)
         for m in meetings],
        schema=["meeting_id", "kind", "team_id", "held_on", "starts_at", "title"],
        orient="row",
    ).write_csv(out / "meetings.csv")  # fmt: skip
    files += 2

    last_month = len(periods) - 1
    special_done = {"guest": False, "rejoin": False, "renamed": False, "unknown": False}
    for meeting in meetings:
        m = periods.index(meeting.held_on.strftime("%Y-%m"))
        start = dt.datetime.combine(meeting.held_on, meeting.starts_at)
        folder = out / "attendance" / meeting.held_on.strftime("%Y-%m")
        folder.mkdir(parents=True, exist_ok=True)
        concerned = [meeting.team_id] if meeting.team_id else team_ids
        comers = [
            (p, index[tid]) for tid in concerned
            for p in _who_comes(by_team[tid], meeting, index[tid], last_month - m, rng)
        ]  # fmt: skip

        def span(
            minutes: int, start: dt.datetime = start, length: int = meeting.minutes
        ) -> tuple[dt.datetime, dt.datetime]:
            joined = start + dt.timedelta(seconds=rng.randint(0, 300))
            end = joined + dt.timedelta(minutes=minutes, seconds=rng.randint(0, 59))
            return joined, min(end, start + dt.timedelta(minutes=length))

        if meeting.kind == "coaching":
            sessions = []
            for p, _t in comers:
                joined, left = span(rng.randint(45, 58))
                name, email = p.name, p.email
                if not special_done["guest"] and m >= 2:  # joined from a personal account, as a guest
                    special_done["guest"] = True
                    name, email = f"{p.name} (Guest)", ""
                sessions.append((name, email, joined, left))
            us = m % 2 == 1
            if (
                not sessions
            ):  # nobody from the team came: Teams lists only the coach, who is not in these files
                continue
            (folder / f"teams_{meeting.meeting_id}.csv").write_bytes(_teams_file(meeting, sessions, us))
        elif meeting.kind == "all_team_call":
            rows = []
            for p, _t in comers:
                joined, left = span(rng.randint(40, 58))
                if not special_done["rejoin"] and m >= 1:  # dropped off and came back
                    special_done["rejoin"] = True
                    gap = joined + dt.timedelta(minutes=20)
                    rows.append((p.name, p.email, joined, gap, False))
                    joined = gap + dt.timedelta(minutes=3)
                name, email = p.name, p.email
                if not special_done["renamed"] and m >= 3:  # a shared device the host renamed
                    special_done["renamed"] = True
                    name, email = f"Ward 7 laptop ({p.name})", ""
                rows.append((name, email, joined, left, False))
            if not special_done["unknown"] and m >= 4:
                special_done["unknown"] = True
                joined, left = span(35)
                rows.append(("iPhone (2)", "", joined, left, True))
            (folder / f"zoom_{meeting.meeting_id}.csv").write_bytes(
                _zoom_file(meeting, rows, block=m % 2 == 0)
            )
        else:
            rows = [(p.name, p.email if rng.random() < 0.7 else "", p.team_id,
                     (start + dt.timedelta(minutes=rng.randint(-20, 10))).strftime("%H:%M")) for p, _t in comers]  # fmt: skip
            (folder / f"signin_{meeting.meeting_id}.csv").write_bytes(_signin_file(rows))
        files += 1

    # enrolment: the letter of support (team 11 has not sent it)
    letters = out / "letters"
    letters.mkdir(exist_ok=True)
    enrolment = []
    for t, tid in enumerate(team_ids):
        if t == 10:
            continue
        received = _month_start(periods[0]) - dt.timedelta(days=20 - t % 10)
        senior = next(p for p in by_team[tid] if p.role == "senior_leader")
        letter = f"letter_of_support_{tid}.txt"
        (letters / letter).write_text(
            f"{received:%d %B %Y}\n\nTo the Joy in Work Learning Network\n\nThe senior leadership of "
            f"{names[tid]} supports the team's participation in the network for 18 months, and commits the "
            f"time of its three named participants to the network's meetings.\n\n{senior.name}\n",
            encoding="utf-8",
        )
        enrolment.append((tid, received.isoformat(), letter, senior.person_id))
        files += 1
    pl.DataFrame(
        enrolment, schema=["team_id", "letter_received_on", "letter_file", "signed_by"], orient="row"
    ).write_csv(out / "enrolment.csv")
    files += 1

    # readiness: one file per occasion, one row per respondent (team 10 never sent its baseline)
    (out / "readiness").mkdir(exist_ok=True)
    for occasion, month in OCCASIONS:
        if month >= len(periods):
            continue
        answered = _month_start(periods[month]) + dt.timedelta(days=9)
        rows = []
        for t, tid in enumerate(team_ids):
            if t == 9 and occasion == "baseline":
                continue
            level = (
                2.0 + (0.8 if occasion != "baseline" and t % 3 != 1 else 0.0) + (month / 17) * (t % 3 == 0)
            )
            for p in by_team[tid]:
                if p.active(answered):
                    answers = [max(1, min(5, round(level + rng.gauss(0, 0.7)))) for _ in ITEM_IDS]
                    rows.append((tid, occasion, p.person_id, answered.isoformat(), *answers))
        pl.DataFrame(
            rows, schema=["team_id", "occasion", "respondent", "answered_on", *ITEM_IDS], orient="row"
        ).write_csv(out / "readiness" / f"{occasion}.csv")
        files += 1

    # the coach's progress score beside the team's own
    scores = []
    coaches = dict(zip(team_ids, registry.get_column("coach_name").to_list(), strict=True))
    for t, tid in enumerate(team_ids):
        coach = coaches[tid]
        for period in periods:
            own = self_scores.get((tid, period))
            if own is None:
                continue
            if t == 1:
                score, why = max(0.5, own - 0.5), JUSTIFICATIONS["lower"]
            elif t % 4 == 0 and own < 4.5 and rng.random() < 0.2:
                score, why = own + 0.5, JUSTIFICATIONS["higher"]
            else:
                score, why = own, JUSTIFICATIONS["same"]
            if t == 5 and periods.index(period) >= len(periods) - 6:
                why = JUSTIFICATIONS["stalled"]
            scores.append((tid, period, score, why, coach))
    pl.DataFrame(
        scores, schema=["team_id", "period", "score", "justification", "scored_by"], orient="row"
    ).write_csv(out / "coach_scores.csv")
    return files + 1
