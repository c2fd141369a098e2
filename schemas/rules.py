"""Every rule a monthly return must follow, with its severity and the sentence a team reads.

A rule is a Polars expression that is True where a row is fine. The Pandera schemas in
``schemas.returns`` are built from this list, and so is the bare-Polars benchmark floor,
so the two can never disagree. Context the rules need (the registry, the catalogue, the
run's period) is joined onto the frames beforehand as ``_``-prefixed columns, so the
schemas are built once and reused for every file.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from schemas.contract import JOY_IN_WORK_COMPONENTS, PDSA_DECISIONS

c = pl.col


@dataclass(frozen=True)
class Rule:
    part: str
    name: str
    column: str | None
    severity: str  # fatal | error | warning
    ok: pl.Expr  # True where the row passes
    message: str  # formatted with the row's columns (and {value})

    @property
    def value_column(self) -> str | None:
        return self.column


def _present(col: str) -> pl.Expr:
    return c(col).is_not_null()


_COMPONENTS = list(JOY_IN_WORK_COMPONENTS)
_DECISIONS = list(PDSA_DECISIONS)
_RATIO = c("_kind").is_in(["proportion", "rate"])
_VALUE_KINDS = c("_kind").is_in(["count", "score"])

RULES: tuple[Rule, ...] = (
    # --- about: who and when; anything wrong here makes the whole file unusable ---
    Rule(
        "about",
        "team_id_required",
        "team_id",
        "fatal",
        _present("team_id"),
        "The team ID is missing on the 'about' sheet. Enter the ID the network gave your team.",
    ),
    Rule(
        "about",
        "team_registered",
        "team_id",
        "fatal",
        c("team_id").is_null() | c("_team_registered"),
        "Team ID '{value}' is not in the network's registry. Check the ID with your coach.",
    ),
    Rule(
        "about",
        "period_required",
        "period",
        "fatal",
        _present("period"),
        "The period is missing on the 'about' sheet. Enter the month the return is for as YYYY-MM.",
    ),
    Rule(
        "about",
        "period_matches_run",
        "period",
        "fatal",
        c("period").is_null() | c("_run_period").is_null() | (c("period") == c("_run_period")),
        "This return is for {value} but this run collects {_run_period}. Send the return for {_run_period}, "
        "or ask the data manager to file it under {value}.",
    ),
    Rule(
        "about",
        "period_not_before_start",
        "period",
        "error",
        c("period").is_null() | c("_first_period").is_null() | (c("period") >= c("_first_period")),
        "Period {value} is before your team joined the network ({_first_period}).",
    ),
    Rule(
        "about",
        "submitted_by_required",
        "submitted_by",
        "error",
        _present("submitted_by"),
        "Please say who submitted the return (the 'submitted by' field is empty).",
    ),
    Rule(
        "about",
        "submitted_on_plausible",
        "submitted_on",
        "error",
        c("submitted_on").is_null()
        | c("_period_start").is_null()
        | ((c("submitted_on") >= c("_period_start")) & (c("submitted_on") <= c("_today"))),
        "The submission date {value} is not plausible: it must fall between the start of the period "
        "({_period_start}) and today.",
    ),
    Rule(
        "about",
        "progress_score_required",
        "progress_score",
        "error",
        _present("progress_score"),
        "The progress score is missing. Give your self-assessment on the IHI scale (0.5 to 5.0).",
    ),
    Rule(
        "about",
        "progress_score_scale",
        "progress_score",
        "error",
        c("progress_score").is_null()
        | (
            c("progress_score").is_between(0.5, 5.0)
            & ((c("progress_score") * 2).round(0) == c("progress_score") * 2)
        ),
        "Progress score {value} is not on the IHI Assessment Scale: use 0.5, 1.0, 1.5 ... up to 5.0.",
    ),
    Rule(
        "about",
        "file_name_matches",
        "team_id",
        "warning",
        c("_name_team").is_null() | c("team_id").is_null() | (c("_name_team") == c("team_id")),
        "The file name suggests team {_name_team} but the return says {value}; the return's content was used.",
    ),
    # --- measures ---
    Rule(
        "measures",
        "measure_id_required",
        "measure_id",
        "error",
        _present("measure_id"),
        "A measure ID is missing. Choose one from the measure list.",
    ),
    Rule(
        "measures",
        "measure_known",
        "measure_id",
        "error",
        c("measure_id").is_null() | c("_kind").is_not_null(),
        "'{value}' is not a measure in the network's catalogue. Choose one from the measure list.",
    ),
    Rule(
        "measures",
        "measure_period_required",
        "period",
        "error",
        _present("period"),
        "The period is missing for measure {measure_id}. Enter the month the value is for (YYYY-MM).",
    ),
    Rule(
        "measures",
        "measure_period_not_future",
        "period",
        "error",
        c("period").is_null() | c("_return_period").is_null() | (c("period") <= c("_return_period")),
        "Measure {measure_id} has a value for {value}, after the month of this return ({_return_period}).",
    ),
    Rule(
        "measures",
        "measure_period_not_before_start",
        "period",
        "error",
        c("period").is_null() | c("_first_period").is_null() | (c("period") >= c("_first_period")),
        "Measure {measure_id} has a value for {value}, before your team joined the network ({_first_period}).",
    ),
    Rule(
        "measures",
        "numerator_required",
        "numerator",
        "error",
        ~_RATIO | _present("numerator"),
        "Measure {measure_id} ({period}) is a {_kind}: enter the numerator.",
    ),
    Rule(
        "measures",
        "denominator_required",
        "denominator",
        "error",
        ~_RATIO | _present("denominator"),
        "Measure {measure_id} ({period}) is a {_kind}: enter the denominator.",
    ),
    Rule(
        "measures",
        "denominator_positive",
        "denominator",
        "error",
        c("denominator").is_null() | (c("denominator") > 0),
        "The denominator of {measure_id} ({period}) is {value}; it must be above 0.",
    ),
    Rule(
        "measures",
        "numerator_not_negative",
        "numerator",
        "error",
        c("numerator").is_null() | (c("numerator") >= 0),
        "The numerator of {measure_id} ({period}) is {value}; it cannot be negative.",
    ),
    Rule(
        "measures",
        "numerator_le_denominator",
        "numerator",
        "error",
        (c("_kind") != "proportion")
        | c("numerator").is_null()
        | c("denominator").is_null()
        | (c("denominator") <= 0)
        | (c("numerator") <= c("denominator")),
        "The numerator of {measure_id} ({period}) is {value}, more than the denominator {denominator}: "
        "a proportion cannot exceed 100%.",
    ),
    Rule(
        "measures",
        "value_required",
        "value",
        "error",
        ~_VALUE_KINDS | _present("value"),
        "Measure {measure_id} ({period}) is a {_kind}: enter the value.",
    ),
    Rule(
        "measures",
        "count_whole",
        "value",
        "error",
        (c("_kind") != "count") | c("value").is_null() | (c("value") == c("value").round(0)),
        "Measure {measure_id} ({period}) is a count; {value} is not a whole number.",
    ),
    Rule(
        "measures",
        "value_in_bounds",
        "_computed",
        "error",
        c("_computed").is_null()
        | c("_lower").is_null()
        | c("_computed").is_between(c("_lower"), c("_upper")),
        "The value of {measure_id} ({period}) works out at {value}, outside the plausible range "
        "{_lower} to {_upper} for this measure. Check for a typing error.",
    ),
    Rule(
        "measures",
        "unique_measure_period",
        "measure_id",
        "error",
        ~c("_duplicate"),
        "Measure {measure_id} has more than one value for {period}. Keep one row per measure per month.",
    ),
    Rule(
        "measures",
        "value_matches_ratio",
        "value",
        "warning",
        ~_RATIO
        | c("value").is_null()
        | c("numerator").is_null()
        | c("denominator").is_null()
        | (c("denominator") <= 0)
        | ((c("value") - c("numerator") / c("denominator")).abs() <= 0.005 * (1 + c("value").abs()))
        | ((c("value") / 100 - c("numerator") / c("denominator")).abs() <= 0.005),
        "For {measure_id} ({period}) the value {value} does not equal numerator / denominator; "
        "the numerator and denominator were used.",
    ),
    # --- pdsa ---
    Rule(
        "pdsa",
        "change_idea_required",
        "change_idea",
        "error",
        _present("change_idea"),
        "A PDSA cycle has no change idea. Describe the change you tested.",
    ),
    Rule(
        "pdsa",
        "component_known",
        "component",
        "error",
        c("component").is_null() | c("component").is_in(_COMPONENTS),
        "'{value}' is not one of the nine Joy in Work components. Choose one from the drop-down list.",
    ),
    Rule(
        "pdsa",
        "component_required",
        "component",
        "error",
        _present("component"),
        "The Joy in Work component is missing for '{change_idea}'.",
    ),
    Rule(
        "pdsa",
        "cycle_required",
        "cycle",
        "error",
        _present("cycle"),
        "The cycle number is missing for '{change_idea}' (1 for its first test, then 2, 3 ...).",
    ),
    Rule(
        "pdsa",
        "cycle_positive",
        "cycle",
        "error",
        c("cycle").is_null() | (c("cycle") >= 1),
        "Cycle number {value} for '{change_idea}' must be 1 or more.",
    ),
    Rule(
        "pdsa",
        "cycle_in_order",
        "cycle",
        "error",
        ~c("_cycle_out_of_order"),
        "The cycles of '{change_idea}' are not numbered in order of their start dates (cycle {value}); "
        "number each new test of an idea one higher than the last.",
    ),
    Rule(
        "pdsa",
        "start_date_required",
        "start_date",
        "error",
        _present("start_date"),
        "The start date is missing for cycle {cycle} of '{change_idea}'.",
    ),
    Rule(
        "pdsa",
        "dates_in_order",
        "end_date",
        "error",
        c("end_date").is_null() | c("start_date").is_null() | (c("end_date") >= c("start_date")),
        "Cycle {cycle} of '{change_idea}' ends ({value}) before it starts ({start_date}).",
    ),
    Rule(
        "pdsa",
        "start_not_after_period",
        "start_date",
        "error",
        c("start_date").is_null() | c("_period_end").is_null() | (c("start_date") <= c("_period_end")),
        "Cycle {cycle} of '{change_idea}' starts on {value}, after the month of this return.",
    ),
    Rule(
        "pdsa",
        "decision_known",
        "decision",
        "error",
        c("decision").is_null() | c("decision").is_in(_DECISIONS),
        "Decision '{value}' is not one of adopt, adapt, abandon or continue.",
    ),
    Rule(
        "pdsa",
        "decision_required",
        "decision",
        "error",
        _present("decision"),
        "The decision (adopt, adapt, abandon or continue) is missing for cycle {cycle} of '{change_idea}'.",
    ),
    Rule(
        "pdsa",
        "linked_measure_known",
        "linked_measure",
        "warning",
        c("linked_measure").is_null() | c("_linked_known"),
        "The linked measure '{value}' is not in the network's catalogue; check the measure ID.",
    ),
)

RULES_BY_PART: dict[str, tuple[Rule, ...]] = {
    part: tuple(r for r in RULES if r.part == part) for part in ("about", "measures", "pdsa", "learning")
}
RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}
