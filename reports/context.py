"""Everything a report shows, gathered once per run with Polars and cut into one plain context per report.

Contexts are plain data (dicts, lists, small frames) so they can be sent to worker processes,
and they are built for all teams from a handful of queries — never one query per team.
Other teams are never named in a team's context: only network medians reach it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import Engine

from schemas.periods import month_label, reporting_window
from transforms.aggregate import POINT_SCHEMA, compliance_grid
from warehouse import queries

GRID_INLINE_MAX_TEAMS = 40  # the network report shows the compliance grid in place up to here
STATUS_WORDS = {
    "on_time": "On time",
    "late": "Late",
    "rejected": "Rejected",
    "missing": "Missing",
    "not_due": "Not due",
}
VARIATION_WORDS = {
    "special_cause_improvement": "Special cause — improvement",
    "special_cause_concern": "Special cause — concern",
    "special_cause_neutral": "Special cause — neither better nor worse",
    "common_cause": "Common cause — no significant change",
}
ASSURANCE_WORDS = {
    "consistently_hit": "Will consistently meet the target",
    "hit_and_miss": "Will sometimes meet and sometimes miss the target",
    "consistently_miss": "Will consistently miss the target unless something changes",
}


def assurance_text(assurance: str | None, target: float | None, latest_value: float | None) -> str:
    """What the report says about the target: why it is not judged, when it is not."""
    if target is None:
        return "No target"
    if assurance is not None:
        return ASSURANCE_WORDS.get(assurance, assurance.replace("_", " "))
    if latest_value is None:
        return "Target not judged: no value this month"
    return "Target not judged: too few months for limits"


CHART_WORDS = {
    "run": "Run chart",
    "i": "I chart",
    "p": "P chart",
    "pp": "P′ chart",
    "u": "U chart",
    "up": "U′ chart",
    "c": "C chart",
    "mr": "MR chart",
}


def format_value(value: float | None, kind: str, multiplier: float, unit: str | None) -> str:
    """As a coach reads it: 62.5%, 7.4, 18, 1.2 per 100 staff."""
    if value is None:
        return "—"
    shown = value * (multiplier or 1)
    if kind == "proportion" and multiplier == 100:
        return f"{shown:.1f}%"
    if kind == "count":
        return f"{shown:,.0f}"
    text = f"{shown:,.1f}" if abs(shown) < 1000 else f"{shown:,.0f}"
    if kind == "rate" and unit:
        return f"{text} {unit}"
    return text


@dataclass
class RunData:
    """The run's data, loaded once: every report is a cut of this."""

    period: str
    network_name: str
    periods: list[str]
    teams: pl.DataFrame
    catalogue: pl.DataFrame
    points: pl.DataFrame
    summaries: pl.DataFrame
    submissions: pl.DataFrame
    grid: pl.DataFrame
    pdsa: pl.DataFrame
    learning: pl.DataFrame
    warnings: pl.DataFrame
    network_periods: pl.DataFrame
    representatives: tuple[str, ...] = ()
    generated_on: dt.date = field(default_factory=dt.date.today)


def load_run_data(
    engine: Engine,
    period: str,
    network_name: str,
    start_period: str | None = None,
    months: int = 18,
    representatives: tuple[str, ...] = (),
) -> RunData:
    teams = queries.teams(engine)
    periods = reporting_window(
        period,
        start=start_period,
        earliest_team=teams.get_column("first_period").min() if teams.height else None,
        months=max(months, 1),
    )
    submissions = queries.current_submissions(engine)
    grid = compliance_grid(teams, submissions, queries.received_files(engine), periods)
    warnings = queries.period_warnings(engine, period)
    points = queries.series_points(engine).filter(pl.col("period").is_in(periods))
    return RunData(
        period=period,
        network_name=network_name,
        periods=periods,
        teams=teams,
        catalogue=queries.catalogue(engine),
        points=points,
        summaries=queries.series_summaries(engine),
        submissions=submissions.filter(pl.col("period").is_in(periods)),
        grid=grid,
        pdsa=queries.current_pdsa(engine),
        learning=queries.current_learning(engine, period),
        warnings=warnings,
        network_periods=queries.network_periods(engine),
        representatives=representatives,
    )


def _network_medians(data: RunData) -> pl.DataFrame:
    """Median across teams per measure and month — the only view of other teams a team report gets."""
    return (
        data.points.group_by("measure_id", "period")
        .agg(pl.col("value").median().alias("median"), pl.len().alias("teams"))
        .sort("measure_id", "period")
    )


def _latest_network(data: RunData) -> pl.DataFrame:
    latest = data.points.filter(pl.col("period") == data.period)
    return latest.group_by("measure_id").agg(
        pl.col("value").median().alias("network_median"),
        pl.col("value").quantile(0.25).alias("network_q1"),
        pl.col("value").quantile(0.75).alias("network_q3"),
        pl.len().alias("network_teams"),
    )


def content_key(context: dict) -> str:
    """A hash of everything a report shows: same key, same report — no need to render again."""
    blob = json.dumps(context, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def _by(frame: pl.DataFrame, *keys: str) -> dict[tuple, pl.DataFrame]:
    """The frame cut into one frame per key, in one pass (a filter per team cost minutes at 1,000 teams)."""
    return frame.partition_by(*keys, as_dict=True, maintain_order=True)


def team_contexts(data: RunData) -> Iterator[dict]:
    """One context per team taking part by the run period, built as they are asked for (the
    renderer starts on the first while the rest are built)."""
    cat = data.catalogue
    medians: dict[str, list[tuple[str, float]]] = {}
    for mid, per, med in _network_medians(data).select("measure_id", "period", "median").iter_rows():
        medians.setdefault(mid, []).append((per, med))
    latest_net = {r["measure_id"]: r for r in _latest_network(data).iter_rows(named=True)}
    status = dict(data.grid.filter(pl.col("period") == data.period).select("team_id", "status").iter_rows())
    pdsa_all = data.pdsa.filter(pl.col("period") <= data.period)
    pdsa_by_team = _by(pdsa_all, "team_id")
    events_by: dict[tuple[str, str], list[dict]] = {}
    for r in pdsa_all.iter_rows(named=True):
        events_by.setdefault((r["team_id"], r["linked_measure"]), []).append(
            {"x": r["period"], "label": f"Cycle {r['cycle']}: {r['change_idea']} ({r['decision']})"}
        )
    subs = data.submissions
    subs_by_team = _by(subs, "team_id")
    points_by = _by(data.points.sort("team_id", "measure_id", "period"), "team_id", "measure_id")
    no_points = data.points.clear()
    summaries = {(r["team_id"], r["measure_id"]): r for r in data.summaries.iter_rows(named=True)}
    learning_by_team = _by(data.learning, "team_id")
    warnings_by_team = _by(data.warnings, "team_id")
    for team in data.teams.iter_rows(named=True):
        tid = team["team_id"]
        if team["first_period"] > data.period:
            continue
        team_subs = subs_by_team.get((tid,), subs.clear())
        sub = team_subs.filter(pl.col("period") == data.period)
        st = status.get(tid, "missing")
        team_pdsa = pdsa_by_team.get((tid,), pdsa_all.clear())
        measures = []
        for m in cat.iter_rows(named=True):
            mp = points_by.get((tid, m["measure_id"]), no_points)
            srow = summaries.get((tid, m["measure_id"]), {})
            net_row = latest_net.get(m["measure_id"], {})
            by_period = dict(
                zip(mp.get_column("period").to_list(), mp.get_column("value").to_list(), strict=True)
            )
            latest_value = by_period.get(data.period)
            events = events_by.get((tid, m["measure_id"]), [])
            measures.append(
                {
                    "measure_id": m["measure_id"],
                    "name": m["name"],
                    "type": m["type"],
                    "kind": m["kind"],
                    "unit": m["unit"] or "",
                    "multiplier": m["multiplier"],
                    "direction": m["direction"],
                    "target": m["target"],
                    "chart": m["chart"],
                    "chart_label": CHART_WORDS.get(m["chart"], m["chart"]),
                    "description": m["description"] or "",
                    "latest": format_value(latest_value, m["kind"], m["multiplier"], None),
                    "latest_value": latest_value,
                    "target_text": format_value(m["target"], m["kind"], m["multiplier"], None)
                    if m["target"] is not None
                    else "—",
                    "variation": srow.get("variation") if latest_value is not None else None,
                    "assurance": srow.get("assurance") if latest_value is not None else None,
                    "assurance_text": assurance_text(
                        srow.get("assurance") if latest_value is not None else None, m["target"], latest_value
                    ),
                    "runs_signal": bool(srow.get("runs_signal")),
                    "n_points": mp.height,
                    "spark": [by_period.get(p) for p in data.periods],
                    "points": mp.select(*POINT_SCHEMA).to_dicts(),
                    "events": events,
                    "network_median_series": medians.get(m["measure_id"], []),
                    "network_median": format_value(
                        net_row.get("network_median"), m["kind"], m["multiplier"], None
                    ),
                    "network_teams": net_row.get("network_teams", 0),
                }
            )
        this_month = team_pdsa.filter(pl.col("period") == data.period)
        by_component = (
            team_pdsa.group_by("component", "decision").len().sort("component", "decision")
            if team_pdsa.height
            else pl.DataFrame(schema={"component": pl.String, "decision": pl.String, "len": pl.UInt32})
        )
        learning = learning_by_team.get((tid,), data.learning.clear()).to_dicts()
        progress = team_subs.select("period", "progress_score").sort("period")
        net_progress = data.network_periods.select("period", "median_progress")
        warnings = warnings_by_team.get((tid,), data.warnings.clear())
        if sub.height:
            warnings = warnings.filter(pl.col("sha256") == sub.get_column("sha256")[0])
        ctx = {
            "kind": "team",
            "period": data.period,
            "period_label": month_label(data.period),
            "network_name": data.network_name,
            "generated_on": data.generated_on.isoformat(),
            "team": {
                "team_id": tid,
                "name": team["team_name"],
                "organisation": team["organisation_name"],
                "coach": team["coach_name"],
                "coach_email": team["coach_email"],
            },
            "status": st,
            "status_text": STATUS_WORDS.get(st, st),
            "submission": sub.row(0, named=True) if sub.height else None,
            "periods": data.periods,
            "measures": measures,
            "pdsa_this_month": this_month.to_dicts(),
            "pdsa_total": team_pdsa.height,
            "pdsa_by_component": by_component.to_dicts(),
            "learning": learning,
            "progress": progress.to_dicts(),
            "network_progress": net_progress.to_dicts(),
            "warnings": warnings.select("part", "row", "column", "check", "message").to_dicts(),
        }
        yield ctx


def network_context(data: RunData) -> dict:
    names = dict(
        zip(
            data.teams.get_column("team_id").to_list(),
            data.teams.get_column("team_name").to_list(),
            strict=True,
        )
    )
    grid_by_team = _by(data.grid.sort("team_id", "period"), "team_id")
    no_cells = data.grid.clear()
    grid_rows = [
        {
            "team_id": tid,
            "name": names[tid],
            "cells": grid_by_team.get((tid,), no_cells).get_column("status").to_list(),
        }
        for tid in data.teams.get_column("team_id").to_list()
    ]
    summ = data.summaries.join(data.catalogue.select("measure_id", "name", "type"), on="measure_id")
    improving = (
        summ.filter((pl.col("variation") == "special_cause_improvement") & (pl.col("type") == "outcome"))
        .group_by("team_id")
        .agg(pl.col("name").sort().alias("measures"))
        .with_columns(pl.col("team_id").replace_strict(names, default=None).alias("team_name"))
        .select("team_id", "team_name", "measures")
        .sort("team_id")
        .to_dicts()
    )
    concern = (
        summ.filter(pl.col("variation") == "special_cause_concern")
        .group_by("team_id")
        .agg(pl.col("name").sort().alias("concerns"))
    )
    recent = data.periods[-3:]
    pdsa_recent = data.pdsa.filter(pl.col("period").is_in(recent)).group_by("team_id").len()
    latest_status = data.grid.filter(pl.col("period") == data.period).select("team_id", "status")
    attention = (
        data.teams.select("team_id", "team_name")
        .join(latest_status, on="team_id", how="left")
        .join(concern, on="team_id", how="left")
        .join(pdsa_recent, on="team_id", how="left")
        .with_columns(pl.col("len").fill_null(0).alias("recent_cycles"))
    )
    attention_rows = []
    for r in attention.iter_rows(named=True):
        reasons = []
        if r["status"] in ("missing", "rejected"):
            reasons.append(
                f"No usable return for {month_label(data.period)} ({STATUS_WORDS[r['status']].lower()})"
            )
        if r["concerns"]:
            reasons.append("Special cause concern: " + ", ".join(r["concerns"]))
        if r["recent_cycles"] == 0:
            reasons.append("No PDSA cycles in the last three months")
        if reasons:
            attention_rows.append({"team_id": r["team_id"], "team_name": r["team_name"], "reasons": reasons})
    adopted = (
        data.pdsa.filter(pl.col("decision") == "adopt")
        .group_by("component", "change_idea")
        .agg(pl.col("team_id").n_unique().alias("teams"))
        .sort(["teams", "component", "change_idea"], descending=[True, False, False])
        .head(12)
    )
    pdsa_counts = (
        data.pdsa.filter(pl.col("period").is_in(data.periods))
        .group_by("component", "decision")
        .len()
        .sort("component", "decision")
    )
    medians = _network_medians(data)
    net_measures = []
    for m in data.catalogue.iter_rows(named=True):
        med = medians.filter(pl.col("measure_id") == m["measure_id"])
        net_measures.append(
            {
                "measure_id": m["measure_id"],
                "name": m["name"],
                "unit": m["unit"] or "",
                "kind": m["kind"],
                "multiplier": m["multiplier"],
                "target": m["target"],
                "direction": m["direction"],
                "medians": med.select("period", pl.col("median").alias("value")).to_dicts(),
            }
        )
    progress_by_period = (
        data.submissions.group_by("period")
        .agg(pl.col("progress_score").drop_nulls().sort().alias("scores"))
        .sort("period")
    )
    return {
        "kind": "network",
        "period": data.period,
        "period_label": month_label(data.period),
        "network_name": data.network_name,
        "generated_on": data.generated_on.isoformat(),
        "periods": data.periods,
        "grid": grid_rows,
        # One page holds ~45 teams' rows: a longer grid would push the network's summary, charts
        # and attention list dozens of pages back (111 pages at 5,000 teams), so it goes last.
        "grid_in_appendix": len(grid_rows) > GRID_INLINE_MAX_TEAMS,
        "summary": data.network_periods.filter(pl.col("period").is_in(data.periods)).to_dicts(),
        "improving": improving,
        "attention": attention_rows,
        "adopted": adopted.to_dicts(),
        "pdsa_counts": pdsa_counts.to_dicts(),
        "measures": net_measures,
        "progress_by_period": progress_by_period.to_dicts(),
        "team_count": data.teams.height,
    }


def validation_context(engine: Engine, period: str, network_name: str, run_id: str) -> dict:
    """Every file filed under the period's inbox, its outcome and every issue — for data managers and auditors."""
    files = queries.received_files(engine, period)
    issues = queries.issues_of_files(engine, files.get_column("sha256").to_list() if files.height else [])
    by_check = (
        issues.group_by("check", "severity").len("count").sort(["count", "check"], descending=[True, False])
        if issues.height
        else pl.DataFrame()
    )
    return {
        "kind": "validation",
        "period": period,
        "period_label": month_label(period),
        "network_name": network_name,
        "run_id": run_id,
        "files": [
            {
                "file": r["original_name"],
                "team_id": r["team_id"],
                "status": r["outcome"],
                "issue_count": r["issue_count"],
                "sha256": r["sha256"],
            }
            for r in files.iter_rows(named=True)
        ],
        "by_check": by_check.to_dicts(),
        "issues": issues.drop("seq").to_dicts() if issues.height else [],
    }


def feedback_contexts(engine: Engine, period: str, network_name: str) -> list[dict]:
    """One sheet per file that was rejected or loaded with warnings, to send back to the team."""
    files = queries.received_files(engine, period).filter(
        (pl.col("outcome") == "rejected") | (pl.col("issue_count") > 0)
    )
    issues = queries.issues_of_files(engine, files.get_column("sha256").to_list() if files.height else [])
    out = []
    for f in files.iter_rows(named=True):
        mine = issues.filter(pl.col("sha256") == f["sha256"])
        out.append(
            {
                "kind": "feedback",
                "period": period,
                "period_label": month_label(period),
                "network_name": network_name,
                "file": f["original_name"],
                "team_id": f["team_id"],
                "status": f["outcome"],
                "sha256": f["sha256"],
                "issues": mine.select("part", "row", "column", "severity", "value", "message").to_dicts(),
            }
        )
    return out
