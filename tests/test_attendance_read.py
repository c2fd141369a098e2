"""Attendance exports in the formats data managers really have (tests/fixtures/attendance/README.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from transforms.attendance.assign import Calendar, assign_meeting
from transforms.attendance.clock import DAY_FIRST, MONTH_FIRST, date_order, parse_duration, parse_timestamp
from transforms.attendance.match import match_sessions, name_key
from transforms.attendance.presence import time_present
from transforms.attendance.read import read_attendance, read_attendance_files

FIXTURES = Path(__file__).parent / "fixtures" / "attendance"


def _read(name: str):
    path = FIXTURES / name
    return read_attendance(path, path.read_bytes(), "0" * 64)


def _sessions(name: str) -> list[tuple]:
    return _read(name).sessions.select("_row", "name", "email", "joined", "left", "seconds", "guest").rows()


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts)


# --------------------------------------------------------------------------- timestamps and durations


@pytest.mark.parametrize(
    ("texts", "order"),
    [
        (["3/4/25, 9:58:12 AM", "3/4/25, 11:02:40 AM"], MONTH_FIRST),  # US: a 12-hour clock
        (["15/11/22, 09:30:17"], DAY_FIRST),  # UK: a day above 12
        (["4/3/25, 09:58:12", "4/3/25, 11:02:40"], DAY_FIRST),  # either, 24-hour clock: not the US
        (["7/20/23, 4:16:29 PM"], MONTH_FIRST),
        (["05/24/2021 09:22:45"], MONTH_FIRST),  # a month above 12 would be impossible day first
    ],
)
def test_the_date_order_is_decided_once_per_file(texts: list[str], order: str) -> None:
    assert date_order(texts).order == order


def test_dates_that_contradict_each_other_fit_no_format() -> None:
    found = date_order(["13/4/25, 09:58:12", "4/13/25, 10:02:00"])
    assert found.order is None
    assert "'13/4/25, 09:58:12' is day first but '4/13/25, 10:02:00' is month first" in found.problem


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("3/4/25, 9:58:12 AM", MONTH_FIRST, at(2025, 3, 4, 9, 58, 12)),
        ("3/4/25, 12:05:00 AM", MONTH_FIRST, at(2025, 3, 4, 0, 5)),  # midnight hour
        ("3/4/25, 12:05:00 PM", MONTH_FIRST, at(2025, 3, 4, 12, 5)),
        ("7/20/23, 4:16:29 PM", MONTH_FIRST, at(2023, 7, 20, 16, 16, 29)),
        ("15/11/22, 09:30:17", DAY_FIRST, at(2022, 11, 15, 9, 30, 17)),
        ("24/05/2021 14:00:05", DAY_FIRST, at(2021, 5, 24, 14, 0, 5)),
        ("2021-06-14 17:00:00", DAY_FIRST, at(2021, 6, 14, 17)),  # Webex, ISO
        ("31/2/25, 10:00:00", DAY_FIRST, None),  # no such day
        ("3/4/25, 13:00:00 PM", MONTH_FIRST, None),  # no such hour on a 12-hour clock
        ("yesterday", MONTH_FIRST, None),
    ],
)
def test_timestamps_in_the_files_own_order(text: str, order: str, expected: dt.datetime | None) -> None:
    assert parse_timestamp(text, order) == expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1h 13m 42s", 4422),
        ("59m 29s", 3569),
        ("1h 3s", 3603),
        ("45s", 45),
        ("57m", 3420),
        ("204 mins", 12240),
    ],
)
def test_durations_as_teams_and_webex_write_them(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "  ", "abc", "1:02:03", "-5m"])
def test_what_is_not_a_duration(text: str) -> None:
    assert parse_duration(text) is None


# --------------------------------------------------------------------------- Teams


def test_teams_2025_us_report_reads_each_join_from_the_activities() -> None:
    export = _read("teams_2025_en-US_all-team-call.csv")
    assert (export.source, export.issues) == ("teams", [])
    assert export.title == "Joy in Work network: monthly all-team call (March)"
    assert (export.started, export.ended) == (at(2025, 3, 4, 9, 58, 12), at(2025, 3, 4, 11, 2, 40))
    rows = _sessions("teams_2025_en-US_all-team-call.csv")
    assert len(rows) == 7  # Tom's rejoin is a second row
    assert rows[2] == (
        22,
        "Tom O'Neill",
        "Tom.ONeill@Northgate.nhs.example",
        at(2025, 3, 4, 10, 1, 40),
        at(2025, 3, 4, 10, 30),
        1700,
        False,
    )
    assert rows[3][:2] == (23, "Tom O'Neill") and rows[3][5] == 1010
    # guests: the mark leaves the name and becomes the flag; a guest may have no email
    assert rows[5] == (25, "Sam Okafor", None, at(2025, 3, 4, 10, 5, 9), at(2025, 3, 4, 10, 9, 41), 272, True)
    assert rows[6][1:3] == ("Jo Bright", "jo.bright@partner.example") and rows[6][6] is True


def test_teams_2022_uk_report_with_lower_case_headers_and_day_first_dates() -> None:
    export = _read("teams_2022_en-GB_coaching.csv")
    assert export.issues == []
    assert (export.title, export.started) == ("Coaching: Northgate ICU", at(2022, 11, 15, 9, 30, 17))
    assert [r[:2] + r[5:6] for r in _sessions("teams_2022_en-GB_coaching.csv")] == [
        (17, "Dana Whitfield", 3645),
        (18, "Amira Haddad", 3599),
        (19, "Haddad, Amira (ICU iPad)", 303),
    ]
    assert export.sessions.get_column("role").to_list() == ["Organiser", "Attendee", "Attendee"]


def test_teams_2020_event_list_pairs_joins_with_leaves() -> None:
    export = _read("teams_2020_meetingAttendanceList.csv")
    assert (export.source, export.issues) == ("teams-2020", [])
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in _sessions("teams_2020_meetingAttendanceList.csv")] == [
        (2, "Dana Whitfield", at(2020, 11, 17, 14, 0, 41), at(2020, 11, 17, 15, 1, 10), 3629),
        (
            3,
            "Priya Raman",
            at(2020, 11, 17, 13, 58, 2),
            at(2020, 11, 17, 14, 58, 44),
            3642,
        ),  # 'Joined before'
        (4, "Tom O'Neill", at(2020, 11, 17, 14, 3, 15), at(2020, 11, 17, 14, 20), 1005),
        # rejoined and never left: present until the last event of the file
        (6, "Tom O'Neill", at(2020, 11, 17, 14, 25, 30), at(2020, 11, 17, 15, 1, 10), 2140),
    ]


def test_a_teams_report_without_its_participants_section_is_refused_with_the_way_to_fix_it() -> None:
    export = _read("teams_bad_no_participants.csv")
    assert export.rejected
    (issue,) = export.issues
    assert (issue.check, issue.severity, issue.part, issue.file) == (
        "teams_participants_missing",
        "fatal",
        "participants",
        "teams_bad_no_participants.csv",
    )
    assert (
        "no '2. Participants' section" in issue.message
        and "Download the attendance report again" in issue.message
    )
    assert export.sessions.is_empty()


def test_a_teams_report_whose_dates_fit_no_format_is_refused() -> None:
    (issue,) = _read("teams_bad_mixed_dates.csv").issues
    assert (issue.check, issue.severity) == ("teams_dates", "fatal")
    assert "'13/4/25, 09:58:12' is day first but '4/13/25, 10:02:00' is month first" in issue.message


# --------------------------------------------------------------------------- Zoom


def test_zoom_with_the_meeting_block_rejoins_renamed_devices_and_guests() -> None:
    export = _read("zoom_with_meeting_block_workshop2.csv")
    assert (export.source, export.title) == ("zoom", "Joy in Work workshop 2 (virtual day)")
    assert (export.started, export.ended) == (at(2021, 5, 24, 9, 22, 45), at(2021, 5, 24, 11, 1, 10))
    rows = export.sessions.select("_row", "name", "original_name", "seconds", "guest").rows()
    assert rows[1:3] == [(6, "Priya Raman", None, 37 * 60, False), (7, "Priya Raman", None, 55 * 60, False)]
    assert rows[3] == (8, "Theatre 3 laptop (Kofi Mensah)", "Kofi Mensah", 85 * 60, True)
    assert rows[4][1] == "Amira Haddad" and rows[4][4] is True  # Guest = Yes even with an email


def test_a_formula_injected_into_a_name_is_kept_as_text_and_named_in_a_warning() -> None:
    export = _read("zoom_with_meeting_block_workshop2.csv")
    (issue,) = export.issues
    assert (issue.check, issue.severity, issue.part, issue.row, issue.column) == (
        "attendee_name_not_formula",
        "warning",
        "attendance",
        10,
        "name",
    )
    assert issue.value.startswith('=HYPERLINK("http://evil.example"')
    assert "never runs" in issue.message and "alias" in issue.message
    assert not export.rejected


def test_files_checked_together_keep_each_their_own_findings() -> None:
    """A run checks its files' rows in one validation: every finding stays on its own file and row."""
    names = [
        "teams_2022_en-GB_coaching.csv",
        "zoom_with_meeting_block_workshop2.csv",
        "signin_workshop3.xlsx",
    ]
    datas = [(FIXTURES / n).read_bytes() for n in names]
    together = read_attendance_files(
        [(FIXTURES / n, d, None, len(d)) for n, d in zip(names, datas, strict=True)]
    )
    alone = [_read(n) for n in names]
    assert [[(i.file, i.check, i.row, i.value) for i in e.issues] for e in together] == [
        [(i.file, i.check, i.row, i.value) for i in e.issues] for e in alone
    ]
    assert [(i.file, i.check, i.row) for e in together for i in e.issues] == [
        ("zoom_with_meeting_block_workshop2.csv", "attendee_name_not_formula", 10)
    ]


def test_zoom_without_the_meeting_block_in_the_uk_locale() -> None:
    export = _read("zoom_participants_only_en-GB.csv")
    assert (export.issues, export.title, export.started) == ([], None, None)
    assert export.sessions.select("name", "joined", "seconds").rows() == [
        ("Dana Whitfield", at(2021, 5, 24, 14, 0, 5), 62 * 60),
        ("Tom O'Neill", at(2021, 5, 24, 14, 1), 59 * 60),
    ]


# --------------------------------------------------------------------------- sign-in sheets and bad files


def test_a_sign_in_sheet_saved_by_excel_as_windows_1252() -> None:
    export = _read("signin_workshop1_cp1252.csv")
    assert (export.source, export.issues) == ("sign-in", [])
    assert export.sessions.select("_row", "name", "email").rows() == [
        (2, "Renée Dubois", "renee.dubois@riverside.nhs.example"),
        (3, "Kofi Mensah", None),
        (4, "Amira Haddad", "amira.haddad@northgate.nhs.example"),
    ]


def test_a_binary_file_is_refused_as_not_text() -> None:
    export = _read("bad_not_text.csv")
    (issue,) = export.issues
    assert (issue.check, issue.severity) == ("attendance_encoding", "fatal")
    assert "binary data" in issue.message or "neither UTF-8" in issue.message


def test_a_teams_report_cut_in_half_is_refused() -> None:
    data = (FIXTURES / "teams_2025_en-US_all-team-call.csv").read_bytes()
    export = read_attendance(Path("cut.csv"), data[:201], None)  # an odd byte count: a UTF-16 unit cut
    assert export.rejected
    assert export.issues[0].check in ("attendance_encoding", "teams_participants_missing")


# --------------------------------------------------------------------------- matching and presence

PEOPLE = pl.DataFrame(
    {
        "person_id": ["P1", "P2", "P3", "P4", "P5", "P6", "P7"],
        "name": [
            "Amira Haddad",
            "Tom O'Neill",
            "Priya Raman",
            "Kofi Mensah",
            "Renee Dubois",
            "Sam Lee",
            "Sam Lee",
        ],
        "email": [
            "amira.haddad@northgate.nhs.example",
            "tom.oneill@northgate.nhs.example",
            None,
            None,
            "renee.dubois@riverside.nhs.example",
            None,
            None,
        ],
    }
)
NO_ALIASES = pl.DataFrame(schema={"alias": pl.String, "person_id": pl.String})


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Haddad, Amira", "amira haddad"),
        ("AMIRA  HADDAD.", "amira haddad"),
        ("Renée Dubois", "renee dubois"),
        ("   ", None),
    ],
)
def test_name_keys(text: str, key: str | None) -> None:
    assert pl.select(name_key(pl.lit(text))).item() == key


def test_attendees_are_matched_by_email_then_name_then_confirmed_alias_and_never_guessed() -> None:
    sessions = pl.concat(
        [
            _read("teams_2022_en-GB_coaching.csv").sessions,
            _read("zoom_with_meeting_block_workshop2.csv").sessions,
        ]
    )
    extra = pl.DataFrame({"_row": [99, 100], "name": ["ICU tablet", "Sam Lee"], "guest": [False, False]})
    sessions = pl.concat([sessions, extra], how="diagonal_relaxed")
    aliases = pl.DataFrame({"alias": ["ICU Tablet"], "person_id": ["P1"]})
    found = match_sessions(sessions, PEOPLE, aliases).select("_row", "person_id", "matched_by").rows()
    assert found == [
        (17, None, None),  # Dana is the network's facilitator, not a team's participant
        (18, "P1", "email"),
        (19, "P1", "name"),  # 'Haddad, Amira (ICU iPad)'
        (5, None, None),
        (6, "P3", "name"),
        (7, "P3", "name"),
        (8, "P4", "name"),  # the renamed laptop: its original name
        (9, "P1", "email"),
        (10, None, None),  # the formula
        (11, None, None),  # 'Unknown Caller'
        (99, "P1", "alias"),
        (100, None, None),  # two participants are called Sam Lee: neither is guessed
    ]


def test_a_name_two_teams_share_is_matched_in_each_teams_own_meeting_but_not_on_a_network_call() -> None:
    people = pl.DataFrame(
        {
            "person_id": ["A1", "B1", "B2", "B3"],
            "team_id": ["T01", "T02", "T02", "T02"],
            "name": ["Sam Lee", "Sam Lee", "Jo Park", "Jo  PARK"],
            "email": [None, None, None, None],
        },
        schema_overrides={"email": pl.String},
    )
    sessions = pl.DataFrame(
        {
            "_row": [1, 2, 3, 4, 5],
            "name": ["Lee, Sam", "Sam Lee", "Sam Lee", "Jo Park", "Jo Park"],
            "original_name": [None] * 5,
            "email": [None] * 5,
            "team_id": ["T01", "T02", None, "T02", "T01"],  # the meeting's team; None: an all-team call
        },
        schema_overrides={"original_name": pl.String, "email": pl.String},
    )
    found = match_sessions(sessions, people, NO_ALIASES).select("_row", "person_id", "matched_by").rows()
    assert found == [
        (1, "A1", "name"),  # T01's coaching: T01's Sam Lee
        (2, "B1", "name"),  # T02's coaching: T02's Sam Lee
        (3, None, None),  # the all-team call: two Sam Lees, neither guessed
        (4, None, None),  # two Jo Parks within T02 itself
        (5, None, None),  # a Jo Park in T01's meeting: T01 has none, and the network's two are one name
    ]


def test_time_present_is_the_union_of_a_persons_sessions() -> None:
    matched = match_sessions(_read("teams_2025_en-US_all-team-call.csv").sessions, PEOPLE, NO_ALIASES)
    present = dict(time_present(matched, 3868).select("person_id", "seconds").iter_rows())
    assert present == {"P1": 3712, "P2": 1700 + 1010, "P3": 3390}


def test_overlapping_sessions_count_once_and_a_sign_in_means_the_whole_meeting() -> None:
    t = lambda h, m: at(2025, 3, 4, h, m)  # noqa: E731
    sessions = pl.DataFrame(
        {
            "person_id": ["A", "A", "A", "B", "C"],
            "joined": [t(10, 0), t(10, 20), t(10, 30), t(10, 0), None],
            "left": [t(10, 25), t(10, 40), t(11, 0), t(10, 5), None],
            "seconds": [1500, 1200, 1800, 300, None],
        }
    )
    assert time_present(sessions, 5400).rows() == [("A", 3600, 3), ("B", 300, 1), ("C", 5400, 1)]


def test_a_sign_in_sheet_saved_by_a_spreadsheet_application_as_xlsx() -> None:
    export = _read("signin_workshop3.xlsx")
    assert (export.source, export.issues) == ("sign-in", [])
    assert export.sessions.select("_row", "name", "email").rows() == [
        (2, "Amira Haddad", "amira.haddad@northgate.nhs.example"),
        (3, "Kofi Mensah", None),
        (4, "Haddad, Amira", None),
    ]


def test_a_workbook_that_is_not_one_goes_through_the_intakes_guards() -> None:
    export = read_attendance(Path("signin.xlsx"), b"PK\x03\x04 this is no zip at all", None)
    (issue,) = export.issues
    assert issue.severity == "fatal" and issue.file == "signin.xlsx"
    assert "damaged or incomplete" in issue.message


# --------------------------------------------------------------------------- which meeting a file is for

CALENDAR = Calendar.of(
    pl.DataFrame(
        {
            "meeting_id": ["C-T01-03", "C-T02-03", "CALL-03", "WS2"],
            "kind": ["coaching", "coaching", "all_team_call", "workshop"],
            "team_id": ["T01", "T02", None, None],
            "held_on": [dt.date(2025, 3, 4), dt.date(2025, 3, 4), dt.date(2025, 3, 12), dt.date(2025, 4, 24)],
            "title": [
                "Coaching: Northgate ICU",
                "Coaching: Riverside theatres",
                "All-team call",
                "Workshop 2",
            ],
        }
    )
)


def test_a_file_named_after_a_meeting_goes_to_it_whatever_its_dates_say() -> None:
    found = assign_meeting(CALENDAR, None, None, file_name="signin_WS2.csv")
    assert (found.meeting_id, found.reason) == ("WS2", "named in the file name")
    # 'WS2' inside a longer word is no name; two IDs in one name decide nothing
    assert assign_meeting(CALENDAR, None, None, file_name="NEWS2.csv").meeting_id is None
    assert assign_meeting(CALENDAR, None, None, file_name="WS2_CALL-03.csv").meeting_id is None
    # an ID of several words, in any case; not when a longer ID's digits run on
    assert assign_meeting(CALENDAR, None, None, file_name="zoom_call-03_final.csv").meeting_id == "CALL-03"
    assert assign_meeting(CALENDAR, None, None, file_name="teams C-T02-03.csv").meeting_id == "C-T02-03"
    assert assign_meeting(CALENDAR, None, None, file_name="CALL-034.csv").meeting_id is None
    # an ID that does not start and end with a letter or digit is still found as a whole word only
    odd = Calendar.of(
        pl.DataFrame({"meeting_id": ["WS2", "(X1)"], "held_on": [None, None], "title": [None, None]})
    )
    assert odd.named_in("signin (X1).csv") == ["(X1)"] and odd.named_in("signin A(X1)B.csv") == []


def test_a_file_without_a_start_time_is_dated_by_its_first_join_and_several_meetings_need_a_title() -> None:
    call = assign_meeting(
        CALENDAR, None, None, file_name="participants.csv", first_join=at(2025, 3, 12, 14, 1)
    )
    assert (call.meeting_id, call.reason) == ("CALL-03", "the only meeting on 2025-03-12")
    both = assign_meeting(CALENDAR, at(2025, 3, 4, 9, 0), "Teams meeting", file_name="x.csv")
    assert both.meeting_id is None and "2 meetings on 2025-03-04" in both.reason
    by_team = assign_meeting(CALENDAR, at(2025, 3, 4, 9, 0), "T02 coaching call", file_name="x.csv")
    assert (by_team.meeting_id, by_team.reason) == ("C-T02-03", "on 2025-03-04, for team T02")
    undated = assign_meeting(CALENDAR, None, None, file_name="sheet.csv")
    assert undated.meeting_id is None and "--meeting" in undated.reason
