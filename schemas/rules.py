"""Every rule a return — and the network's own configuration — must follow, with its severity and
the sentence a team (or the data manager) reads.

A rule is a name, the part and column it is about, a severity, a Polars expression that is True
where a row is fine, and a message formatted with the row's columns (``{value}`` is the offending
value). The Pandera schemas (``schemas.returns``, ``schemas.config``) are built from this table and
from the column declarations in ``schemas.contract``: each rule is one named Pandera check, and the
audit log names the rule, row and column Pandera reports. A rule made with ``required`` is the
column's not-null declaration: Pandera's own ``not_nullable`` check reports it, under the rule's name.

Severities: **fatal** and **error** reject the whole return; a **warning** loads but is flagged.

Context the rules need is joined onto the frames beforehand as ``_``-prefixed columns, so the
schemas are built once and reused for every file:

- the registry and the run: ``_team_registered``, ``_first_period``, ``_run_period``, ``_name_team``
  (the team the file name suggests), ``_today``, ``_period_start`` / ``_period_end`` (the return's month);
- the catalogue: ``_kind``, ``_lower``, ``_upper``, ``_computed`` (numerator / denominator for
  proportions and rates, else the value), ``_linked_known``;
- the return itself: ``_return_period``, ``_duplicate``, ``_cycle_out_of_order``;
- the team's participants (people changes): ``_known_person`` (the person a 'left' or 'role change'
  is about is one of the team's participants, by email or name, or joined in the same return);
- the team's own history (``schemas.history``): ``_lo`` / ``_hi`` (its recent limits), ``_range_lo``,
  ``_mr_mean``, ``_prev_den`` / ``_prev_period`` (its last denominator).

Most rules are checked on their part's rows. A few are checked on a frame of their own
(``checked_on``): ``returns`` (one row per file: ``_about_records``), ``expected_measures`` (one row
per measure the catalogue expects in each return's month: ``_present``), and ``history`` (the
measures rows beside the team's history; checked only when there is history).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from schemas.contract import (
    CATALOGUE,
    CHART_TYPES,
    DIRECTIONS,
    JOY_IN_WORK_COMPONENTS,
    MEASURE_KINDS,
    MEASURE_TYPES,
    PARTICIPANT_ROLES,
    PARTS,
    PDSA_DECISIONS,
    PEOPLE_CHANGE_KINDS,
    REGISTRY,
    TARGETS,
    Part,
)
from schemas.history import DENOMINATOR_JUMP
from schemas.issues import SEVERITIES

c = pl.col


@dataclass(frozen=True)
class Rule:
    part: str
    name: str
    column: str | None  # the column the team is pointed at (None: the part as a whole)
    severity: str  # fatal | error | warning
    ok: pl.Expr  # True where the row passes; a null (cannot be evaluated) passes: another rule names why
    message: str  # formatted with the row's columns (and {value})
    checked_on: str | None = None  # the frame the rule is checked on, when not its part's own rows
    value_from: str | None = None  # where the offending value is read, when not from ``column``
    exact: bool = False  # numbers as computed (the message formats them itself), not as a person writes them
    decimals: int | None = None  # the offending value rounded to this many decimals
    not_null: bool = False  # the column's not-null declaration: Pandera's ``not_nullable`` check

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.name}: severity {self.severity!r} is not one of {SEVERITIES}")

    @property
    def frame(self) -> str:
        return self.checked_on or self.part


def _present(col: str) -> pl.Expr:
    return c(col).is_not_null()


def required(part: str, name: str, column: str, severity: str, message: str) -> Rule:
    """A column that must be filled: declared not nullable, so Pandera reports its blanks."""
    return Rule(part, name, column, severity, _present(column), message, not_null=True)


_COMPONENTS = list(JOY_IN_WORK_COMPONENTS)
_DECISIONS = list(PDSA_DECISIONS)
_RATIO = c("_kind").is_in(["proportion", "rate"])
_VALUE_KINDS = c("_kind").is_in(["count", "score"])

_CHANGES = list(PEOPLE_CHANGE_KINDS)
_ROLES = list(PARTICIPANT_ROLES)
FORMULA_PATTERN = r"^\s*[=+\-@]"  # what a spreadsheet would run as a formula
EMAIL_PATTERN = r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z]{2,}$"

RULES: tuple[Rule, ...] = (
    # --- about: who and when; anything wrong here makes the whole file unusable ---
    Rule(
        "about",
        "about_one_record",
        None,
        "fatal",
        c("_about_records") == 1,
        "The 'about' part must describe exactly one return.",
        checked_on="returns",
    ),
    required(
        "about",
        "team_id_required",
        "team_id",
        "fatal",
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
    required(
        "about",
        "period_required",
        "period",
        "fatal",
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
    required(
        "about",
        "submitted_by_required",
        "submitted_by",
        "error",
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
    required(
        "about",
        "progress_score_required",
        "progress_score",
        "error",
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
    required(
        "measures",
        "measure_id_required",
        "measure_id",
        "error",
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
    required(
        "measures",
        "measure_period_required",
        "period",
        "error",
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
        "value",
        "error",
        c("_computed").is_null()
        | c("_lower").is_null()
        | c("_computed").is_between(c("_lower"), c("_upper")),
        "The value of {measure_id} ({period}) works out at {value}, outside the plausible range "
        "{_lower} to {_upper} for this measure. Check for a typing error.",
        value_from="_computed",
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
    Rule(
        "measures",
        "measure_missing",
        "measure_id",
        "warning",
        c("_present"),
        "No value for {measure_id} in {period}. Send it next month as a correction if you can.",
        checked_on="expected_measures",
    ),
    # --- measures against the team's own history: these load (a real change can look like an
    # error) but are flagged, so a coach can ask. Numbers are quoted as computed. ---
    Rule(
        "measures",
        "value_far_from_history",
        "value",
        "warning",
        ~(
            c("_lo").is_not_null()
            & (c("_mr_mean") > 0)
            & ((c("_computed") < c("_lo")) | (c("_computed") > c("_hi")))
        ),
        "{measure_id} for {period} is {_computed:.4g}, far outside your team's recent range "
        "({_range_lo:.4g} to {_hi:.4g}). Please check it; if it is right, say why in the comment.",
        checked_on="history",
        value_from="_computed",
        exact=True,
        decimals=6,
    ),
    Rule(
        "measures",
        "denominator_jump",
        "denominator",
        "warning",
        ~(
            c("_prev_den").is_not_null()
            & c("denominator").is_not_null()
            & (c("_prev_den") > 0)
            & (c("period") > c("_prev_period"))
            & (
                (c("denominator") / c("_prev_den") > DENOMINATOR_JUMP)
                | (c("denominator") / c("_prev_den") < 1 / DENOMINATOR_JUMP)
            )
        ),
        "The denominator of {measure_id} for {period} is {denominator:g}, against {_prev_den:g} in "
        "{_prev_period}. Please check it counts the same thing.",
        checked_on="history",
        exact=True,
    ),
    # --- pdsa ---
    required(
        "pdsa",
        "change_idea_required",
        "change_idea",
        "error",
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
    required(
        "pdsa",
        "component_required",
        "component",
        "error",
        "The Joy in Work component is missing for '{change_idea}'.",
    ),
    required(
        "pdsa",
        "cycle_required",
        "cycle",
        "error",
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
    required(
        "pdsa",
        "start_date_required",
        "start_date",
        "error",
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
    required(
        "pdsa",
        "decision_required",
        "decision",
        "error",
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
    # --- people changes (optional part, issue 15): who joined, left or changed role this month ---
    required(
        "people_changes",
        "change_required",
        "change",
        "error",
        "Say what changed for '{name}': joined, left or role change.",
    ),
    Rule(
        "people_changes",
        "change_known",
        "change",
        "error",
        c("change").is_null() | c("change").is_in(_CHANGES),
        "'{value}' is not a change the network records: write joined, left or role change.",
    ),
    required(
        "people_changes",
        "change_name_required",
        "name",
        "error",
        "The person's name is missing (change: {change}, dated {effective_on}).",
    ),
    Rule(
        "people_changes",
        "change_name_not_formula",
        "name",
        "error",
        c("name").is_null() | ~c("name").str.contains(FORMULA_PATTERN),
        "The name '{value}' starts like a spreadsheet formula (=, +, - or @): write it as plain text.",
    ),
    Rule(
        "people_changes",
        "change_name_length",
        "name",
        "error",
        c("name").is_null() | (c("name").str.len_chars() <= 160),
        "The name '{value}' is longer than 160 characters: write the person's name only.",
    ),
    Rule(
        "people_changes",
        "change_email_well_formed",
        "email",
        "error",
        c("email").is_null() | (c("email").str.contains(EMAIL_PATTERN) & (c("email").str.len_chars() <= 254)),
        "'{value}' is not an email address: write it as name@example.org, or leave it blank.",
    ),
    Rule(
        "people_changes",
        "change_role_required",
        "role",
        "error",
        c("role").is_not_null() | ~c("change").is_in(["joined", "role_change"]).fill_null(False),
        "Give the role of '{name}': senior leader, core leader or frontline clinician.",
    ),
    Rule(
        "people_changes",
        "change_role_known",
        "role",
        "error",
        c("role").is_null() | c("role").is_in(_ROLES),
        "Role '{value}' is not one the network counts: write senior leader, core leader or frontline clinician.",
    ),
    required(
        "people_changes",
        "change_date_required",
        "effective_on",
        "error",
        "The date of this change ({change}, for '{name}') is missing: write the day it happened.",
    ),
    Rule(
        "people_changes",
        "change_person_known",
        "name",
        "warning",
        c("_known_person") | ~c("change").is_in(["left", "role_change"]).fill_null(False),
        "No participant of your team is called '{value}' (or has this email), so this change cannot be "
        "applied: write the name as on the network's list of participants, or ask the data manager to add them.",
    ),
)

RULES_BY_PART: dict[str, tuple[Rule, ...]] = {
    part: tuple(r for r in RULES if r.part == part) for part in PARTS
}
RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}
assert len(RULES_BY_NAME) == len(RULES), "rule names must be unique"


# --------------------------------------------------------------------------- the network's configuration
# The registry and the catalogue are validated like data: a typo there corrupts every report. Any
# failure stops the run (fatal) with these sentences, one line per row and column.

ID_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{0,31}$"
PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


def _filled(part: Part, noun: str) -> list[Rule]:
    """One ``required`` rule for each column of a configuration file that may not be left blank."""
    return [
        required(
            part.name,
            f"{col.name}_required",
            col.name,
            "fatal",
            f"{col.name} is empty: every {noun} needs one.",
        )
        for col in part.columns
        if not col.nullable
    ]


def _is_id(col: str) -> pl.Expr:
    return c(col).str.contains(ID_PATTERN)


def _at_most(col: str, chars: int) -> pl.Expr:
    return c(col).str.len_chars() <= chars


def _once(col: str) -> pl.Expr:
    return c(col).is_null() | ~c(col).is_duplicated()


_ID_HELP = "use capital letters, digits, '-' and '_' (up to 32 characters, starting with a letter or digit)"

CONFIG_RULES: tuple[Rule, ...] = (
    *_filled(REGISTRY, "team"),
    Rule(
        "registry",
        "team_id_format",
        "team_id",
        "fatal",
        _is_id("team_id"),
        f"Team ID '{{value}}': {_ID_HELP}.",
    ),
    Rule(
        "registry",
        "team_id_unique",
        "team_id",
        "fatal",
        _once("team_id"),
        "Team ID '{value}' is listed more than once.",
    ),
    Rule(
        "registry",
        "team_name_length",
        "team_name",
        "fatal",
        _at_most("team_name", 120),
        "The name of team {team_id} is longer than 120 characters.",
    ),
    Rule(
        "registry",
        "organisation_id_format",
        "organisation_id",
        "fatal",
        _is_id("organisation_id"),
        f"Organisation ID '{{value}}': {_ID_HELP}.",
    ),
    Rule(
        "registry",
        "organisation_name_length",
        "organisation_name",
        "fatal",
        _at_most("organisation_name", 160),
        "The organisation name of team {team_id} is longer than 160 characters.",
    ),
    Rule(
        "registry",
        "coach_name_length",
        "coach_name",
        "fatal",
        _at_most("coach_name", 120),
        "The coach's name for team {team_id} is longer than 120 characters.",
    ),
    Rule(
        "registry",
        "coach_email_format",
        "coach_email",
        "fatal",
        c("coach_email").str.contains(EMAIL_PATTERN),
        "'{value}' is not an email address reports can be sent to (team {team_id}).",
    ),
    Rule(
        "registry",
        "first_period_format",
        "first_period",
        "fatal",
        c("first_period").str.contains(PERIOD_PATTERN),
        "The first period of team {team_id}, '{value}', is not a month written as YYYY-MM.",
    ),
    *_filled(CATALOGUE, "measure"),
    Rule(
        "catalogue",
        "measure_id_format",
        "measure_id",
        "fatal",
        _is_id("measure_id"),
        f"Measure ID '{{value}}': {_ID_HELP}.",
    ),
    Rule(
        "catalogue",
        "measure_id_unique",
        "measure_id",
        "fatal",
        _once("measure_id"),
        "Measure ID '{value}' is listed more than once.",
    ),
    Rule(
        "catalogue",
        "name_length",
        "name",
        "fatal",
        _at_most("name", 160),
        "The name of measure {measure_id} is longer than 160 characters.",
    ),
    Rule(
        "catalogue",
        "type_known",
        "type",
        "fatal",
        c("type").is_in(list(MEASURE_TYPES)),
        f"Measure {{measure_id}} has type '{{value}}': use one of {', '.join(MEASURE_TYPES)}.",
    ),
    Rule(
        "catalogue",
        "kind_known",
        "kind",
        "fatal",
        c("kind").is_in(list(MEASURE_KINDS)),
        f"Measure {{measure_id}} has kind '{{value}}': use one of {', '.join(MEASURE_KINDS)}.",
    ),
    Rule(
        "catalogue",
        "direction_known",
        "direction",
        "fatal",
        c("direction").is_in(list(DIRECTIONS)),
        f"Measure {{measure_id}} has direction '{{value}}': use one of {', '.join(DIRECTIONS)}.",
    ),
    Rule(
        "catalogue",
        "chart_known",
        "chart",
        "fatal",
        c("chart").is_in(list(CHART_TYPES)),
        f"Measure {{measure_id}} has chart '{{value}}': use one of {', '.join(CHART_TYPES)}.",
    ),
    Rule(
        "catalogue",
        "bounds_ordered",
        "lower_bound",
        "fatal",
        c("lower_bound") < c("upper_bound"),
        "The lower bound of {measure_id} ({value}) must be below its upper bound ({upper_bound}).",
    ),
    Rule(
        "catalogue",
        "p_chart_needs_proportion",
        "chart",
        "fatal",
        ~c("chart").is_in(["p", "pp"]) | (c("kind") == "proportion"),
        "Measure {measure_id} is a {kind}: a '{value}' chart needs a proportion.",
    ),
    Rule(
        "catalogue",
        "u_chart_needs_rate",
        "chart",
        "fatal",
        ~c("chart").is_in(["u", "up"]) | (c("kind") == "rate"),
        "Measure {measure_id} is a {kind}: a '{value}' chart needs a rate.",
    ),
)
# --- team targets (targets.csv): each row names a team and a measure once per starting month
_TARGET_KEY = pl.concat_str(c("team_id"), c("measure_id"), c("from_period").fill_null(""), separator="|")
TARGET_RULES: tuple[Rule, ...] = (
    *_filled(TARGETS, "team target"),
    Rule(
        "targets",
        "target_team_format",
        "team_id",
        "fatal",
        _is_id("team_id"),
        f"Team ID '{{value}}': {_ID_HELP}.",
    ),
    Rule(
        "targets",
        "target_measure_format",
        "measure_id",
        "fatal",
        _is_id("measure_id"),
        f"Measure ID '{{value}}': {_ID_HELP}.",
    ),
    Rule(
        "targets",
        "target_from_period_format",
        "from_period",
        "fatal",
        c("from_period").is_null() | c("from_period").str.contains(PERIOD_PATTERN),
        "The first month of the target of {team_id} for {measure_id}, '{value}', is not a month written as YYYY-MM.",
    ),
    Rule(
        "targets",
        "target_once",
        "measure_id",
        "fatal",
        c("team_id").is_null() | c("measure_id").is_null() | ~_TARGET_KEY.is_duplicated(),
        "The target of team {team_id} for {value} from {from_period} is listed more than once.",
    ),
)
CONFIG_RULES = (*CONFIG_RULES, *TARGET_RULES)
CONFIG_RULES_BY_PART: dict[str, tuple[Rule, ...]] = {
    part: tuple(r for r in CONFIG_RULES if r.part == part) for part in ("registry", "catalogue", "targets")
}
CONFIG_RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in CONFIG_RULES}
