"""Reading the network's participation files (CSV, or xlsx through the intake's workbook guards)
into text frames, which ``schemas.participation_files`` then types and checks.

A file that cannot be read at all becomes one fatal issue naming it and what to do; nothing raises.
"""

from __future__ import annotations

import io

import polars as pl

from schemas.issues import Issue
from schemas.participation_files import (
    Context,
    ParticipationFile,
    check_file,
    check_readiness,
)
from transforms.intake.read import UnreadableWorkbook, first_sheet_rows

_WORKBOOK = (".xlsx", ".xlsm")


def _fatal(file: str, kind: str, sha256: str | None, check: str, text: str) -> Issue:
    return Issue(file, kind, None, None, check[:64], "fatal", None, text, sha256)


def read_table(
    data: bytes, file: str, kind: str, sha256: str | None
) -> tuple[pl.DataFrame | None, list[Issue]]:
    """Every column as text, headers in lower case, ``_row`` the row a spreadsheet shows (header = 1)."""
    try:
        if data.startswith(b"PK\x03\x04") or file.lower().endswith(_WORKBOOK):
            rows = first_sheet_rows(data, file)
            if not rows:
                return None, [
                    _fatal(file, kind, sha256, f"{kind}_empty", "The workbook's first sheet is empty.")
                ]
            header = [str(h or "").strip() or f"column_{i + 1}" for i, h in enumerate(rows[0])]
            frame = pl.DataFrame(
                [[(r[i] if i < len(r) else None) for i in range(len(header))] for r in rows[1:]],
                schema=dict.fromkeys(header, pl.String),
                orient="row",
            )
        else:
            frame = pl.read_csv(io.StringIO(data.decode("utf-8-sig")), infer_schema=False)
    except UnreadableWorkbook as refused:
        return None, [_fatal(file, kind, sha256, refused.check, refused.message)]
    except UnicodeDecodeError:
        return None, [
            _fatal(
                file,
                kind,
                sha256,
                f"{kind}_encoding",
                "The file is not UTF-8 text: save it again as 'CSV UTF-8'.",
            )
        ]
    except Exception as exc:  # any reader failure is the file's problem, named for the data manager
        text = f"The file cannot be read as a table ({exc.__class__.__name__}): save it again as CSV UTF-8."
        return None, [_fatal(file, kind, sha256, f"{kind}_unreadable", text)]
    frame = frame.rename({n: n.strip().lower().replace(" ", "_") for n in frame.columns})
    return frame.with_row_index("_row", offset=2).with_columns(pl.col("_row").cast(pl.Int64)), []


def read_participation(
    kind: str, file: str, data: bytes, sha256: str | None, context: Context
) -> ParticipationFile:
    """One of the data manager's files (people.csv, meetings.csv ...), read and checked."""
    frame, issues = read_table(data, file, kind, sha256)
    if frame is None:
        return ParticipationFile(kind, file, sha256, pl.DataFrame(), issues)
    return check_file(kind, frame, file, sha256, context)


def read_readiness(
    file: str, data: bytes, sha256: str | None, context: Context, items: pl.DataFrame
) -> ParticipationFile:
    """A survey tool's export of the readiness assessment (CSV or xlsx), read and checked."""
    frame, issues = read_table(data, file, "readiness", sha256)
    if frame is None:
        return ParticipationFile("readiness", file, sha256, pl.DataFrame(), issues)
    return check_readiness(frame, file, sha256, context, items)
