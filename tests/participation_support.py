"""A tiny network's participation files, written by hand around the attendance fixtures' people.

T01 (Northgate ICU): Amira Haddad (core leader), Tom O'Neill (frontline clinician), no senior
leader. T02 (Riverside): Priya Raman (senior leader), Renée Dubois (frontline clinician), Kofi
Mensah (core leader, no email: matched by name). Meetings: a coaching session of T01 on
2022-11-15, a workshop on 2021-05-24, an all-team call on 2025-03-04 and a coaching session of T02
on 2020-11-17 (the fixtures' dates).
"""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "attendance"

PEOPLE = """team_id,person_id,name,email,role,steering_committee,joined_on,left_on
T01,P01,Amira Haddad,amira.haddad@northgate.nhs.example,core leader,no,2021-01-01,
T01,P02,Tom O'Neill,tom.oneill@northgate.nhs.example,frontline clinician,no,2021-01-01,
T02,P03,Priya Raman,priya.raman@riverside.nhs.example,senior leader,yes,2021-01-01,
T02,P04,Renée Dubois,renee.dubois@riverside.nhs.example,frontline clinician,no,2021-01-01,
T02,P05,Kofi Mensah,,core leader,no,2021-01-01,
"""

MEETINGS = """meeting_id,kind,team_id,held_on,starts_at,title
C01,coaching,T01,2022-11-15,09:30,Coaching: Northgate ICU
W02,workshop,,2021-05-24,09:00,Joy in Work workshop 2 (virtual day)
A03,all_team_call,,2025-03-04,10:00,Monthly all-team call (March)
C00,coaching,T02,2020-11-17,14:00,Coaching: Riverside
"""

ALIASES = """alias,person_id
Sam Okafor,P02
"""

COACH_SCORES = """team_id,period,score,justification,scored_by
T01,2026-06,1.5,Aims agreed; first PDSA cycles planned,Coach 1
T02,2026-06,2.0,Measures collected and shown at huddles,Coach 2
"""

ENROLMENT = """team_id,letter_received_on,letter_file
T01,2020-12-01,t01_letter.pdf
"""

READINESS = """team_id,occasion,respondent,answered_on,INF1,LEAD1,SAFE1
T01,baseline,Amira Haddad,2021-01-10,2,3,4
T01,baseline,Tom O'Neill,2021-01-11,4,3,
"""

ATTENDANCE = (
    "teams_2022_en-GB_coaching.csv",
    "teams_2025_en-US_all-team-call.csv",
    "zoom_with_meeting_block_workshop2.csv",
    "zoom_participants_only_en-GB.csv",  # no date: unassigned
    "teams_2020_meetingAttendanceList.csv",  # the 2020 layout: the only meeting on its date
)


def participation_files(root: Path, period: str = "2026-10") -> Path:
    """Write the participation files into the network folder ``root`` (registry written elsewhere)."""
    for name, text in (
        ("people.csv", PEOPLE),
        ("meetings.csv", MEETINGS),
        ("aliases.csv", ALIASES),
        ("coach_scores.csv", COACH_SCORES),
        ("enrolment.csv", ENROLMENT),
    ):
        (root / name).write_text(text, encoding="utf-8")
    (root / "letters").mkdir(exist_ok=True)
    (root / "letters" / "t01_letter.pdf").write_bytes(b"%PDF-1.4 letter of support\n")
    (root / "readiness").mkdir(exist_ok=True)
    (root / "readiness" / "baseline.csv").write_text(READINESS, encoding="utf-8")
    folder = root / "attendance" / period
    folder.mkdir(parents=True, exist_ok=True)
    for name in ATTENDANCE:
        shutil.copyfile(FIXTURES / name, folder / name)
    return root
