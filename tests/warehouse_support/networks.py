"""Tiny networks with hand-written returns, so a test says exactly what each file contains.

``network(root)`` writes a registry of three teams (T01–T03, first period 2026-06) and the
default catalogue; ``write(root, team, period, ...)`` drops one valid workbook into
``inbox/<period>/`` with the values given; ``run(url, root, period)`` is the monthly run
without Prefect and without rendering, on a fixed "today".
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from schemas.config import load_catalogue
from transforms.workbook import write_return

TODAY = dt.date(2026, 11, 22)
TEAMS = ("T01", "T02", "T03")
FIRST_PERIOD = "2026-06"
MEASURE_IDS = load_catalogue(None).get_column("measure_id").to_list()


def network(root: Path, teams: tuple[str, ...] = TEAMS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lines = ["team_id,team_name,organisation_id,organisation_name,coach_name,coach_email,cohort,first_period"]
    for i, team in enumerate(teams, start=1):
        lines.append(f"{team},Team {i},ORG,Test Trust,Coach {i},coach{i}@example.org,2026A,{FIRST_PERIOD}")
    (root / "registry.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "network.toml").write_text(
        f'[network]\nname = "Test network"\ndue_day = 10\nstart_period = "{FIRST_PERIOD}"\n', encoding="utf-8"
    )
    (root / "inbox").mkdir(exist_ok=True)
    return root


def measures(period: str, pulse: float = 6.0, recommend: tuple[int, int] = (9, 12)) -> list[dict]:
    """A complete, valid set of the catalogue's measures for one month."""
    return [
        {"measure_id": "JOY_PULSE", "period": period, "value": pulse},
        {"measure_id": "RECOMMEND", "period": period, "numerator": recommend[0], "denominator": recommend[1]},
        {"measure_id": "SICKNESS", "period": period, "numerator": 222, "denominator": 4600},
        {"measure_id": "TURNOVER", "period": period, "numerator": 0, "denominator": 31},
        {"measure_id": "WMTY", "period": period, "value": 16},
        {"measure_id": "PEBBLES", "period": period, "value": 11},
        {"measure_id": "HUDDLES", "period": period, "numerator": 17, "denominator": 20},
        {"measure_id": "OVERTIME", "period": period, "numerator": 128.2, "denominator": 26.3},
    ]


def write(
    root: Path,
    team: str,
    period: str,
    *,
    name: str | None = None,
    pulse: float = 6.0,
    recommend: tuple[int, int] = (9, 12),
    corrections: dict[str, float] | None = None,
    about: dict | None = None,
    pdsa: list[dict] | None = None,
    extra_measures: list[dict] | None = None,
    submitted_on: dt.date | None = None,
    people_changes: list[dict] | None = None,
) -> Path:
    """One return in ``inbox/<period>/``; ``corrections`` = {earlier period: corrected pulse};
    ``people_changes``: rows of the optional part (None: the sheet is left out)."""
    year, month = map(int, period.split("-"))
    rows = measures(period, pulse, recommend)
    for earlier, value in (corrections or {}).items():
        rows.append(
            {
                "measure_id": "JOY_PULSE",
                "period": earlier,
                "value": value,
                "comment": f"Corrected {earlier}: late forms counted",
            }
        )
    rows += extra_measures or []
    cycles = (
        pdsa
        if pdsa is not None
        else [
            {
                "change_idea": "Daily 10-minute joy huddle",
                "component": "camaraderie and teamwork",
                "cycle": 1,
                "start_date": dt.date(year, month, 2),
                "end_date": dt.date(year, month, 9),
                "prediction": "More staff speak up",
                "what_happened": "Night staff joined",
                "decision": "adapt",
                "linked_measure": "HUDDLES",
            }
        ]
    )
    head = {
        "team_id": team,
        "period": period,
        "submitted_by": f"{team} lead",
        "submitted_on": submitted_on or dt.date(year, month, 28),
        "progress_score": 2.0,
        **(about or {}),
    }
    path = root / "inbox" / period / (name or f"{team}_{period}.xlsx")
    write_return(
        path,
        head,
        rows,
        cycles,
        [
            {
                "went_well": f"{team} {period}: huddles routine",
                "challenges": "Agency staffing",
                "help_wanted": None,
            }
        ],
        MEASURE_IDS,
        people_changes=people_changes,
    )
    return path


def run(url: str, root: Path, period: str, *, backfill: bool = False, wait_for_lock: float = 0.0) -> dict:
    from flows.plain import monthly_run_plain

    return monthly_run_plain(
        period,
        root,
        warehouse_url=url,
        backfill=backfill,
        render=False,
        wait_for_lock=wait_for_lock,
        today=TODAY,
    )


def statuses(summary: dict) -> dict[str, str]:
    return {f["file"]: f["status"] for f in summary["files"]}
