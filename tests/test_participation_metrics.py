"""Role coverage, two-of-three attendance and the watch list, on small networks worked by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl

from schemas.participation import ParticipationSettings
from transforms.participation.meetings import compliance_by_kind, named_attendance, team_meetings
from transforms.participation.roles import role_coverage, roles_by_team
from transforms.participation.watch import (
    missed_meeting_reasons,
    return_reasons,
    stalled_score_reasons,
    vacancy_reasons,
    watch_list,
)

D = dt.date
TEAMS = pl.DataFrame(
    {
        "team_id": ["T01", "T02"],
        "first_period": ["2025-01", "2025-03"],
        "joined_on": [D(2025, 1, 1), D(2025, 3, 1)],
    }
)
PEOPLE = pl.DataFrame(
    {
        "person_id": ["A", "B", "C", "D", "E", "F"],
        "team_id": ["T01", "T01", "T01", "T01", "T02", "T02"],
        "role": [
            "senior_leader",
            "core_leader",
            "frontline_clinician",
            "frontline_clinician",
            "senior_leader",
            "core_leader",
        ],
        "joined_on": [
            D(2025, 1, 1),
            D(2025, 1, 1),
            D(2025, 1, 1),
            D(2025, 4, 1),
            D(2025, 3, 1),
            D(2025, 3, 1),
        ],
        "left_on": [None, None, D(2025, 3, 15), None, None, D(2025, 4, 20)],
    },
    schema_overrides={"left_on": pl.Date},
)


def test_roles_held_on_a_date_and_vacant_since_the_last_holder_left() -> None:
    on_march_20 = role_coverage(TEAMS, PEOPLE, D(2025, 3, 20))
    assert on_march_20.rows() == [
        ("T01", "senior_leader", 1, None),
        ("T01", "core_leader", 1, None),
        ("T01", "frontline_clinician", 0, D(2025, 3, 15)),  # C left on 15 March, D starts in April
        ("T02", "senior_leader", 1, None),
        ("T02", "core_leader", 1, None),
        ("T02", "frontline_clinician", 0, D(2025, 3, 1)),  # never filled: vacant since the team joined
    ]
    by_team = roles_by_team(role_coverage(TEAMS, PEOPLE, D(2025, 5, 1)))
    assert by_team.select("team_id", "roles_covered", "roles_missing").rows() == [
        ("T01", ["senior_leader", "core_leader", "frontline_clinician"], []),
        ("T02", ["senior_leader"], ["core_leader", "frontline_clinician"]),
    ]


MEETINGS = pl.DataFrame(
    {
        "meeting_id": ["C1", "C2", "CALL-03", "CALL-04", "W1", "CALL-05"],
        "kind": ["coaching", "coaching", "all_team_call", "all_team_call", "workshop", "all_team_call"],
        "team_id": ["T01", "T02", None, None, None, None],
        "held_on": [
            D(2025, 2, 10),
            D(2025, 3, 12),
            D(2025, 3, 19),
            D(2025, 4, 16),
            D(2025, 4, 24),
            D(2025, 5, 21),
        ],
    }
)
PRESENCE = pl.DataFrame(
    {
        "meeting_id": [
            "C1",
            "C1",
            "C2",
            "C2",
            "CALL-03",
            "CALL-03",
            "CALL-03",
            "CALL-04",
            "CALL-04",
            "W1",
            "W1",
            "W1",
        ],
        "person_id": ["A", "B", "E", "F", "A", "C", "E", "A", "D", "E", "F", "B"],
        "seconds": [3600, 3000, 3600, 600, 3600, 3600, 3600, 3600, 3600, 3600, 3600, 3600],
    }
)


def test_each_team_is_counted_at_its_own_coaching_and_at_the_calls_since_it_joined() -> None:
    attended = named_attendance(team_meetings(TEAMS, MEETINGS, D(2025, 4, 30)), PRESENCE, PEOPLE, 30 * 60)
    assert attended.select("team_id", "meeting_id", "named_present").rows() == [
        ("T01", "C1", 2),
        ("T01", "CALL-03", 1),  # C left on 15 March
        ("T01", "CALL-04", 2),  # A and D (D joined on 1 April)
        ("T01", "W1", 1),
        ("T02", "C2", 1),  # F was there 10 minutes: under the 30 the network counts
        ("T02", "CALL-03", 1),
        ("T02", "CALL-04", 0),
        ("T02", "W1", 1),  # F had left the team on 20 April
    ]  # CALL-05 is after 30 April: not yet held; T02 joined in March, so no February coaching
    assert compliance_by_kind(attended).rows() == [
        ("T01", "coaching", 1, 1, 1.0),
        ("T01", "all_team_call", 2, 1, 0.5),
        ("T01", "workshop", 1, 0, 0.0),
        ("T02", "coaching", 1, 0, 0.0),
        ("T02", "all_team_call", 2, 0, 0.0),
        ("T02", "workshop", 1, 0, 0.0),
    ]


def test_the_watch_list_gives_each_team_its_reasons_most_first() -> None:
    settings = ParticipationSettings(
        recent_meetings=3, missed_meetings=2, vacancy_days=30, recent_periods=3, late_returns=2
    )
    on = D(2025, 4, 30)
    attended = named_attendance(
        team_meetings(TEAMS, MEETINGS, on), PRESENCE, PEOPLE, settings.min_minutes * 60
    )
    grid = pl.DataFrame(
        {
            "team_id": ["T01"] * 3 + ["T02"] * 3,
            "period": ["2025-02", "2025-03", "2025-04"] * 2,
            "status": ["on_time", "late", "on_time", "not_due", "missing", "rejected"],
        }
    )
    scores = pl.DataFrame(
        {
            "team_id": ["T01"] * 4 + ["T02"] * 2,
            "period": ["2025-01", "2025-02", "2025-03", "2025-04", "2025-03", "2025-04"],
            "progress_score": [2.0, 2.0, 2.0, 2.0, 1.5, 2.0],
        }
    )
    listed = watch_list(
        [
            missed_meeting_reasons(attended, settings),
            vacancy_reasons(role_coverage(TEAMS, PEOPLE, on), on, settings),
            return_reasons(grid, settings),
            stalled_score_reasons(scores, ParticipationSettings(stalled_months=4)),
        ],
        TEAMS,
    )
    assert (
        listed.rows()
        == [
            (
                "T02",
                [
                    "fewer than two named participants at 3 of its last 3 meetings",
                    "no frontline clinician since 1 March 2025 (60 days)",  # the core leader left 10 days ago: not yet
                    "2 of its last 2 returns late, missing or rejected (2025-03 missing, 2025-04 rejected)",
                ],
                3,
            ),
            (
                "T01",
                [
                    "fewer than two named participants at 2 of its last 3 meetings",
                    "progress score 2.0 unchanged for 4 months",
                ],
                2,
            ),
        ]
    )
