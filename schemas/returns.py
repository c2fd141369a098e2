"""Validate a batch of monthly returns with Pandera (Polars backend) and give each file a verdict.

All files of a run are validated together — one Pandera call per part over the stacked
frames — because per-file schema calls would cost more than the checks themselves. The
verdict of each file is then derived from its own issues only.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from schemas.config import Network
from schemas.contract import PARTS
from schemas.rules import RULES_BY_PART, Rule
from transforms.intake.issues import Issue, rejects, short_value
from transforms.intake.normalise import normalise_part
from transforms.intake.read import RawReturn

ACCEPTED = "accepted"
ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"
REJECTED = "rejected"
DUPLICATE = "duplicate"

_NAME_HINT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_-]*?)_(\d{4}-\d{2})")

_DTYPES: dict[str, dict[str, type | pl.DataType]] = {
    "about": {
        "team_id": pl.String,
        "period": pl.String,
        "submitted_by": pl.String,
        "submitted_on": pl.Date,
        "progress_score": pl.Float64,
    },
    "measures": {
        "measure_id": pl.String,
        "period": pl.String,
        "numerator": pl.Float64,
        "denominator": pl.Float64,
        "value": pl.Float64,
        "comment": pl.String,
    },
    "pdsa": {
        "change_idea": pl.String,
        "component": pl.String,
        "cycle": pl.Int64,
        "start_date": pl.Date,
        "end_date": pl.Date,
        "prediction": pl.String,
        "what_happened": pl.String,
        "decision": pl.String,
        "linked_measure": pl.String,
    },
    "learning": {"went_well": pl.String, "challenges": pl.String, "help_wanted": pl.String},
}


@dataclass
class FileVerdict:
    """The outcome for one file and the typed data to load when it is accepted."""

    file: str
    sha256: str | None
    team_id: str | None = None
    period: str | None = None
    status: str = REJECTED
    issues: list[Issue] = field(default_factory=list)
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    about: dict = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.status in (ACCEPTED, ACCEPTED_WITH_WARNINGS)


def _rule_check(rule: Rule) -> pa.Check:
    ok = rule.ok.fill_null(True)  # a rule that cannot be evaluated passes: another rule names the cause
    return pa.Check(lambda data, _ok=ok: data.lazyframe.select(_ok), name=rule.name)


def _build_schema(part: str) -> pa.DataFrameSchema:
    columns = {
        "_file": pa.Column(pl.Int64),
        "_row": pa.Column(pl.Int64),
        **{name: pa.Column(dtype, nullable=True) for name, dtype in _DTYPES[part].items()},
    }
    return pa.DataFrameSchema(
        columns, checks=[_rule_check(r) for r in RULES_BY_PART[part]], strict=False, name=part
    )


SCHEMAS: dict[str, pa.DataFrameSchema] = {part: _build_schema(part) for part in PARTS}


def _period_bounds(period: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    start = (period + "-01").str.to_date("%Y-%m-%d", strict=False)
    return start, start.dt.month_end()


def prepare_context(
    parts: dict[str, pl.DataFrame],
    network: Network,
    run_period: str | None,
    name_hints: pl.DataFrame,
    today: dt.date,
) -> dict[str, pl.DataFrame]:
    """Join what the rules need (registry, catalogue, run period) onto the stacked part frames."""
    registry = network.registry.select(
        "team_id", pl.lit(True).alias("_team_registered"), pl.col("first_period").alias("_first_period")
    )
    about = (
        parts["about"]
        .join(registry, on="team_id", how="left")
        .join(name_hints, on="_file", how="left")
        .with_columns(
            pl.col("_team_registered").fill_null(not network.registry_known),
            pl.lit(run_period, dtype=pl.String).alias("_run_period"),
            pl.lit(today).alias("_today"),
            _period_bounds(pl.col("period"))[0].alias("_period_start"),
        )
    )
    per_file = about.select(
        "_file",
        pl.col("team_id").alias("_team_id"),
        pl.col("period").alias("_return_period"),
        "_first_period",
    )
    catalogue = network.catalogue.select(
        pl.col("measure_id"),
        pl.col("kind").alias("_kind"),
        pl.col("lower_bound").alias("_lower"),
        pl.col("upper_bound").alias("_upper"),
    )
    measures = (
        parts["measures"]
        .join(catalogue, on="measure_id", how="left")
        .join(per_file, on="_file", how="left")
        .with_columns(
            pl.when(pl.col("_kind").is_in(["proportion", "rate"]) & (pl.col("denominator") > 0))
            .then(pl.col("numerator") / pl.col("denominator"))
            .otherwise(pl.col("value"))
            .alias("_computed"),
            (
                pl.struct("_file", "measure_id", "period").is_duplicated()
                & pl.col("measure_id").is_not_null()
                & pl.col("period").is_not_null()
            ).alias("_duplicate"),
        )
    )
    known = network.catalogue.get_column("measure_id").implode()
    pdsa = (
        parts["pdsa"]
        .join(per_file, on="_file", how="left")
        .with_columns(
            _period_bounds(pl.col("_return_period"))[1].alias("_period_end"),
            pl.col("linked_measure").is_in(known).alias("_linked_known"),
        )
        .sort("_file", "change_idea", "start_date", "cycle", nulls_last=True)
        .with_columns(
            ((pl.col("cycle").diff().over("_file", "change_idea") <= 0).fill_null(False)).alias(
                "_cycle_out_of_order"
            )
        )
        .sort("_file", "_row")
    )
    return {"about": about, "measures": measures, "pdsa": pdsa, "learning": parts["learning"]}


def _show(v: object) -> object:
    """Numbers as a person writes them: 24 not 24.0, 1.292 not 1.2916666666666667."""
    if isinstance(v, float):
        return int(v) if v.is_integer() else float(f"{v:.4g}")
    return "" if v is None else v


def _format(message: str, row: dict, value: object) -> str:
    safe = {k: _show(v) for k, v in row.items()}
    safe["value"] = "(blank)" if value is None else short_value(_show(value), 60)
    try:
        return message.format(**safe)
    except (KeyError, IndexError, ValueError):
        return message


def run_rules(part: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Pandera validation of one stacked part; returns failing (row index, rule name) pairs."""
    try:
        SCHEMAS[part].validate(frame, lazy=True)
    except SchemaErrors as exc:
        return (
            exc.failure_cases.filter(pl.col("index").is_not_null())
            .select(pl.col("index").cast(pl.Int64), pl.col("check"))
            .unique(maintain_order=True)
        )
    return pl.DataFrame(schema={"index": pl.Int64, "check": pl.String})


def run_rules_bare(part: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The same rules as bare Polars expressions: the cost floor for the benchmark."""
    rules = RULES_BY_PART[part]
    if not rules:
        return pl.DataFrame(schema={"index": pl.Int64, "check": pl.String})
    flags = frame.with_row_index("index").select(
        pl.col("index").cast(pl.Int64), *[(~r.ok.fill_null(True)).alias(r.name) for r in rules]
    )
    return (
        flags.unpivot(index="index", variable_name="check", value_name="failed")
        .filter("failed")
        .select("index", "check")
    )


def _issues_from_failures(
    part: str, frame: pl.DataFrame, failures: pl.DataFrame, verdicts: list[FileVerdict]
) -> None:
    from schemas.rules import RULES_BY_NAME

    if failures.is_empty():
        return
    rows = frame.with_row_index("index").join(
        failures.with_columns(pl.col("index").cast(pl.UInt32)), on="index", how="inner"
    )
    for row in rows.iter_rows(named=True):
        rule = RULES_BY_NAME[row["check"]]
        value = row.get(rule.column) if rule.column else None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        verdict = verdicts[row["_file"]]
        column = "value" if rule.column == "_computed" else rule.column
        verdict.issues.append(
            Issue(
                verdict.file,
                part,
                row["_row"],
                column,
                rule.name,
                rule.severity,
                short_value(value),
                _format(rule.message, row, value),
                verdict.sha256,
            )
        )


def _missing_measures(
    measures: pl.DataFrame, about: pl.DataFrame, network: Network, verdicts: list[FileVerdict]
) -> None:
    """A measure of the catalogue with no value for the return's own month is flagged."""
    expected = (
        about.select("_file", "period")
        .join(network.catalogue.select("measure_id"), how="cross")
        .select("_file", "measure_id", "period")
    )
    present = measures.select("_file", "measure_id", "period").unique()
    for file_idx, measure_id, period in (
        expected.join(present, on=["_file", "measure_id", "period"], how="anti")
        .sort("_file", "measure_id")
        .iter_rows()
    ):
        v = verdicts[file_idx]
        v.issues.append(
            Issue(
                v.file,
                "measures",
                None,
                "measure_id",
                "measure_missing",
                "warning",
                measure_id,
                f"No value for {measure_id} in {period}. Send it next month as a correction if you can.",
                v.sha256,
            )
        )


def validate_returns(
    raws: list[RawReturn],
    network: Network,
    run_period: str | None = None,
    today: dt.date | None = None,
    history: pl.DataFrame | None = None,
) -> list[FileVerdict]:
    """Validate every readable return of a run at once; every file gets a verdict."""
    today = today or dt.date.today()
    verdicts = [FileVerdict(r.file, r.sha256, issues=list(r.issues)) for r in raws]
    typed: dict[str, list[pl.DataFrame]] = {p: [] for p in PARTS}
    hints = []
    about_rows: dict[int, dict[str, int]] = {}  # per file: the Excel row of each 'about' field's label
    for idx, raw in enumerate(raws):
        if rejects(raw.issues):
            continue
        ok = True
        frames = {}
        for part in PARTS:
            frame, issues = normalise_part(part, raw.parts[part], raw.file, raw.sha256)
            verdicts[idx].issues.extend(issues)
            frames[part] = frame
        if frames["about"].height != 1:
            verdicts[idx].issues.append(
                Issue(
                    raw.file,
                    "about",
                    None,
                    None,
                    "about_one_record",
                    "fatal",
                    None,
                    "The 'about' part must describe exactly one return.",
                    raw.sha256,
                )
            )
            ok = False
        if not ok:
            continue
        about_rows[idx] = {
            c.removeprefix("_row_"): r
            for c, r in frames["about"].row(0, named=True).items()
            if c.startswith("_row_") and r is not None
        }
        for part, frame in frames.items():
            typed[part].append(
                frame.with_columns(pl.lit(idx, dtype=pl.Int64).alias("_file")).select(
                    "_file", "_row", *[pl.col(c).cast(t) for c, t in _DTYPES[part].items()]
                )
            )
        m = _NAME_HINT.match(raw.file)
        hints.append({"_file": idx, "_name_team": m.group(1).upper() if m else None})
    if not hints:
        return _finish(_about_rows(verdicts, about_rows), {})
    stacked = {p: pl.concat(frames) if frames else None for p, frames in typed.items()}
    name_hints = pl.DataFrame(hints, schema={"_file": pl.Int64, "_name_team": pl.String})
    ctx = prepare_context(stacked, network, run_period, name_hints, today)
    for part, frame in ctx.items():
        _issues_from_failures(part, frame, run_rules(part, frame), verdicts)
    _missing_measures(ctx["measures"], ctx["about"], network, verdicts)
    if history is not None and not history.is_empty():
        from schemas.history import history_warnings

        for issue_file, issue in history_warnings(ctx["measures"], ctx["about"], history):
            verdicts[issue_file].issues.append(replace(issue, file=verdicts[issue_file].file))
    return _finish(_about_rows(verdicts, about_rows), stacked)


def _about_rows(verdicts: list[FileVerdict], about_rows: dict[int, dict[str, int]]) -> list[FileVerdict]:
    """An 'about' issue points at its field's own row (the sheet is label | value rows), not the first one."""
    for idx, rows in about_rows.items():
        v = verdicts[idx]
        v.issues = [
            replace(i, row=rows[i.column]) if i.part == "about" and i.column in rows else i for i in v.issues
        ]
    return verdicts


def _finish(verdicts: list[FileVerdict], stacked: dict[str, pl.DataFrame | None]) -> list[FileVerdict]:
    # One pass per part (not one filter per file): a run of 1,000 files would otherwise take seconds.
    by_file = {
        part: frame.partition_by("_file", as_dict=True, include_key=False, maintain_order=True)
        for part, frame in stacked.items()
        if frame is not None
    }
    empty = {part: frame.clear().drop("_file") for part, frame in stacked.items() if frame is not None}
    for idx, v in enumerate(verdicts):
        about = by_file.get("about", {}).get((idx,))
        if about is not None and about.height == 1:
            v.about = about.row(0, named=True)
            v.team_id, v.period = v.about.get("team_id"), v.about.get("period")
        untyped = {(i.part, i.row, i.column) for i in v.issues if i.check.endswith("_type")}
        v.issues = [
            Issue(**{**i.to_dict(), "team_id": v.team_id, "period": v.period, "sha256": v.sha256})
            for i in v.issues
            # a cell already reported as not understood is not reported again as missing
            if not (i.check.endswith("_required") and (i.part, i.row, i.column) in untyped)
        ]
        if rejects(v.issues):
            v.status = REJECTED
            if v.team_id is None:
                # Unreadable content: the file name is the only clue to whose return this was. It is
                # used for the compliance grid only ("rejected" rather than "missing"); nothing loads.
                m = _NAME_HINT.match(v.file)
                if m:
                    v.team_id, v.period = m.group(1).upper(), m.group(2)
            continue
        v.status = ACCEPTED_WITH_WARNINGS if v.issues else ACCEPTED
        v.frames = {part: frames.get((idx,), empty[part]) for part, frames in by_file.items()}
    return verdicts
