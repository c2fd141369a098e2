"""A year of a large network's participation, generated deterministically for the benchmark.

Per team: three to seven named participants (one per role, and up to four more frontline clinicians). The
calendar: twelve monthly all-team calls and four workshops for every team, and a coaching session
for a sample of teams each month. Attendance as Zoom exports with the meeting block (one row per
join; about one person in three rejoins), about 100 rows per team in all.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

YEAR = 2026
ROLES = ("senior_leader", "core_leader", "frontline_clinician")
_ZOOM_HEAD = "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\r\n"


def _stamp(t: dt.datetime) -> str:
    return t.strftime("%m/%d/%Y %I:%M:%S %p")


def _zoom(topic: str, start: dt.datetime, rows: list[tuple[str, str, dt.datetime, dt.datetime]]) -> bytes:
    end = start + dt.timedelta(minutes=90)
    lines = [
        "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants,\r\n",
        f"812 0000 0000,{topic},{_stamp(start)},{_stamp(end)},host@network.example,90,{len(rows)},\r\n",
        "\r\n",
        _ZOOM_HEAD,
    ]
    for name, email, joined, left in rows:
        minutes = max(1, int((left - joined).total_seconds() // 60))
        lines.append(f"{name},{email},{_stamp(joined)},{_stamp(left)},{minutes},No\r\n")
    return "".join(lines).encode("utf-8-sig")


def _sessions(
    rng: random.Random, people: list[tuple[str, str, str]], start: dt.datetime, share: float
) -> list:
    rows = []
    for _, name, email in people:
        if rng.random() > share:
            continue
        joined = start + dt.timedelta(minutes=rng.randrange(0, 10))
        left = joined + dt.timedelta(minutes=rng.randrange(20, 85))
        rows.append((name, email, joined, left))
        if rng.random() < 0.3:  # a rejoin
            back = left + dt.timedelta(minutes=2)
            rows.append((name, email, back, back + dt.timedelta(minutes=5)))
    return rows


def generate(root: Path, team_ids: list[str], seed: int = 15, coaching_per_month: int = 25) -> dict:
    """people.csv, meetings.csv and attendance/<YYYY-MM>/*.csv under ``root`` (the network folder)."""
    rng = random.Random(seed)
    people: dict[str, list[tuple[str, str, str]]] = {}
    lines = ["team_id,person_id,name,email,role,steering_committee,joined_on,left_on"]
    for t in team_ids:
        members = []
        for r, role in enumerate(ROLES + ("frontline_clinician",) * rng.randrange(0, 5)):
            pid = f"{t}P{r}"
            name = f"Person {t} {r}"
            email = f"{pid.lower()}@example.org"
            members.append((pid, name, email))
            lines.append(f"{t},{pid},{name},{email},{role},{'yes' if r == 0 else 'no'},{YEAR - 1}-06-01,")
        people[t] = members
    (root / "people.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    meetings = ["meeting_id,kind,team_id,held_on,starts_at,title"]
    files = rows = 0
    workshops = {3: 1, 6: 2, 9: 3, 12: 4}
    everyone = [p for t in team_ids for p in people[t]]
    for month in range(1, 13):
        folder = root / "attendance" / f"{YEAR}-{month:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        shared = [
            ("A", "all_team_call", dt.datetime(YEAR, month, 3, 10), f"All-team call {YEAR}-{month:02d}")
        ]
        if month in workshops:
            n = workshops[month]
            shared.append(("W", "workshop", dt.datetime(YEAR, month, 17, 9), f"Workshop {n}"))
        for prefix, kind, start, title in shared:
            mid = f"{prefix}{YEAR}{month:02d}"
            meetings.append(f"{mid},{kind},,{start.date()},{start:%H:%M},{title}")
            sessions = _sessions(rng, everyone, start, 0.9)
            (folder / f"{mid}.csv").write_bytes(_zoom(title, start, sessions))
            files, rows = files + 1, rows + len(sessions)
        for k, t in enumerate(rng.sample(team_ids, min(coaching_per_month, len(team_ids)))):
            start = dt.datetime(YEAR, month, 5 + k % 20, 14)
            mid = f"C{YEAR}{month:02d}{t}"
            meetings.append(f"{mid},coaching,{t},{start.date()},{start:%H:%M},Coaching {t}")
            sessions = _sessions(rng, people[t], start, 0.9)
            (folder / f"{mid}.csv").write_bytes(_zoom(f"Coaching {t}", start, sessions))
            files, rows = files + 1, rows + len(sessions)
    (root / "meetings.csv").write_text("\n".join(meetings) + "\n", encoding="utf-8")
    return {"files": files, "rows": rows}
