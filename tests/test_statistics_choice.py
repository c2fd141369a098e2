"""Issue 16: the statistics each network chooses -- rule set in network.toml, team targets,
recorded re-baselining (warehouse, audit chain, CLI), phases in the derived tables, suggestions."""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from joyflow.errors import ConfigError
from schemas.config import load_catalogue, load_network, load_network_config
from tests.warehouse_support import networks as nw
from transforms.aggregate import StatisticsChoice, network_rules, series_statistics, with_phases
from transforms.qi import RULE_SETS
from warehouse import queries
from warehouse.audit.verify import verify
from warehouse.checksum import table_checksums
from warehouse.engine import make_engine
from warehouse.load import sync_config
from warehouse.migrate import upgrade
from warehouse.models import SeriesPhase, SeriesPoint, SeriesSummary, ValidationIssue
from warehouse.rebase_log import RebaseError, active_rebases, rebase_entries, record_rebase, withdraw_rebase

JOYFLOW = [sys.executable, "-m", "flows.cli"]
PERIODS = [f"2025-{m:02d}" for m in range(1, 13)] + [f"2026-{m:02d}" for m in range(1, 13)]


# --------------------------------------------------------------------------- network.toml


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "network.toml"
    path.write_text('[network]\nname = "N"\n' + text, encoding="utf-8")
    return path


def test_one_line_of_network_toml_chooses_the_rule_set(tmp_path: Path) -> None:
    stats = load_network_config(_toml(tmp_path, '[statistics]\nrules = "mdc"\nshift = 6\n')).statistics
    rules = network_rules(stats.rule_table, stats.source)
    assert (rules.name, rules.shift, rules.trend, rules.min_points) == ("mdc", 6, 7, 12)
    assert stats.rebase == "recorded"
    # no [statistics]: today's rules, so an existing network does not change
    assert network_rules(load_network_config(_toml(tmp_path, "")).statistics.rule_table).name == "default"


def test_a_rule_a_set_does_not_define_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[statistics]\nrules = "anhoej"\ntrend = 5\n')
    stats = load_network_config(path).statistics
    with pytest.raises(ConfigError) as err:
        network_rules(stats.rule_table, stats.source)
    assert str(path) in str(err.value) and "no trend rule" in str(err.value)
    with pytest.raises(
        ConfigError, match=r'rebase = .sometimes.: choose one of "recorded", "suggest", "auto"'
    ):
        load_network_config(_toml(tmp_path, '[statistics]\nrebase = "sometimes"\n'))


# --------------------------------------------------------------------------- targets.csv


def test_team_targets_are_validated_like_the_registry(tmp_path: Path) -> None:
    root = nw.network(tmp_path / "net")
    (root / "targets.csv").write_text(
        "team_id,measure_id,target,from_period\nt01,huddles,0.95,\nT02,HUDDLES,0.8,2026-09\n",
        encoding="utf-8",
    )
    targets = load_network(root).targets
    assert targets.rows() == [("T01", "HUDDLES", 0.95, None), ("T02", "HUDDLES", 0.8, "2026-09")]
    (root / "targets.csv").write_text(
        "team_id,measure_id,target,from_period\nT09,HUDDLES,0.9,\nT01,HUDDLES,,Sept\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as err:
        load_network(root)
    text = str(err.value)
    assert "row 3, column target: target is empty" in text
    assert "row 3, column from_period" in text and "'Sept'" in text
    (root / "targets.csv").write_text("team_id,measure_id,target\nT09,HUDDLES,0.9\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="row 2, column team_id: team 'T09' is not in the registry"):
        load_network(root)


# --------------------------------------------------------------------------- derived statistics


def _values(series: dict[tuple[str, str], list[float]]) -> pl.DataFrame:
    rows = [
        (team, measure, PERIODS[i], None, None, v)
        for (team, measure), ys in series.items()
        for i, v in enumerate(ys)
    ]
    return pl.DataFrame(
        rows,
        schema={
            "team_id": pl.String,
            "measure_id": pl.String,
            "period": pl.String,
            "numerator": pl.Float64,
            "denominator": pl.Float64,
            "value": pl.Float64,
        },
        orient="row",
    )


# A team whose change held from 2025-09 (index 8): a clear step up in JOY_PULSE (an I chart, up is better).
BEFORE = [5.0, 5.4, 4.8, 5.2, 5.1, 4.9, 5.3, 5.0]
AFTER = [7.0, 7.3, 6.8, 7.2, 6.9, 7.1, 7.4, 6.8, 7.0, 7.2]
STEP = BEFORE + AFTER
FLAT = [6.0, 6.2, 5.9, 6.1, 6.0, 5.8, 6.2, 6.1, 5.9, 6.0, 6.1, 6.0]


def _pulse_catalogue() -> pl.DataFrame:
    return load_catalogue(None).filter(pl.col("measure_id") == "JOY_PULSE")


def test_a_recorded_rebase_gives_each_phase_its_own_centre_line_and_limits() -> None:
    values = _values({("T01", "JOY_PULSE"): STEP, ("T02", "JOY_PULSE"): FLAT})
    rebases = pl.DataFrame({"team_id": ["T01"], "measure_id": ["JOY_PULSE"], "from_period": [PERIODS[8]]})
    points, summary = series_statistics(values, _pulse_catalogue(), StatisticsChoice(rebases=rebases))
    t01 = points.filter(pl.col("team_id") == "T01")
    assert t01.get_column("part").to_list() == [1] * 8 + [2] * 10
    assert t01.get_column("phase_start").to_list() == [None] * 8 + ["recorded"] + [None] * 9
    assert t01.get_column("cl")[0] == pytest.approx(statistics.fmean(BEFORE))
    assert t01.get_column("cl")[-1] == pytest.approx(statistics.fmean(AFTER))
    mr = statistics.fmean(abs(a - b) for a, b in zip(AFTER[1:], AFTER[:-1], strict=True))
    assert t01.get_column("ucl")[-1] == pytest.approx(statistics.fmean(AFTER) + 3 * mr / 1.128)
    # judged against its own phase, the new level is common cause, not an improvement flag
    assert t01.filter(pl.col("part") == 2).get_column("point_type").unique().to_list() == ["common_cause"]
    # without the rebase, the same data flags the step
    plain, _ = series_statistics(values, _pulse_catalogue())
    assert plain.filter(pl.col("team_id") == "T01").get_column("signal_rule").drop_nulls().len() > 0
    assert points.filter(pl.col("team_id") == "T02").get_column("part").unique().to_list() == [1]
    assert summary.get_column("rules").to_list() == ["default", "default"]


def test_the_rule_set_is_stored_with_each_series_and_changes_the_flags() -> None:
    ys = [5.0, 5.2, 4.9, 5.1, 5.0, 5.3, 4.8, 5.1, 5.2, 5.0, 5.1, 4.9, 5.6, 5.7, 5.8, 5.65, 5.75, 5.9]
    values = _values({("T01", "JOY_PULSE"): ys})
    out = {}
    for name in ("default", "ihi", "anhoej", "mdc", "healthcare-data-guide"):
        rules = network_rules({"rules": name})
        pts, summ = series_statistics(values, _pulse_catalogue(), StatisticsChoice(rules=rules))
        assert summ.get_column("rules").to_list() == [name]
        out[name] = pts.get_column("signal_rule").to_list()
    # the last six points sit above the mean, the very last beyond the limits: IHI's shift of 6
    # flags the others (beyond limits comes first in its precedence); MDC's shift of 7 does not
    assert out["ihi"][-7:] == ["shift"] * 6 + ["beyond_limits"]
    assert out["mdc"][-5:] == ["two_of_three", "two_of_three", None, "two_of_three", "beyond_limits"]
    assert "shift" not in out["mdc"] and out["mdc"] == out["default"]
    assert [r for r in out["anhoej"] if r] == ["beyond_limits"]  # no trend rule, run too short


def test_a_team_target_overrides_the_catalogue_for_assurance() -> None:
    values = _values({("T01", "JOY_PULSE"): FLAT, ("T02", "JOY_PULSE"): FLAT})
    targets = pl.DataFrame(
        {"team_id": ["T01"], "measure_id": ["JOY_PULSE"], "target": [5.0], "from_period": [None]},
        schema={
            "team_id": pl.String,
            "measure_id": pl.String,
            "target": pl.Float64,
            "from_period": pl.String,
        },
    )
    _, summary = series_statistics(values, _pulse_catalogue(), StatisticsChoice(targets=targets))
    rows = {r["team_id"]: r for r in summary.iter_rows(named=True)}
    # FLAT: mean 6.025, limits about 5.6-6.4. The catalogue's 7.5 is above them (up is better):
    # consistently missed; the team's own 5.0 is below them: consistently met.
    assert (rows["T01"]["target"], rows["T01"]["assurance"]) == (5.0, "consistently_hit")
    assert (rows["T02"]["target"], rows["T02"]["assurance"]) == (7.5, "consistently_miss")


def _pdsa(period: str, decision: str = "adopt") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "team_id": ["T01"],
            "period": [period],
            "change_idea": ["Daily huddle"],
            "decision": [decision],
            "linked_measure": ["JOY_PULSE"],
        }
    )


def test_suggest_lists_a_sustained_shift_after_an_adopted_change_and_auto_applies_it() -> None:
    values = _values({("T01", "JOY_PULSE"): STEP, ("T02", "JOY_PULSE"): FLAT})
    suggest = StatisticsChoice(rebase_policy="suggest", pdsa=_pdsa(PERIODS[7]))
    points, summary = series_statistics(values, _pulse_catalogue(), suggest)
    rows = dict(summary.select("team_id", "suggested_from").iter_rows())
    assert rows == {"T01": PERIODS[8], "T02": None}  # the run above the mean starts with the change
    assert points.get_column("part").unique().to_list() == [1]  # suggested, not applied
    # an abandoned change suggests nothing
    _, none = series_statistics(
        values,
        _pulse_catalogue(),
        StatisticsChoice(rebase_policy="suggest", pdsa=_pdsa(PERIODS[7], "abandon")),
    )
    assert none.get_column("suggested_from").null_count() == 2
    auto = StatisticsChoice(rebase_policy="auto", pdsa=_pdsa(PERIODS[7]))
    points, summary = series_statistics(values, _pulse_catalogue(), auto)
    t01 = points.filter(pl.col("team_id") == "T01")
    assert t01.get_column("part").to_list() == [1] * 8 + [2] * 10
    assert t01.get_column("phase_start")[8] == "auto"


def test_phases_count_every_rebase_in_force() -> None:
    pts = pl.DataFrame({"team_id": ["T"] * 5, "measure_id": ["M"] * 5, "x": PERIODS[:5]})
    reb = pl.DataFrame(
        {"team_id": ["T", "T"], "measure_id": ["M", "M"], "from_period": [PERIODS[1], PERIODS[3]]}
    )
    out = with_phases(pts, reb)
    assert out.get_column("part").to_list() == [1, 2, 2, 3, 3]
    assert out.get_column("phase_start").to_list() == [None, "recorded", None, "recorded", None]


# --------------------------------------------------------------------------- warehouse and audit


def _synced(url: str, tmp_path: Path):
    engine = make_engine(url)
    upgrade(engine)
    sync_config(engine, load_network(nw.network(tmp_path / "net")))
    return engine


def test_rebase_records_are_versioned_and_each_step_is_in_the_audit_chain(
    warehouse_url: str, tmp_path: Path
) -> None:
    engine = _synced(warehouse_url, tmp_path)
    at = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)
    rid, entries = record_rebase(engine, "t01", "huddles", "2026-08", "Huddles held", "Coach A", now=at)
    assert rid == 1 and entries[0]["check"] == "rebase_recorded" and entries[0]["seq"] == 1
    assert record_rebase(engine, "T01", "HUDDLES", "2026-08", "again", "Coach A", now=at) == (1, [])
    with pytest.raises(RebaseError, match="Team T09 is not in the warehouse's registry"):
        record_rebase(engine, "T09", "HUDDLES", "2026-08", "x", "Coach A")
    assert active_rebases(engine).rows() == [("T01", "HUDDLES", "2026-08")]
    wid, entries = withdraw_rebase(engine, 1, "Recorded for the wrong measure", "Coach A", now=at)
    assert (wid, entries[0]["check"], entries[0]["seq"]) == (2, "rebase_withdrawn", 2)
    listed = rebase_entries(engine)
    assert [(e.record_id, e.action, e.withdraws, e.withdrawn_by, e.active) for e in listed] == [
        (1, "record", None, 2, False),
        (2, "withdraw", 1, None, False),
    ]
    assert active_rebases(engine).is_empty()
    with pytest.raises(RebaseError, match="already withdrawn by record 2"):
        withdraw_rebase(engine, 1, "again", "Coach A")
    with engine.connect() as conn:
        messages = conn.execute(select(ValidationIssue.message).order_by(ValidationIssue.seq)).scalars().all()
    assert (
        messages[0]
        == "Rebase 1 recorded by Coach A: recalculate T01 HUDDLES from 2026-08. Reason: Huddles held"
    )
    problems, n = verify(engine, tmp_path / "no-files-yet")
    assert n == 2 and [p for p in problems if p.where == "warehouse"] == []
    engine.dispose()


def test_a_rebase_and_a_rule_set_change_recompute_the_derived_tables(
    warehouse_url: str, tmp_path: Path
) -> None:
    root = nw.network(tmp_path / "net")
    for i, period in enumerate(("2026-06", "2026-07", "2026-08", "2026-09")):
        for team in nw.TEAMS:
            nw.write(root, team, period, pulse=5.0 + (2.0 if i >= 2 and team == "T01" else 0.0) + 0.1 * i)
    nw.run(warehouse_url, root, "2026-09", backfill=True)
    engine = make_engine(warehouse_url)
    before = table_checksums(engine)
    nw.run(warehouse_url, root, "2026-09")  # nothing new: the warehouse is unchanged
    assert table_checksums(engine) == before
    record_rebase(engine, "T01", "JOY_PULSE", "2026-08", "New rota held", "Coach A")
    nw.run(warehouse_url, root, "2026-09")
    with engine.connect() as conn:
        phases = conn.execute(select(*SeriesPhase.__table__.columns)).all()
        cls = conn.execute(
            select(SeriesPoint.period, SeriesPoint.cl)
            .where(SeriesPoint.team_id == "T01", SeriesPoint.measure_id == "JOY_PULSE")
            .order_by(SeriesPoint.period)
        ).all()
    assert [tuple(p) for p in phases] == [("T01", "JOY_PULSE", "2026-08", "recorded")]
    # phase 1: 5.0, 5.1; phase 2: 7.2, 7.3 -- each its own centre line
    assert [round(c, 2) for _, c in cls] == [5.05, 5.05, 7.25, 7.25]
    points = with_phases(queries.series_points(engine), queries.series_phases(engine), at="period")
    t01 = points.filter((pl.col("team_id") == "T01") & (pl.col("measure_id") == "JOY_PULSE"))
    assert t01.select("period", "part", "phase_start").rows() == [
        ("2026-06", 1, None),
        ("2026-07", 1, None),
        ("2026-08", 2, "recorded"),
        ("2026-09", 2, None),
    ]
    withdraw_rebase(engine, 1, "Changed our minds", "Coach A")
    nw.run(warehouse_url, root, "2026-09")
    with engine.connect() as conn:
        assert conn.execute(select(SeriesPhase.team_id)).all() == []
    (root / "network.toml").write_text(
        (root / "network.toml").read_text() + '\n[statistics]\nrules = "ihi"\n', encoding="utf-8"
    )
    nw.run(warehouse_url, root, "2026-09")
    with engine.connect() as conn:
        rules = set(conn.execute(select(SeriesSummary.rules)).scalars())
    assert rules == {"ihi"}
    engine.dispose()


# --------------------------------------------------------------------------- command line


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "JOYFLOW_HOME": str(home)}
    env.pop("JOYFLOW_WAREHOUSE_URL", None)
    return subprocess.run([*JOYFLOW, *args], capture_output=True, text=True, timeout=120, env=env)


def test_joyflow_rebase_records_lists_withdraws_and_the_audit_log_verifies(tmp_path: Path) -> None:
    home = tmp_path / "var"
    engine = _synced(f"sqlite:///{home / 'warehouse.db'}", tmp_path)
    engine.dispose()
    res = _cli("rebase", "record", "--team", "T01", "--measure", "HUDDLES", "--from", "2026-08",
               "--reason", "Huddles held as planned", "--by", "Coach A", home=home)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "Recorded rebase 1: T01 HUDDLES from 2026-08." in res.stdout
    again = _cli("rebase", "record", "--team", "T01", "--measure", "HUDDLES", "--from", "2026-08",
                 "--reason", "Huddles held as planned", "--by", "Coach A", home=home)  # fmt: skip
    assert "Already recorded as rebase 1: T01 HUDDLES from 2026-08." in again.stdout
    res = _cli("rebase", "list", "--team", "t01", home=home)
    assert (
        "T01 HUDDLES from 2026-08 (in force)" in res.stdout
        and "Coach A: Huddles held as planned" in res.stdout
    )
    res = _cli("rebase", "withdraw", "1", "--reason", "Too early", "--by", "Coach A", home=home)
    assert res.returncode == 0 and "Rebase 1 withdrawn (record 2)." in res.stdout
    assert "(withdrawn by 2)" in _cli("rebase", "list", home=home).stdout
    res = _cli("rebase", "record", "--team", "T01", "--measure", "HUDDLES", "--from", "Aug", "--reason", "x",
               home=home)  # fmt: skip
    assert res.returncode != 0 and "'Aug' is not a period" in res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    res = _cli("audit", "verify", home=home)
    assert res.returncode == 0, res.stdout
    assert "Audit log intact: 2 entries" in res.stdout
    logged = [
        json.loads(line)
        for f in sorted((home / "audit").glob("*.jsonl"))
        for line in f.read_text().splitlines()
    ]
    assert [e["check"] for e in logged] == ["rebase_recorded", "rebase_withdrawn"]


def test_joyflow_chart_json_has_the_summary_for_every_rule_set(tmp_path: Path) -> None:
    path = tmp_path / "pulse.csv"
    path.write_text(
        "x,y\n" + "".join(f"{p},{y}\n" for p, y in zip(PERIODS, STEP, strict=False)), encoding="utf-8"
    )
    res = _cli("chart", str(path), "--chart", "i", "--direction", "up", "--target", "6.5", "--rules", "ihi",
               "--rebase", PERIODS[8], "--json", home=tmp_path / "var")  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert [p["part"] for p in out["points"]] == [1] * 8 + [2] * 10
    assert out["series"]["rules"] == "ihi"
    assert out["series"]["variation_words"] == "common cause"
    # phase 2: mean 7.07, average moving range 3.0 / 9, limits 7.07 -/+ 3 x 0.333 / 1.128 =
    # 6.18-7.96 (qicharts2), straddling the target 6.5: sometimes met
    last = out["points"][-1]
    assert (round(last["cl"], 2), round(last["lcl"], 2), round(last["ucl"], 2)) == (7.07, 6.18, 7.96)
    assert out["series"]["assurance_words"] == "inconsistent"
    assert set(out["rule_sets"]) == {"default", *RULE_SETS}
    # MDC asks for 12 baseline points: phase 2 has 10, so no limits and no assurance
    mdc = out["rule_sets"]["mdc"]["series"]
    assert (mdc["too_few_points"], mdc["assurance"], mdc["variation_words"]) == (True, None, "common cause")
    plain = _cli("chart", str(path), "--chart", "i", "--direction", "up", "--json", home=tmp_path / "var")
    rules = [p["signal_rule"] for p in json.loads(plain.stdout)["points"]]
    assert rules[8:] == ["beyond_limits"] * 10 or "shift" in rules  # the step is flagged without a rebase
    bad = _cli(
        "chart", str(path), "--chart", "i", "--rules", "anhoej", "--baseline", "0", home=tmp_path / "var"
    )
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


# --------------------------------------------------------------------------- reports and charts


def test_reports_name_the_rule_set_and_list_suggested_recalculations(
    rendered_demo: dict, tmp_path: Path
) -> None:
    import shutil

    from reports.charts_for import draw_charts
    from reports.context import load_run_data, network_context, team_contexts
    from reports.render import TEMPLATES, render_html
    from tests.conftest import DEMO_END
    from warehouse.derived import rebuild_derived, statistics_choice

    db = tmp_path / "warehouse.db"
    shutil.copyfile(rendered_demo["home"] / "warehouse.db", db)
    engine = make_engine(f"sqlite:///{db}")
    rebuild_derived(
        engine, DEMO_END, None, statistics_choice(engine, network_rules({"rules": "mdc"}), "suggest")
    )
    data = load_run_data(engine, DEMO_END, "Demo", None, 18)
    net = network_context(data, due_day=10)
    assert net.rules_label == "the Making Data Count rules (as in NHSRplotthedots)"
    html = render_html(TEMPLATES["network"], net, draw_charts(net))
    assert "judged by the Making Data Count rules (as in NHSRplotthedots)." in html
    suggested = data.summaries.filter(pl.col("suggested_from").is_not_null())
    assert [(s.team_id, s.measure_id, s.from_period) for s in net.rebase_suggestions] == suggested.select(
        "team_id", "measure_id", "suggested_from"
    ).rows()
    assert net.rebase_suggestions, "the demo's improving teams adopted changes that held"
    first = net.rebase_suggestions[0]
    assert f"{first.measure_name}: a sustained shift since {first.from_label}" in html
    team = next(t for t in team_contexts(data) if t.team.team_id == first.team_id)
    charts = draw_charts(team)
    team_html = render_html(TEMPLATES["team"], team, charts)
    assert "Limits a coach may recalculate" in team_html
    assert charts.key.endswith("Special-cause rules: the Making Data Count rules (as in NHSRplotthedots).")
    assert "I chart  \u00b7  MDC rules" in team_html
    engine.dispose()


def test_a_recorded_phase_is_labelled_and_flagged_points_name_their_rule() -> None:
    from reports.charts.spc import spc_chart_svg

    values = _values({("T01", "JOY_PULSE"): STEP})
    rebases = pl.DataFrame({"team_id": ["T01"], "measure_id": ["JOY_PULSE"], "from_period": [PERIODS[8]]})
    for choice, label in ((StatisticsChoice(rebases=rebases), "Recalculated"), (StatisticsChoice(), None)):
        points, _ = series_statistics(values, _pulse_catalogue(), choice)
        svg = spc_chart_svg(points.rename({"period": "x"}), title="Pulse", chart_label="I chart", rules="MDC")
        if label:
            assert ">Recalculated<" in svg
            assert "2 phases; limits recalculated by a recorded decision from Sep 2025" in svg
        else:
            assert "Recalculated" not in svg
            assert "Flagged by " in svg and "a point beyond the limits" in svg
        assert "Special-cause rules: MDC." in svg and "I chart \u00b7 MDC rules" in svg  # SVG text: one space


def test_migration_0005_goes_down_and_up_again(warehouse_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from warehouse.migrate import alembic_config, current_revision, head_revision

    engine = make_engine(warehouse_url)
    upgrade(engine)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    insp = inspect(engine)
    assert "rebase_record" not in insp.get_table_names()
    assert "series_phase" not in insp.get_table_names()
    assert "signal_rule" not in {c["name"] for c in insp.get_columns("series_point")}
    assert "too_few_points" not in {c["name"] for c in insp.get_columns("series_summary")}
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    assert "signal_rule" in {c["name"] for c in inspect(engine).get_columns("series_point")}
    assert {"series_phase", "rebase_record"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_demo_records_a_rebase_for_a_team_whose_change_held(demo_network_master: Path) -> None:
    from tests.conftest import DEMO_END
    from transforms.demo import DEMO_REBASE_FILE, periods_ending

    args = (demo_network_master / DEMO_REBASE_FILE).read_text(encoding="utf-8").split()
    assert args[:4] == ["--team", "T01", "--measure", "HUDDLES"] and args[4] == "--from"
    periods = periods_ending(DEMO_END, 18)
    # T01 improves; its change takes full effect two months after it starts, leaving a phase of months
    assert args[5] in periods and periods.index(args[5]) <= len(periods) - 5
