"""The monthly-return data contract: part names, columns and allowed values.

One place defines what a return looks like, so the template writer, the readers,
the schemas and the demo generator can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

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
class Column:
    name: str
    label: str  # what the team sees in the workbook header
    required: bool = True
    help: str = ""


@dataclass(frozen=True)
class Part:
    name: str
    title: str
    columns: tuple[Column, ...]
    # A key/value part (one record laid out as rows) rather than a table.
    key_value: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


ABOUT = Part(
    "about",
    "About this return",
    (
        Column("team_id", "Team ID", help="Your team's ID as given by the network, e.g. T01"),
        Column("period", "Period", help="The month this return is for, as YYYY-MM"),
        Column("submitted_by", "Submitted by", help="Name of the person sending the return"),
        Column("submitted_on", "Submitted on", help="Date sent, as YYYY-MM-DD"),
        Column("progress_score", "Progress score", help="IHI Assessment Scale, 0.5 to 5.0 in steps of 0.5"),
    ),
    key_value=True,
)

MEASURES = Part(
    "measures",
    "Measures",
    (
        Column("measure_id", "Measure ID", help="From the measure list, e.g. JOY_PULSE"),
        Column(
            "period", "Period", help="Month the value is for (YYYY-MM); earlier months correct past values"
        ),
        Column("numerator", "Numerator", required=False, help="For proportions and rates"),
        Column("denominator", "Denominator", required=False, help="For proportions and rates; above 0"),
        Column(
            "value", "Value", required=False, help="For counts and scores; may be left blank for proportions"
        ),
        Column("comment", "Comment", required=False),
    ),
)

PDSA = Part(
    "pdsa",
    "PDSA cycles",
    (
        Column("change_idea", "Change idea"),
        Column("component", "Joy in Work component", help="One of the nine components"),
        Column("cycle", "Cycle number", help="1 for the first test of this idea, then 2, 3, ..."),
        Column("start_date", "Start date", help="YYYY-MM-DD"),
        Column("end_date", "End date", required=False, help="YYYY-MM-DD; blank if still running"),
        Column("prediction", "Prediction", required=False),
        Column("what_happened", "What happened", required=False),
        Column("decision", "Decision", help="adopt, adapt, abandon or continue"),
        Column("linked_measure", "Linked measure", required=False, help="A measure ID"),
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

PARTS: dict[str, Part] = {p.name: p for p in (ABOUT, MEASURES, PDSA, LEARNING)}
REQUIRED_PARTS: tuple[str, ...] = ("about", "measures", "pdsa", "learning")
