"""The data contract: every column of the monthly return, the registry and the measure catalogue.

The return has four parts every team sends (about, measures, PDSA cycles, learning) and one it
may leave out: the changes to its named participants (people joined, left or changed role).

Each column is declared once, here — its name, the label a team sees, its kind (which fixes its
type), whether it must be present and whether it may be left blank, and a line of help. The
workbook template, the readers, the normaliser, the Pandera schemas (``schemas.returns``,
``schemas.config``) and the demo generator all read these declarations, so they cannot drift apart.
The rules a filled-in return must follow are in ``schemas.rules``.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

JOY_IN_WORK_COMPONENTS: tuple[str, ...] = (
    "physical and psychological safety",
    "meaning and purpose",
    "choice and autonomy",
    "recognition and rewards",
    "participative management",
    "camaraderie and teamwork",
    "daily improvement",
    "wellness and resilience",
    "real-time measurement",
)

PDSA_DECISIONS: tuple[str, ...] = ("adopt", "adapt", "abandon", "continue")

# IHI Assessment Scale: 0.5 to 5.0 in steps of 0.5.
PROGRESS_SCORES: tuple[float, ...] = tuple(x / 2 for x in range(1, 11))

MEASURE_TYPES: tuple[str, ...] = ("outcome", "process", "balancing")
MEASURE_KINDS: tuple[str, ...] = ("proportion", "rate", "count", "score")
DIRECTIONS: tuple[str, ...] = ("up", "down", "none")
CHART_TYPES: tuple[str, ...] = ("run", "i", "p", "pp", "u", "up", "c")


@dataclass(frozen=True)
class Kind:
    """How a cell is written and the type it becomes once read (``schemas.normalise``)."""

    name: str
    dtype: type[pl.DataType]
    written: str  # what a team may type


TEXT = Kind("text", pl.String, "any text; kept as typed")
ID = Kind("id", pl.String, "an ID; spaces trimmed, read in capitals")
CODE = Kind("code", pl.String, "a word from a list; case, dashes and repeated spaces do not matter")
PERIOD = Kind("period", pl.String, "a month, YYYY-MM (2026-03, 03/2026, Mar 2026 are understood)")
DATE = Kind("date", pl.Date, "a date, YYYY-MM-DD or DD/MM/YYYY, or an Excel date")
NUMBER = Kind("number", pl.Float64, "a number; 1,234.5 and 85% are understood")
WHOLE_NUMBER = Kind("whole number", pl.Int64, "a whole number")
TIMESTAMP = Kind("timestamp", pl.Datetime, "a date and time, as the meeting tool wrote it")
FLAG = Kind("yes/no", pl.Boolean, "yes or no")


@dataclass(frozen=True)
class Column:
    """One column. ``required``: its header must be there; ``nullable``: a cell may be left blank
    (by default, exactly the columns that are not required)."""

    name: str
    label: str  # what the team sees in the workbook header
    kind: Kind = TEXT
    required: bool = True
    help: str = ""
    nullable: bool | None = None
    # For a code: the words a person may write for each code (any case, spaces, dashes or
    # underscores), read as the code itself (``schemas.normalise``).
    words: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        if self.nullable is None:
            object.__setattr__(self, "nullable", not self.required)

    @property
    def dtype(self) -> type[pl.DataType]:
        return self.kind.dtype


@dataclass(frozen=True)
class Part:
    name: str
    title: str
    columns: tuple[Column, ...]
    # A key/value part (one record laid out as rows) rather than a table.
    key_value: bool = False
    # A part a return may leave out (its sheet or CSV); read as no rows when it is not there.
    optional: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def dtypes(self) -> dict[str, type[pl.DataType]]:
        return {c.name: c.dtype for c in self.columns}

    def no_rows(self) -> pl.DataFrame:
        """The part as read when a return leaves it out (an optional part): text columns, no rows."""
        return pl.DataFrame(schema={"_row": pl.Int64, **dict.fromkeys(self.column_names, pl.String)})


# --------------------------------------------------------------------------- the monthly return

ABOUT = Part(
    "about",
    "About this return",
    (
        Column("team_id", "Team ID", ID, help="Your team's ID as given by the network, e.g. T01"),
        Column("period", "Period", PERIOD, help="The month this return is for, as YYYY-MM"),
        Column("submitted_by", "Submitted by", help="Name of the person sending the return"),
        # The label must be on the sheet, but a blank date is accepted: the file's arrival dates it.
        Column("submitted_on", "Submitted on", DATE, nullable=True, help="Date sent, as YYYY-MM-DD"),
        Column(
            "progress_score",
            "Progress score",
            NUMBER,
            help="IHI Assessment Scale, 0.5 to 5.0 in steps of 0.5",
        ),
    ),
    key_value=True,
)

MEASURES = Part(
    "measures",
    "Measures",
    (
        Column("measure_id", "Measure ID", ID, help="From the measure list, e.g. JOY_PULSE"),
        Column(
            "period",
            "Period",
            PERIOD,
            help="Month the value is for (YYYY-MM); earlier months correct past values",
        ),
        Column("numerator", "Numerator", NUMBER, required=False, help="For proportions and rates"),
        Column(
            "denominator", "Denominator", NUMBER, required=False, help="For proportions and rates; above 0"
        ),
        Column(
            "value",
            "Value",
            NUMBER,
            required=False,
            help="For counts and scores; may be left blank for proportions",
        ),
        Column("comment", "Comment", required=False),
    ),
)

PDSA = Part(
    "pdsa",
    "PDSA cycles",
    (
        Column("change_idea", "Change idea"),
        Column("component", "Joy in Work component", CODE, help="One of the nine components"),
        Column(
            "cycle",
            "Cycle number",
            WHOLE_NUMBER,
            help="1 for the first test of this idea, then 2, 3, ...",
        ),
        Column("start_date", "Start date", DATE, help="YYYY-MM-DD"),
        Column("end_date", "End date", DATE, required=False, help="YYYY-MM-DD; blank if still running"),
        Column("prediction", "Prediction", required=False),
        Column("what_happened", "What happened", required=False),
        Column("decision", "Decision", CODE, help="adopt, adapt, abandon or continue"),
        Column("linked_measure", "Linked measure", ID, required=False, help="A measure ID"),
    ),
)

LEARNING = Part(
    "learning",
    "Learning",
    (
        Column("went_well", "What went well", required=False),
        Column("challenges", "Challenges", required=False),
        Column("help_wanted", "Help wanted from the coach", required=False),
    ),
)

# The three roles the network asks every team to fill (seed 003), as codes; and the changes a team
# reports to its participants in a return (issue 15).
PARTICIPANT_ROLES: tuple[str, ...] = ("senior_leader", "core_leader", "frontline_clinician")
PEOPLE_CHANGE_KINDS: tuple[str, ...] = ("joined", "left", "role_change")
_ROLE_WORDS = (
    ("senior_leader", ("senior leader", "senior")),
    (
        "core_leader",
        ("core leader", "unit level manager", "unit manager", "unit level leader", "unit leader", "core"),
    ),
    ("frontline_clinician", ("frontline clinician", "front line clinician", "frontline", "clinician")),
)
_CHANGE_WORDS = (
    ("joined", ("joined", "join", "new", "started")),
    ("left", ("left", "leaver", "leaving", "left the team")),
    ("role_change", ("role change", "changed role", "new role", "change of role")),
)

PEOPLE_CHANGES = Part(
    "people_changes",
    "People changes",
    (
        Column("change", "Change", CODE, help="joined, left or role change", words=_CHANGE_WORDS),
        Column("name", "Name", help="The person's full name, as on the network's list of participants"),
        Column(
            "email",
            "Email",
            required=False,
            help="Their work email: how they are recognised at network meetings",
        ),
        Column(
            "role",
            "Role",
            CODE,
            required=False,
            help="senior leader, core leader or frontline clinician (for joined and role change)",
            words=_ROLE_WORDS,
        ),
        Column(
            "steering_committee",
            "Steering committee",
            FLAG,
            required=False,
            help="yes or no: a senior leader who sits on the steering committee",
        ),
        Column("effective_on", "Date", DATE, help="The day they joined, left or changed role"),
    ),
    optional=True,
)

PARTS: dict[str, Part] = {p.name: p for p in (ABOUT, MEASURES, PDSA, LEARNING, PEOPLE_CHANGES)}
REQUIRED_PARTS: tuple[str, ...] = tuple(name for name, part in PARTS.items() if not part.optional)


# A return's columns as its sheets' headers show them: ('people_changes', 'effective_on') -> 'Date'.
COLUMN_LABELS: dict[tuple[str, str], str] = {
    (p.name, c.name): c.label for p in PARTS.values() for c in p.columns
}


def column_label(part: str | None, column: str | None) -> str | None:
    """A return's column as its sheet's header shows it ('Date', not effective_on); any other
    column (a network file's, whose header is the name itself) as it is."""
    return COLUMN_LABELS.get((part or "", column or ""), column)


# --------------------------------------------------------------------------- the network's configuration
# Kept by the data manager as CSV files; the header is the column name.

REGISTRY = Part(
    "registry",
    "Registry of teams",
    (
        Column("team_id", "team_id", ID, help="The ID the team writes on its returns, e.g. T01"),
        Column("team_name", "team_name", help="Up to 120 characters"),
        Column("organisation_id", "organisation_id", ID, help="The team's organisation, e.g. ORG1"),
        Column("organisation_name", "organisation_name", help="Up to 160 characters"),
        Column("coach_name", "coach_name", help="Who coaches the team"),
        Column("coach_email", "coach_email", help="Where the team's reports are sent"),
        Column("cohort", "cohort", required=False, help="A label for teams that started together"),
        Column("first_period", "first_period", PERIOD, help="The team's first month in the network, YYYY-MM"),
    ),
)

CATALOGUE = Part(
    "catalogue",
    "Measure catalogue",
    (
        Column("measure_id", "measure_id", ID, help="The ID teams write on their returns, e.g. JOY_PULSE"),
        Column("name", "name", help="Up to 160 characters"),
        Column("type", "type", CODE, help="outcome, process or balancing"),
        Column("kind", "kind", CODE, help="proportion, rate, count or score"),
        Column("direction", "direction", CODE, help="Which way is better: up, down or none"),
        Column("target", "target", NUMBER, required=False),
        Column("chart", "chart", CODE, help="run, i, p, pp, u, up or c"),
        Column("lower_bound", "lower_bound", NUMBER, help="The lowest plausible value"),
        Column("upper_bound", "upper_bound", NUMBER, help="The highest plausible value"),
        Column("unit", "unit", required=False),
        Column("multiplier", "multiplier", NUMBER, help="Rates are shown per this many (default 1)"),
        Column("description", "description", required=False),
    ),
)

# Team-level targets (issue 16): a team's own target for a measure overrides the catalogue's,
# from ``from_period`` on (blank: for the whole series).
TARGETS = Part(
    "targets",
    "Team targets",
    (
        Column("team_id", "team_id", ID, help="A team of the registry, e.g. T01"),
        Column("measure_id", "measure_id", ID, help="A measure of the catalogue, e.g. JOY_PULSE"),
        Column("target", "target", NUMBER, help="The team's target, in the measure's own scale"),
        Column("from_period", "from_period", PERIOD, required=False, help="From this month on, YYYY-MM"),
    ),
)
