"""Validate a batch of monthly returns with Pandera (Polars backend) and give each file a verdict.

All files of a run are validated together — one Pandera call per part over the stacked
frames — because per-file schema calls would cost more than the checks themselves. The
verdict of each file is then derived from its own issues only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import chain, repeat

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaError

from schemas.config import Network
from schemas.contract import PARTS
from schemas.issues import Issue, rejects, short_value
from schemas.raw import RawReturn
from schemas.rules import RULES_BY_PART, Rule
from transforms.intake.normalise import normalise_stacked

ACCEPTED = "accepted"
ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"
REJECTED = "rejected"
DUPLICATE = "duplicate"
# What "accepted" means everywhere (run summary, pipeline_run, the current-value view): loaded into
# the warehouse, with or without warnings.
ACCEPTED_STATUSES = (ACCEPTED, ACCEPTED_WITH_WARNINGS)

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


def _passes(rule: Rule) -> pl.Expr:
    # A rule that cannot be evaluated (a null) passes: another rule names the cause.
    return rule.ok.fill_null(True)


def _rules_check(part: str) -> pa.Check:
    """All of a part's rules as one Pandera check: a row passes when it passes every rule.

    One check per part rather than one per rule: Pandera's fixed cost per check (several
    collects, ~0.3 ms) times 37 rules was ten times the rules' own cost on a month of returns.
    Which rule a failing row broke is read off those rows afterwards (``_name_rules``), by the
    very same expressions — rules are row-wise, so a row's verdict does not depend on the others.
    """
    every_rule = pl.all_horizontal([_passes(r) for r in RULES_BY_PART[part]])
    return pa.Check(
        lambda data, _ok=every_rule: data.lazyframe.select(_ok),
        name=f"{part}_rules",
        error=f"a row of the '{part}' part breaks one or more return rules",
    )


def _build_schema(part: str) -> pa.DataFrameSchema:
    # Column types are not re-checked here: normalise_part reported every cell it could not
    # read as its type, and the frames are cast to _DTYPES before they get here.
    return pa.DataFrameSchema(checks=[_rules_check(part)], strict=False, name=part)


SCHEMAS: dict[str, pa.DataFrameSchema] = {part: _build_schema(part) for part in PARTS if RULES_BY_PART[part]}


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


_NO_FAILURES = pl.DataFrame(schema={"index": pl.Int64, "check": pl.String})


def run_rules(part: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Pandera validation of one stacked part; returns failing (row index, rule name) pairs."""
    schema = SCHEMAS.get(part)
    if schema is None:
        return _NO_FAILURES
    try:
        # lazy=False: the schema has a single check, so the first error is the whole report,
        # and Pandera skips the summary of failure cases that lazy mode builds.
        schema.validate(frame.with_row_index("index"), lazy=False)
    except SchemaError as exc:
        if exc.failure_cases is None or "index" not in getattr(exc.failure_cases, "columns", ()):
            raise
        return _name_rules(part, exc.failure_cases)
    return _NO_FAILURES


def _name_rules(part: str, failing: pl.DataFrame) -> pl.DataFrame:
    """Which rules each failing row broke: the rules' expressions evaluated on those rows only."""
    flags = failing.select(
        pl.col("index").cast(pl.Int64), *[(~_passes(r)).alias(r.name) for r in RULES_BY_PART[part]]
    )
    return (
        flags.unpivot(index="index", variable_name="check", value_name="failed")
        .filter("failed")
        .select("index", "check")
        .sort("index", maintain_order=True)
    )


def run_rules_bare(part: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The same rules as bare Polars expressions: the cost floor for the benchmark."""
    rules = RULES_BY_PART[part]
    if not rules:
        return _NO_FAILURES
    flags = frame.with_row_index("index").select(
        pl.col("index").cast(pl.Int64), *[(~_passes(r)).alias(r.name) for r in rules]
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


@dataclass
class _Stacked:
    """The typed parts of every usable file of a run, stacked, with what the rules need to know."""

    parts: dict[str, pl.DataFrame]
    name_hints: pl.DataFrame
    about_rows: dict[int, dict[str, int]]  # per file: the Excel row of each 'about' field's label


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    # Most runs' files all have the template's exact columns; only a run with an odd one out
    # (an extra column, a column typed differently) needs the slower diagonal concat.
    try:
        return pl.concat(frames, how="vertical")
    except (pl.exceptions.SchemaError, pl.exceptions.ShapeError):
        return pl.concat(frames, how="diagonal_relaxed")


def _stack(raws: list[RawReturn], verdicts: list[FileVerdict]) -> _Stacked | None:
    """Stack every readable file's parts, normalise them in one pass per part, and type them.

    Type issues go to each file's verdict; a file whose 'about' part is not one record is
    rejected here and left out of what the rules see.
    """
    readable = [idx for idx, raw in enumerate(raws) if not rejects(raw.issues)]
    if not readable:
        return None
    sources = [(raw.file, raw.sha256) for raw in raws]
    normalised: dict[str, pl.DataFrame] = {}
    for part in PARTS:
        frames = [raws[idx].parts[part] for idx in readable]
        file_col = pl.Series(
            "_file",
            list(chain.from_iterable(repeat(idx, f.height) for idx, f in zip(readable, frames, strict=True))),
            pl.Int64,
        )
        stacked = _concat(frames).with_columns(file_col)
        normalised[part], issues = normalise_stacked(part, stacked, sources)
        for idx, issue in issues:
            verdicts[idx].issues.append(issue)
    about_count = dict(normalised["about"].group_by("_file").len().iter_rows())
    one_record = [idx for idx in readable if about_count.get(idx) == 1]
    for idx in sorted(set(readable) - set(one_record)):
        raw = raws[idx]
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
    if not one_record:
        return None
    keep = pl.col("_file").is_in(pl.Series(one_record, dtype=pl.Int64).implode())
    about = normalised["about"].filter(keep)
    row_cols = [c for c in about.columns if c.startswith("_row_")]
    about_rows = {
        row["_file"]: {c.removeprefix("_row_"): row[c] for c in row_cols if row[c] is not None}
        for row in about.select("_file", *row_cols).iter_rows(named=True)
    }
    typed = {
        part: frame.filter(keep).select(
            "_file", "_row", *[pl.col(c).cast(t) for c, t in _DTYPES[part].items()]
        )
        for part, frame in normalised.items()
    }
    hints = [m.group(1).upper() if (m := _NAME_HINT.match(raws[idx].file)) else None for idx in one_record]
    return _Stacked(
        typed,
        pl.DataFrame(
            {"_file": one_record, "_name_team": hints}, schema={"_file": pl.Int64, "_name_team": pl.String}
        ),
        about_rows,
    )


def prepared_parts(
    raws: list[RawReturn], network: Network, run_period: str | None, today: dt.date
) -> dict[str, pl.DataFrame]:
    """The frames the rules run on, for the benchmark and the rule tests (empty: nothing readable)."""
    stacked = _stack(raws, [FileVerdict(r.file, r.sha256, issues=list(r.issues)) for r in raws])
    if stacked is None:
        return {}
    return prepare_context(stacked.parts, network, run_period, stacked.name_hints, today)


def validate_returns(
    raws: list[RawReturn],
    network: Network,
    run_period: str | None = None,
    today: dt.date | None = None,
    history: pl.DataFrame | None = None,
    *,
    rules: Callable[[str, pl.DataFrame], pl.DataFrame] | None = None,
) -> list[FileVerdict]:
    """Validate every readable return of a run at once; every file gets a verdict.

    ``rules`` runs a part's rules (default: the Pandera schemas, ``run_rules``); the benchmark
    passes ``run_rules_bare`` to time the same step with the rules as bare Polars — its floor.
    """
    rules = rules or run_rules
    today = today or dt.date.today()
    verdicts = [FileVerdict(r.file, r.sha256, issues=list(r.issues)) for r in raws]
    stacked = _stack(raws, verdicts)
    if stacked is None:
        return _finish(verdicts, {})
    ctx = prepare_context(stacked.parts, network, run_period, stacked.name_hints, today)
    for part, frame in ctx.items():
        _issues_from_failures(part, frame, rules(part, frame), verdicts)
    _missing_measures(ctx["measures"], ctx["about"], network, verdicts)
    if history is not None and not history.is_empty():
        from schemas.history import history_warnings

        for issue_file, issue in history_warnings(ctx["measures"], ctx["about"], history):
            verdicts[issue_file].issues.append(replace(issue, file=verdicts[issue_file].file))
    return _finish(_about_rows(verdicts, stacked.about_rows), stacked.parts)


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
