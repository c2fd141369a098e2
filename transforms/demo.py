"""Generate a deterministic demo (or benchmark) network: registry, catalogue and monthly returns.

Teams follow one of three stories — improving after their PDSA cycles, flat, or noisy —
so the reports have real signals to show. A few returns are deliberately broken (and one
is resubmitted corrected), so a demo run shows rejections and supersession too.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from schemas.config import DEFAULT_CATALOGUE, load_catalogue
from schemas.periods import previous_month
from transforms.demo_participation import reported_changes, write_participation
from transforms.workbook import write_return

ORGANISATIONS = [
    ("NSH", "Northshire Hospitals NHS Trust"),
    ("RCH", "Riverside Community Health"),
    ("EPC", "Eastvale Primary Care Network"),
    ("WMH", "Westmoor Mental Health Trust"),
]
TEAM_NAMES = [
    "Acute Medical Unit",
    "Emergency Department",
    "Ward 7 Respiratory",
    "Maternity Unit",
    "Critical Care",
    "Community Nursing North",
    "District Nursing South",
    "Children's Therapies",
    "Eastvale Health Centre",
    "Riverside Surgery",
    "Oak Ward Adult Inpatients",
    "Crisis Resolution Team",
    "Theatres and Recovery",
    "Hospital Pharmacy",
    "Stroke Unit",
    "Radiology",
]
COACHES = [
    ("Amira Okafor", "amira.okafor@coaches.example.org"),
    ("Ben Lindqvist", "ben.lindqvist@coaches.example.org"),
    ("Carys Pryce", "carys.pryce@coaches.example.org"),
]
CHANGE_IDEAS = [
    ("Daily 10-minute joy huddle at shift change", "camaraderie and teamwork"),
    ("'What matters to you' conversations in 1:1s", "meaning and purpose"),
    ("Pebble board: staff post impediments, leads remove one a week", "daily improvement"),
    ("Self-rostering pilot for night shifts", "choice and autonomy"),
    ("Thank-you cards from patients read at huddle", "recognition and rewards"),
    ("Protected breaks with a rest room rota", "wellness and resilience"),
    ("Staff co-design the new handover sheet", "participative management"),
    ("Speak-up card at every huddle", "physical and psychological safety"),
    ("Weekly joy pulse on a whiteboard chart", "real-time measurement"),
]
WENT_WELL = [
    "Huddles are now part of the routine; night staff joined for the first time.",
    "Two pebbles removed quickly: the broken hoist and the missing printer toner.",
    "Staff said the 'what matters to you' question felt genuine & not a tick-box.",
    "The pulse chart on the wall starts conversations at handover.",
    "Leads noticed more people speaking up when things are <10 minutes from going wrong.",
]
CHALLENGES = [
    "Agency staffing made it hard to keep the huddle time.",
    "Winter pressures: two huddles cancelled in the busiest week.",
    "Some staff are sceptical that anything will change.",
    "Data collection for the pulse is still on paper.",
    "Sickness in the leadership team slowed the pebble board.",
]
HELP_WANTED = [
    "How do other teams keep huddles going on busy days?",
    "Could we see how another trust set up self-rostering?",
    "Help reading our run chart: is the shift real?",
    "",
    "Ideas for recognising night staff.",
]


@dataclass(frozen=True)
class TeamStory:
    team_id: str
    kind: str  # improving | flat | noisy
    change_month: int  # month index where adopted changes start to show
    size: int  # staff in post


def periods_ending(end: str, months: int) -> list[str]:
    year, month = map(int, end.split("-"))
    out = []
    for _ in range(months):
        out.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out[::-1]


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _binomial(rng: random.Random, n: int, p: float) -> int:
    p = min(max(p, 0.0), 1.0)
    if n > 60:
        return min(n, max(0, round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))))
    return sum(rng.random() < p for _ in range(n))


def _effect(story: TeamStory, m: int) -> float:
    """0 before the change, rising to 1 over three months after it (for improving teams)."""
    if story.kind != "improving" or m < story.change_month:
        return 0.0
    return min(1.0, (m - story.change_month + 1) / 3)


def _measure_rows(
    rng: random.Random, story: TeamStory, m: int, period: str, base: dict[str, float]
) -> list[dict]:
    e = _effect(story, m)
    noise = 2.0 if story.kind == "noisy" else 1.0
    size = story.size
    rows = []
    pulse = min(10.0, max(0.0, base["pulse"] + 1.4 * e + rng.gauss(0, 0.35 * noise)))
    rows.append({"measure_id": "JOY_PULSE", "period": period, "value": round(pulse, 1)})
    resp = max(5, round(size * rng.uniform(0.35, 0.6)))
    rows.append(
        {
            "measure_id": "RECOMMEND",
            "period": period,
            "numerator": _binomial(rng, resp, base["rec"] + 0.15 * e),
            "denominator": resp,
        }
    )
    hours = round(size * 150 * rng.uniform(0.97, 1.03))
    sick_p = max(0.005, base["sick"] - 0.018 * e + rng.gauss(0, 0.006 * noise))
    rows.append(
        {"measure_id": "SICKNESS", "period": period, "numerator": round(hours * sick_p), "denominator": hours}
    )
    rows.append(
        {
            "measure_id": "TURNOVER",
            "period": period,
            "numerator": _poisson(rng, size * (0.014 - 0.006 * e)),
            "denominator": size,
        }
    )
    rows.append({"measure_id": "WMTY", "period": period, "value": _poisson(rng, base["wmty"] + 12 * e)})
    rows.append({"measure_id": "PEBBLES", "period": period, "value": _poisson(rng, 2.5 + 4 * e)})
    planned = rng.choice([20, 21, 22, 23])
    rows.append(
        {
            "measure_id": "HUDDLES",
            "period": period,
            "numerator": _binomial(rng, planned, min(0.97, 0.6 + 0.3 * e)),
            "denominator": planned,
        }
    )
    fte = round(size * 0.85, 1)
    ot = max(0.0, base["ot"] + rng.gauss(0, 1.2 * noise))
    rows.append(
        {"measure_id": "OVERTIME", "period": period, "numerator": round(ot * fte, 1), "denominator": fte}
    )
    return rows


def _pdsa_rows(rng: random.Random, story: TeamStory, m: int, period: str, state: dict) -> list[dict]:
    year, month = map(int, period.split("-"))
    active_from = max(1, story.change_month - 2) if story.kind == "improving" else 4
    chance = 0.9 if story.kind == "improving" else 0.35
    if m < active_from or rng.random() > chance:
        return []
    rows = []
    for _ in range(1 if story.kind != "improving" else rng.choice([1, 2])):
        ideas = state.setdefault("ideas", [])
        if not ideas or (len(ideas) < 3 and rng.random() < 0.3):
            ideas.append([rng.choice(CHANGE_IDEAS), 0])
        idea = rng.choice(ideas)
        idea[1] += 1
        (text, component), cycle = idea[0], idea[1]
        start = dt.date(year, month, rng.randint(1, 12))
        decision = (
            "adopt"
            if cycle >= 3 and story.kind == "improving"
            else rng.choice(["adapt", "continue", "abandon"] if cycle > 1 else ["continue"])
        )
        rows.append(
            {
                "change_idea": text,
                "component": component,
                "cycle": cycle,
                "start_date": start,
                "end_date": start + dt.timedelta(days=rng.randint(5, 14)),
                "prediction": "More staff will feel their voice is heard.",
                "what_happened": rng.choice(WENT_WELL),
                "decision": decision,
                "linked_measure": rng.choice(["JOY_PULSE", "WMTY", "PEBBLES", "HUDDLES", None]),
            }
        )
    rows.sort(key=lambda r: (r["change_idea"], r["cycle"]))
    for i, row in enumerate(rows):  # later cycles of an idea start later
        row["start_date"] = dt.date(year, month, 1 + 9 * i + rng.randint(0, 3))
        row["end_date"] = row["start_date"] + dt.timedelta(days=rng.randint(4, 8))
    return rows


def make_registry(n_teams: int, first_period: str, rng: random.Random) -> pl.DataFrame:
    rows = []
    for i in range(n_teams):
        org_id, org_name = ORGANISATIONS[i % len(ORGANISATIONS)]
        name = TEAM_NAMES[i] if i < len(TEAM_NAMES) else f"Team {i + 1:04d}"
        coach = COACHES[i % len(COACHES)]
        rows.append(
            {
                "team_id": f"T{i + 1:02d}" if n_teams < 100 else f"T{i + 1:04d}",
                "team_name": name,
                "organisation_id": org_id,
                "organisation_name": org_name,
                "coach_name": coach[0],
                "coach_email": coach[1],
                "cohort": "2025A",
                "first_period": first_period,
            }
        )
    return pl.DataFrame(rows)


def generate(
    out: Path,
    teams: int = 12,
    months: int = 18,
    end: str | None = None,
    seed: int = 20251,
    broken: bool = True,
    participation: bool = True,
) -> dict[str, object]:
    """Write a network folder: registry.csv, catalogue.csv, network.toml, inbox/<period>/*.xlsx, and
    (``participation``) the people, calendar, attendance files, letters, readiness answers and coach
    scores of ``transforms.demo_participation``."""
    end = end or previous_month()
    periods = periods_ending(end, months)
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    (out / "inbox").mkdir(parents=True)
    registry = make_registry(teams, periods[0], rng)
    registry.write_csv(out / "registry.csv")
    shutil.copyfile(DEFAULT_CATALOGUE, out / "catalogue.csv")
    measure_ids = load_catalogue(out / "catalogue.csv").get_column("measure_id").to_list()
    (out / "network.toml").write_text(
        '[network]\nname = "Joy in Work Learning Network (demo)"\ndue_day = 10\n'
        f'start_period = "{periods[0]}"\nmonths = {months}\n'
        'representatives = ["network.lead@ihi.example.org", "improvement.advisor@ihi.example.org"]\n',
        encoding="utf-8",
    )
    kinds = ["improving", "flat", "noisy"]
    files = 0
    self_scores: dict[tuple[str, str], float] = {}
    rebase: tuple[str, ...] | None = None
    owed = reported_changes(registry, periods, seed) if participation else {}
    for t, team in enumerate(registry.iter_rows(named=True)):
        trng = random.Random(f"{seed}:{team['team_id']}")
        changes = owed.get(team["team_id"], [])
        story = TeamStory(
            team["team_id"],
            kinds[t % 3] if t % 3 != 2 or t % 6 == 2 else "improving",
            change_month=trng.randint(5, 9),
            size=trng.randint(30, 110),
        )
        base = {
            "pulse": trng.uniform(5.2, 6.4),
            "rec": trng.uniform(0.5, 0.68),
            "sick": trng.uniform(0.05, 0.07),
            "wmty": trng.uniform(5, 9),
            "ot": trng.uniform(5, 9),
        }
        state: dict = {}
        score = 1.0
        for m, period in enumerate(periods):
            year, month = map(int, period.split("-"))
            if story.kind != "flat" and m > 0 and trng.random() < 0.08:
                continue  # a missed month
            measures = _measure_rows(trng, story, m, period, base)
            if m > 0 and trng.random() < 0.15:  # a correction of last month's pulse
                prev = periods[m - 1]
                measures.append(
                    {
                        "measure_id": "JOY_PULSE",
                        "period": prev,
                        "value": round(base["pulse"] + trng.gauss(0, 0.2), 1),
                        "comment": "Corrected: late pulse forms counted",
                    }
                )
            if story.kind == "improving" and m >= story.change_month and trng.random() < 0.5:
                score = min(4.5, score + 0.5)
            elif trng.random() < 0.15:
                score = min(3.0, score + 0.5)
            due = dt.date(year + (month == 12), month % 12 + 1, 10)
            submitted = (
                due - dt.timedelta(days=trng.randint(0, 9))
                if trng.random() > 0.15
                else due + dt.timedelta(days=trng.randint(2, 12))
            )
            if t == 5 and m >= len(periods) - 2:  # the team drifting away (demo_participation): late too
                submitted = due + dt.timedelta(days=9)
            about = {
                "team_id": team["team_id"],
                "period": period,
                "submitted_by": f"{team['team_name']} lead",
                "submitted_on": submitted,
                "progress_score": score,
            }
            self_scores[(team["team_id"], period)] = score
            learning = [
                {
                    "went_well": trng.choice(WENT_WELL),
                    "challenges": trng.choice(CHALLENGES),
                    "help_wanted": trng.choice(HELP_WANTED) or None,
                }
            ]
            pdsa = _pdsa_rows(trng, story, m, period, state)
            # the people changes of this month (or of a month the team missed), in this return
            now = [row for month, row in changes if month <= period]
            changes = [(month, row) for month, row in changes if month > period]
            write_return(
                out / "inbox" / period / f"{team['team_id']}_{period}.xlsx",
                about,
                measures,
                pdsa,
                learning,
                measure_ids,
                people_changes=now or None,
            )
            files += 1
        if t == 0 and story.kind == "improving":
            rebase = demo_rebase(story, periods)
    if broken and teams >= 8:
        files += _write_broken(out, registry, periods, measure_ids)
    if rebase is not None:
        (out / DEMO_REBASE_FILE).write_text(" ".join(rebase) + "\n", encoding="utf-8")
    extra = write_participation(out, registry, periods, self_scores, seed) if participation else 0
    return {
        "folder": str(out),
        "teams": teams,
        "periods": periods,
        "files": files,
        "participation_files": extra,
        "rebase": rebase,
    }


# The demo's recorded re-baselining (issue 16): the first team's huddles held once its change took
# full effect, so a coach recalculates that chart's limits from then; ``make demo`` records it with
# ``joyflow rebase record $(cat var/demo/demo_rebase.args) --reason ...`` and re-runs.
DEMO_REBASE_FILE = "demo_rebase.args"
DEMO_REBASE_MEASURE = "HUDDLES"


def demo_rebase(story: TeamStory, periods: list[str]) -> tuple[str, ...] | None:
    """``joyflow rebase record`` arguments for the team's held change, or None if it comes too late
    to leave a phase of a few months."""
    held = story.change_month + 2  # ``_effect`` reaches 1 three months after the change
    if held > len(periods) - 4:
        return None
    return ("--team", story.team_id, "--measure", DEMO_REBASE_MEASURE, "--from", periods[held])


def _write_broken(out: Path, registry: pl.DataFrame, periods: list[str], measure_ids: list[str]) -> int:
    """Deliberately broken returns so a demo run shows what a rejection looks like."""
    last = periods[-1]
    inbox = out / "inbox" / last
    after = dt.date.fromisoformat(last + "-28") + dt.timedelta(days=12)  # fixed, so files are reproducible
    ids = registry.get_column("team_id").to_list()
    # 1. A numerator above its denominator and a made-up component: rejected, with cell-level feedback.
    victim = inbox / f"{ids[4]}_{last}.xlsx"
    if victim.exists():
        victim.unlink()
    write_return(
        victim,
        {
            "team_id": ids[4],
            "period": last,
            "submitted_by": "Ward clerk",
            "submitted_on": after,
            "progress_score": 2.0,
        },
        [
            {"measure_id": "RECOMMEND", "period": last, "numerator": 31, "denominator": 24},
            {"measure_id": "JOY_PULSE", "period": last, "value": "six point five"},
            {"measure_id": "HUDDLES", "period": last, "numerator": 18, "denominator": 21},
        ],
        [
            {
                "change_idea": "Joy board",
                "component": "fun at work",
                "cycle": 1,
                "start_date": after,
                "decision": "adopt",
            }
        ],
        [{"went_well": "We tried", "challenges": None, "help_wanted": None}],
        measure_ids,
    )
    # 2. Not a workbook at all (an image renamed .xlsx).
    (inbox / f"{ids[7]}_{last}.xlsx").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    # 3. An earlier month: an incomplete first return, then a complete resubmission (v2) that supersedes it.
    if len(periods) < 2:
        return 1
    prev = periods[-2]
    folder = out / "inbox" / prev
    first = folder / f"{ids[2]}_{prev}.xlsx"
    if first.exists():
        first.rename(folder / f"{ids[2]}_{prev}_v2.xlsx")
        # The first return lacks most measures (accepted with warnings); v2 is complete and supersedes it.
        write_return(
            first,
            {
                "team_id": ids[2],
                "period": prev,
                "submitted_by": "Team lead",
                "submitted_on": dt.date.fromisoformat(prev + "-28"),
                "progress_score": 1.5,
            },
            [{"measure_id": "JOY_PULSE", "period": prev, "value": 6.4}],
            [],
            [],
            measure_ids,
        )
    return 2
