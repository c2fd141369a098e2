"""The participation section of the network report and each team's own participation panel, cut
from one ``ParticipationData`` (``transforms.participation.view``).

The network's section names teams and counts; people appear only in their own team's panel (and
their coach's email). Dates and scores are turned into the words the templates print here, once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl

from reports.report_types import (
    AttendanceGridRow,
    DomainSummary,
    GridMeeting,
    KindLine,
    NetworkParticipation,
    ParticipationTeamRow,
    PersonLine,
    ReadinessLine,
    ScoreLine,
    TeamMeetingLine,
    TeamParticipation,
    WatchRow,
)
from transforms.participation.meetings import KIND_WORDS, MEETING_KINDS
from transforms.participation.roles import ROLE_WORDS, ROLES
from transforms.participation.view import DOMAIN_WORDS, READINESS_DOMAINS, ParticipationData

GRID_INLINE_MAX_TEAMS = 40  # as the compliance grid: past one page of teams, the grid goes to an appendix
GRID_MAX_MEETINGS = 20  # columns of the attendance grid that fit an A4 page: the latest meetings
TEAM_MEETINGS_SHOWN = 12  # a team's panel lists its latest meetings; the counts cover all of them
TEAM_SCORES_SHOWN = 6  # ... and its latest months of self against coach scores
ROLE_ORDER = {r: i for i, r in enumerate(ROLES)}
KIND_SHORT = {"coaching": "Coaching", "all_team_call": "Call", "workshop": "Workshop"}


def day(value: dt.date | None) -> str:
    return f"{value.day} {value:%b %Y}" if value else "—"


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def thresholds(p: ParticipationData) -> tuple[str, ...]:
    """The watch list's rules in words, for the methods note (the network's own settings)."""
    s = p.settings
    return (
        f"fewer than two named participants at {s.missed_meetings} or more of its last {s.recent_meetings} meetings",
        f"a required role vacant for {s.vacancy_days} days or more",
        f"{s.late_returns} or more of its last {s.recent_periods} monthly returns late, missing or rejected",
        f"a self-assessed progress score below 4.0 unchanged for {s.stalled_months} months",
    )


def network_participation(p: ParticipationData, periods: tuple[str, ...] | list[str]) -> NetworkParticipation:
    """The network report's section: per team counts, the attendance grid, readiness, the watch list."""
    names = dict(p.figures.select("team_id", "team_name").iter_rows())
    vacant = {
        (t, r): v
        for t, r, v in p.coverage.filter(pl.col("holders") == 0)
        .select("team_id", "role", "vacant_since")
        .iter_rows()
    }
    kinds = {
        (t, k): f"{w}/{h}"
        for t, k, h, w in p.by_kind.select(
            "team_id", "kind", "meetings_held", "meetings_with_two"
        ).iter_rows()
    }
    ready = {
        (t, d): (b, latest)
        for t, d, b, latest in p.readiness.select("team_id", "domain", "baseline", "latest").iter_rows()
    }
    latest_scores = (
        p.scores.sort("period")
        .group_by("team_id")
        .agg(pl.col("self_score").drop_nulls().last(), pl.col("coach_score").drop_nulls().last())
    )
    scores = {t: (s, c) for t, s, c in latest_scores.iter_rows()}

    def readiness_cell(tid: str, domain: str) -> str:
        base, latest = ready.get((tid, domain), (None, None))
        if base is None and latest is None:
            return "—"
        return f"{_score(base)} → {_score(latest)}"

    rows = tuple(
        ParticipationTeamRow(
            team_id=f["team_id"],
            name=f["team_name"],
            letter=day(f["letter_received_on"]),
            roles=tuple(
                "" if (f["team_id"], r) not in vacant else "vacant since " + day(vacant[(f["team_id"], r)])
                for r in ROLES
            ),
            baseline=day(f["readiness_baseline_on"]),
            onboarded=bool(f["onboarded"]),
            kinds=tuple(kinds.get((f["team_id"], k), "—") for k in MEETING_KINDS),
            readiness=tuple(readiness_cell(f["team_id"], d) for d in READINESS_DOMAINS),
            self_score=_score(scores.get(f["team_id"], (None, None))[0]),
            coach_score=_score(scores.get(f["team_id"], (None, None))[1]),
        )
        for f in p.figures.iter_rows(named=True)
    )
    rows_all = len(rows) <= GRID_INLINE_MAX_TEAMS
    if not rows_all:
        rows = tuple(r for r in rows if not r.onboarded or any(r.roles))
    shared = p.meetings.filter(
        pl.col("team_id").is_null() & pl.col("held_on").dt.strftime("%Y-%m").is_in(list(periods))
    ).sort("held_on", "meeting_id")
    grid_meetings = tuple(
        GridMeeting(mid, kind, f"{held:%b %y}", day(held))
        for mid, kind, held in shared.tail(GRID_MAX_MEETINGS)
        .select("meeting_id", "kind", "held_on")
        .iter_rows()
    )
    present = {
        (t, m): n for t, m, n in p.attended.select("team_id", "meeting_id", "named_present").iter_rows()
    }
    grid = tuple(
        AttendanceGridRow(
            tid,
            names[tid],
            tuple(
                str(present[(tid, g.meeting_id)]) if (tid, g.meeting_id) in present else ""
                for g in grid_meetings
            ),
        )
        for tid in p.figures.get_column("team_id").to_list()
    )
    totals = p.by_kind.group_by("kind").agg(pl.col("meetings_held").sum(), pl.col("meetings_with_two").sum())
    by_kind_total = {k: (h, w) for k, h, w in totals.iter_rows()}
    domains = p.readiness.group_by("domain").agg(
        pl.col("baseline").is_not_null().sum().alias("teams_baseline"),
        pl.col("baseline").median().alias("median_baseline"),
        pl.col("latest").is_not_null().sum().alias("teams_followup"),
        pl.col("latest").median().alias("median_latest"),
        (pl.col("latest") > pl.col("baseline")).sum().alias("improved"),
    )
    by_domain = {r["domain"]: r for r in domains.iter_rows(named=True)}
    watch = tuple(
        WatchRow(t, names.get(t, t), tuple(reasons))
        for t, reasons in p.watch.select("team_id", "reasons").iter_rows()
    )
    return NetworkParticipation(
        as_of=day(p.as_of),
        min_minutes=p.settings.min_minutes,
        thresholds=thresholds(p),
        team_count=p.figures.height,
        all_roles=int((p.figures.get_column("roles_missing").list.len() == 0).sum()),
        vacancies=len(vacant),
        onboarded=int(p.figures.get_column("onboarded").sum()),
        kind_totals=tuple((KIND_WORDS[k], *by_kind_total[k]) for k in MEETING_KINDS if k in by_kind_total),
        rows=rows,
        rows_all=rows_all,
        coach_against_self=(
            sum(1 for s_, c in scores.values() if s_ is not None and c is not None and c < s_),
            sum(1 for s_, c in scores.values() if s_ is not None and c is not None and c == s_),
            sum(1 for s_, c in scores.values() if s_ is not None and c is not None and c > s_),
        ),
        grid_meetings=grid_meetings,
        grid=grid,
        grid_in_appendix=len(grid) > GRID_INLINE_MAX_TEAMS,
        domains=tuple(
            DomainSummary(
                DOMAIN_WORDS[d],
                int(by_domain[d]["teams_baseline"]),
                by_domain[d]["median_baseline"],
                int(by_domain[d]["teams_followup"]),
                by_domain[d]["median_latest"],
                int(by_domain[d]["improved"]),
            )
            for d in READINESS_DOMAINS
            if d in by_domain
        ),
        watch=watch,
    )


def team_participation(p: ParticipationData) -> Callable[[str], TeamParticipation | None]:
    """A function giving one team's own panel: the frames are cut by team once, not per call."""

    def cut(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
        return {k[0]: v for k, v in frame.partition_by("team_id", as_dict=True, maintain_order=True).items()}

    people, coverage, attended = cut(p.people), cut(p.coverage), cut(p.attended)
    by_kind, readiness, scores = cut(p.by_kind), cut(p.readiness), cut(p.scores)
    watch = dict(p.watch.select("team_id", "reasons").iter_rows())
    taking_part = set(p.figures.get_column("team_id").to_list())
    titles = dict(p.meetings.select("meeting_id", "title").iter_rows())

    def panel(team_id: str) -> TeamParticipation | None:
        if team_id not in taking_part:
            return None
        own = people.get(team_id, p.people.clear())
        name_of = dict(own.select("person_id", "name").iter_rows())
        vacancies = coverage.get(team_id, p.coverage.clear()).filter(pl.col("holders") == 0)
        met = attended.get(team_id, p.attended.clear()).sort("held_on", "meeting_id", descending=True)
        kinds = {r["kind"]: r for r in by_kind.get(team_id, p.by_kind.clear()).iter_rows(named=True)}
        return TeamParticipation(
            as_of=day(p.as_of),
            min_minutes=p.settings.min_minutes,
            people=tuple(
                PersonLine(
                    r["name"],
                    r["email"],
                    ROLE_WORDS.get(r["role"], r["role"]),
                    bool(r["steering_committee"]),
                    day(r["joined_on"]),
                    day(r["left_on"]) if r["left_on"] else None,
                )
                for r in own.sort(
                    pl.col("left_on").is_not_null(),
                    pl.col("role").replace_strict(ROLE_ORDER, default=len(ROLE_ORDER)),
                    "name",
                ).iter_rows(named=True)
            ),
            vacancies=tuple(
                f"{ROLE_WORDS[r]}: vacant since {day(v)}"
                for r, v in vacancies.select("role", "vacant_since").iter_rows()
            ),
            kinds=tuple(
                KindLine(KIND_WORDS[k], kinds[k]["meetings_held"], kinds[k]["meetings_with_two"])
                for k in MEETING_KINDS
                if k in kinds
            ),
            meetings=tuple(
                TeamMeetingLine(
                    day(r["held_on"]),
                    KIND_SHORT.get(r["kind"], r["kind"]),
                    titles.get(r["meeting_id"]) or KIND_WORDS.get(r["kind"], r["kind"]),
                    r["named_present"],
                    tuple(sorted(name_of.get(pid, pid) for pid in r["attendees"])),
                )
                for r in met.head(TEAM_MEETINGS_SHOWN).iter_rows(named=True)
            ),
            readiness=tuple(
                ReadinessLine(
                    DOMAIN_WORDS.get(r["domain"], r["domain"]),
                    r["baseline"],
                    day(r["baseline_on"]),
                    r["latest"],
                    f"{r['latest_occasion']}, {day(r['latest_on'])}" if r["latest_occasion"] else "—",
                )
                for r in readiness.get(team_id, p.readiness.clear()).iter_rows(named=True)
            ),
            scores=tuple(
                ScoreLine(r["period"], r["self_score"], r["coach_score"], r["justification"], r["scored_by"])
                for r in scores.get(team_id, p.scores.clear())
                .sort("period")
                .tail(TEAM_SCORES_SHOWN)
                .iter_rows(named=True)
            ),
            watch_reasons=tuple(watch.get(team_id, ())),
        )

    return panel
