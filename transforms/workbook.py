"""Write monthly-return workbooks: the blank template teams fill, and filled ones for the demo.

The template carries Excel drop-downs (data validation) for every coded field, so most
errors are impossible to type in the first place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl
import xlsxwriter

from schemas.contract import (
    ABOUT,
    JOY_IN_WORK_COMPONENTS,
    LEARNING,
    MEASURES,
    PDSA,
    PDSA_DECISIONS,
    PEOPLE_CHANGES,
    PROGRESS_SCORES,
)

TEMPLATE_BLANK_ROWS = 40


def _formats(wb: xlsxwriter.Workbook) -> dict[str, object]:
    return {
        "head": wb.add_format(
            {
                "bold": True,
                "bg_color": "#1F4E79",
                "font_color": "#FFFFFF",
                "border": 1,
                "text_wrap": True,
                "valign": "top",
            }
        ),
        "label": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "text": wb.add_format({"num_format": "@"}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
        "title": wb.add_format({"bold": True, "font_size": 14}),
    }


def _write_cell(ws, row: int, col: int, value: object, fmt: dict[str, object]) -> None:
    if value is None:
        return
    if isinstance(value, dt.datetime | dt.date):
        ws.write_datetime(
            row,
            col,
            dt.datetime.combine(value, dt.time())
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime)
            else value,
            fmt["date"],
        )
    elif isinstance(value, bool):
        ws.write_string(row, col, str(value))
    elif isinstance(value, int | float):
        ws.write_number(row, col, value)
    else:
        # write_string: a narrative that starts with '=' stays text, never a formula
        ws.write_string(row, col, str(value))


def _lists_sheet(wb: xlsxwriter.Workbook, measure_ids: Sequence[str]) -> dict[str, str]:
    ws = wb.add_worksheet("lists")
    columns = {
        "measures": list(measure_ids),
        "components": list(JOY_IN_WORK_COMPONENTS),
        "decisions": list(PDSA_DECISIONS),
        "scores": [f"{s:.1f}" for s in PROGRESS_SCORES],
    }
    refs = {}
    for j, (name, values) in enumerate(columns.items()):
        ws.write_string(0, j, name)
        for i, v in enumerate(values, start=1):
            ws.write_string(i, j, v)
        col = chr(ord("A") + j)
        refs[name] = f"=lists!${col}$2:${col}${len(values) + 1}"
    ws.hide()
    return refs


def write_return(
    path: Path,
    about: dict[str, object],
    measures: Iterable[dict[str, object]],
    pdsa: Iterable[dict[str, object]],
    learning: Iterable[dict[str, object]],
    measure_ids: Sequence[str],
    blank_rows: int = 0,
    people_changes: Iterable[dict[str, object]] | None = None,
) -> Path:
    """One workbook with the four parts (sheets about, measures, pdsa, learning) and drop-downs,
    and the optional people_changes sheet when ``people_changes`` is given (the blank template
    always has it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    # A fixed creation time: the same return written twice is the same bytes (and the same SHA-256).
    created = about.get("submitted_on")
    wb.set_properties(
        {
            "created": dt.datetime.combine(created, dt.time())
            if isinstance(created, dt.date)
            else dt.datetime(2000, 1, 1)
        }
    )
    fmt = _formats(wb)
    ws = wb.add_worksheet("about")
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 36)
    ws.write_string(0, 0, "Field", fmt["head"])
    ws.write_string(0, 1, "Value", fmt["head"])
    for i, col in enumerate(ABOUT.columns, start=1):
        ws.write_string(i, 0, col.label, fmt["label"])
        value = about.get(col.name)
        if col.name in ("team_id", "period"):
            ws.write_string(i, 1, "" if value is None else str(value), fmt["text"])
        else:
            _write_cell(ws, i, 1, value, fmt)
        if col.help:
            ws.write_comment(i, 1, col.help)
    lists = _lists_sheet(wb, measure_ids)
    score_row = 1 + [c.name for c in ABOUT.columns].index("progress_score")
    ws.data_validation(score_row, 1, score_row, 1, {"validate": "list", "source": lists["scores"]})

    def table(
        name: str,
        part,
        rows: Iterable[dict[str, object]],
        validations: dict[str, str | list[str]],
        text_cols: tuple[str, ...] = (),
    ) -> None:
        sheet = wb.add_worksheet(name)
        for j, col in enumerate(part.columns):
            sheet.write_string(0, j, col.label, fmt["head"])
            sheet.set_column(
                j,
                j,
                14 if len(col.label) < 14 else len(col.label) + 2,
                fmt["text"] if col.name in text_cols else None,
            )
            if col.help:
                sheet.write_comment(0, j, col.help)
        sheet.freeze_panes(1, 0)
        n = 0
        for n, row in enumerate(rows, start=1):
            for j, col in enumerate(part.columns):
                value = row.get(col.name)
                if col.name in text_cols and value is not None:
                    sheet.write_string(n, j, str(value))
                else:
                    _write_cell(sheet, n, j, value, fmt)
        last = max(n, 1) + blank_rows + TEMPLATE_BLANK_ROWS
        for col_name, source in validations.items():
            j = part.column_names.index(col_name)
            sheet.data_validation(
                1,
                j,
                last,
                j,
                {
                    "validate": "list",
                    "source": source,
                    "error_title": "Not in the list",
                    "error_message": "Choose a value from the drop-down list.",
                },
            )

    table("measures", MEASURES, measures, {"measure_id": lists["measures"]}, text_cols=("period",))
    table(
        "pdsa",
        PDSA,
        pdsa,
        {
            "component": lists["components"],
            "decision": lists["decisions"],
            "linked_measure": lists["measures"],
        },
    )
    table("learning", LEARNING, learning, {})
    if people_changes is not None:
        table(
            "people_changes",
            PEOPLE_CHANGES,
            people_changes,
            {
                "change": ["joined", "left", "role change"],
                "role": ["senior leader", "core leader", "frontline clinician"],
                "steering_committee": ["yes", "no"],
            },
        )
    wb.close()
    return path


def write_template(path: Path, team_id: str, period: str, catalogue: pl.DataFrame) -> Path:
    """A blank return for one team and month, its measures pre-listed for that month."""
    ids = catalogue.get_column("measure_id").to_list()
    measures = [{"measure_id": m, "period": period} for m in ids]
    return write_return(
        path, {"team_id": team_id, "period": period}, measures, [], [], ids, people_changes=[]
    )
