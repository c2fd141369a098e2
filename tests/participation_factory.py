"""A small network's participation, built by hand, for the view and report tests.

Two teams from January 2026. T01 has all three roles, its letter and a baseline, and two people at
every meeting but one. T02's frontline clinician left on 1 March 2026, only one of its people comes
to meetings, its returns for February and March were late and its self-score has been 1.5 for four
months: it is on the watch list for every reason.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from schemas.participation import ParticipationSettings
from transforms.participation.view import ParticipationData, participation_data

D = dt.date
AS_OF = D(2026, 4, 30)

TEAMS = pl.DataFrame(
    {
        "team_id": ["T01", "T02"],
        "team_name": ["Acute Medical Unit", "Emergency Department"],
        "first_period": ["2026-01", "2026-01"],
    }
)
PEOPLE = pl.DataFrame(
    {
        "team_id": ["T01", "T01", "T01", "T02", "T02", "T02"],
        "person_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
        "name": ["Amira Haddad", "Kofi Mensah", "Renée Dubois", "Ola Nordmann", "Sam Patel", "Jo Bloggs"],
        "email": [
            "amira.haddad@nsh.example.org",
            "kofi.mensah@nsh.example.org",
            "renee.dubois@nsh.example.org",
            "ola.nordmann@rch.example.org",
            "sam.patel@rch.example.org",
            "jo.bloggs@rch.example.org",
        ],
        "role": ["senior_leader", "core_leader", "frontline_clinician"] * 2,
        "steering_committee": [True, False, False, True, False, False],
        "joined_on": [D(2026, 1, 1)] * 6,
        "left_on": [None, None, None, None, None, D(2026, 3, 1)],
    },
    schema_overrides={"left_on": pl.Date},
)
MEETINGS = pl.DataFrame(
    {
        "meeting_id": ["C1-T01", "C1-T02", "CALL-01", "CALL-02", "WS-1", "CALL-05"],
        "kind": ["coaching", "coaching", "all_team_call", "all_team_call", "workshop", "all_team_call"],
        "team_id": ["T01", "T02", None, None, None, None],
        "held_on": [
            D(2026, 1, 20),
            D(2026, 1, 21),
            D(2026, 1, 15),
            D(2026, 2, 12),
            D(2026, 3, 10),
            D(2026, 5, 14),
        ],
        "title": ["Coaching", "Coaching", "All-team call", "All-team call", "Workshop 1", "All-team call"],
    }
)
# (meeting, person, minutes)
_PRESENT = [
    ("C1-T01", "P1", 55),
    ("C1-T01", "P2", 50),
    ("CALL-01", "P1", 60),
    ("CALL-01", "P3", 45),
    ("CALL-02", "P1", 60),
    ("CALL-02", "P2", 10),  # too short to count
    ("WS-1", "P1", 300),
    ("WS-1", "P2", 300),
    ("WS-1", "P3", 300),
    ("C1-T02", "P4", 50),
    ("CALL-01", "P4", 60),
    ("CALL-02", "P4", 60),
    ("WS-1", "P4", 300),
    ("WS-1", "P6", 300),  # left on 1 March: no longer counts for the team
]
PRESENCE = pl.DataFrame(
    [(m, p, mins * 60) for m, p, mins in _PRESENT],
    schema={"meeting_id": pl.String, "person_id": pl.String, "seconds": pl.Int64},
    orient="row",
)
ENROLMENT = pl.DataFrame(
    {"team_id": ["T01"], "letter_received_on": [D(2026, 1, 5)]},
)
READINESS = pl.DataFrame(
    {
        "team_id": ["T01"] * 6 + ["T02"] * 3,
        "occasion": ["baseline"] * 3 + ["month-9"] * 3 + ["baseline"] * 3,
        "answered_on": [D(2026, 1, 10)] * 3 + [D(2026, 4, 10)] * 3 + [D(2026, 2, 1)] * 3,
        "domain": ["improvement_infrastructure", "leadership_behaviours", "workforce_safety"] * 3,
        "score": [2.0, 2.5, 3.0, 3.5, 3.0, 3.0, 1.5, 2.0, 2.5],
    }
)
SELF_SCORES = pl.DataFrame(
    {
        "team_id": ["T01"] * 4 + ["T02"] * 4,
        "period": ["2026-01", "2026-02", "2026-03", "2026-04"] * 2,
        "progress_score": [1.0, 1.5, 2.0, 2.5, 1.5, 1.5, 1.5, 1.5],
    }
)
COACH_SCORES = pl.DataFrame(
    {
        "team_id": ["T01", "T02"],
        "period": ["2026-04", "2026-04"],
        "score": [2.0, 1.0],
        "justification": ["Tests under way <b>but</b> no data yet", "No PDSA cycles since January"],
        "scored_by": ["Amira Okafor", "Ben Lindqvist"],
    }
)
GRID = pl.DataFrame(
    {
        "team_id": ["T01"] * 4 + ["T02"] * 4,
        "period": ["2026-01", "2026-02", "2026-03", "2026-04"] * 2,
        "status": ["on_time"] * 4 + ["on_time", "late", "missing", "on_time"],
    }
)


def build(as_of: dt.date = AS_OF, **overrides: pl.DataFrame) -> ParticipationData:
    frames = {
        "teams": TEAMS,
        "people": PEOPLE,
        "meetings": MEETINGS,
        "presence": PRESENCE,
        "enrolment": ENROLMENT,
        "readiness": READINESS,
        "self_scores": SELF_SCORES,
        "coach_scores": COACH_SCORES,
        "grid": GRID,
    } | overrides
    return participation_data(**frames, settings=ParticipationSettings(), as_of=as_of)
