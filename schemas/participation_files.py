"""The network's participation files — people, meetings, enrolment, coach scores, aliases and the
readiness answers — declared with the contract's ``Column``s and checked like the returns.

Each file kind is a ``FileSpec``: its columns, how its text is tidied, and a rule table (severity
and a sentence naming what to fix). ``check_file`` types a text frame (cells that cannot be read
are reported, never guessed), joins the context the rules need (``_team_registered`` ...) and
validates it with a Pandera schema built by ``schemas.checking.build_schema``. Every failing row
becomes an ``Issue`` naming the file, the row as a spreadsheet shows it (header = row 1), the
column and what to fix. A file with an error is not imported at all: the version before it stays
current. The readiness instrument is configuration (``load_readiness_items``), like the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from joyflow.errors import ConfigError
from schemas.checking import build_schema, failing_rules, message, offending_value
from schemas.contract import (
    CODE,
    DATE,
    FLAG,
    ID,
    NUMBER,
    PARTICIPANT_ROLES,
    PERIOD,
    PROGRESS_SCORES,
    TEXT,
    WHOLE_NUMBER,
    Column,
)
from schemas.issues import Issue, rejects, short_value
from schemas.normalise import YES_NO, date_expr, lower_text, number_expr, parse_integer, period_expr, upper_id
from schemas.rules import Rule, required

DEFAULT_READINESS = Path(__file__).with_name("default_readiness.csv")

ROLES = PARTICIPANT_ROLES
MEETING_KINDS = ("coaching", "all_team_call", "workshop")
READINESS_DOMAINS = ("improvement_infrastructure", "leadership_behaviours", "workforce_safety")
OCCASIONS = ("baseline", "month-9", "month-18")
FORMULA = r"^\s*[=+\-@]"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"

c = pl.col


def _team_known(part: str) -> Rule:
    return Rule(
        part,
        f"{part}_team_registered",
        "team_id",
        "error",
        c("team_id").is_null() | c("_team_registered"),
        "Team '{value}' is not in the network's registry: correct the team ID or register the team first.",
    )


def _not_formula(part: str, column: str, what: str) -> Rule:
    return Rule(
        part,
        f"{part}_{column}_not_formula",
        column,
        "error",
        c(column).is_null() | ~c(column).str.contains(FORMULA),
        f"The {what} '{{value}}' starts like a spreadsheet formula (=, +, - or @): write it as plain text.",
    )


def _unique(part: str, column: str, what: str) -> Rule:
    return Rule(
        part,
        f"{part}_{column}_unique",
        column,
        "error",
        ~c("_duplicate"),
        f"{what} '{{value}}' appears on more than one row: keep one row per {what.lower()}.",
    )


@dataclass(frozen=True)
class FileSpec:
    """One kind of participation file: its columns, its rules and the key that must be unique."""

    kind: str  # also the audit log's part (at most 16 characters)
    title: str
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...]
    unique: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [col.name for col in self.columns]

    @property
    def required(self) -> list[str]:
        return [col.name for col in self.columns if col.required]

    def understood_rules(self) -> tuple[Rule, ...]:
        """A cell of a typed column that could not be read: one rule per such column."""
        return tuple(
            Rule(
                self.kind,
                f"{self.kind}_{col.name}_readable"[:64],
                col.name,
                "error",
                c(col.name).is_not_null() | c(f"_raw_{col.name}").is_null(),
                f"'{{_raw_{col.name}}}' is not understood as {col.kind.written} in column {col.name}.",
            )
            for col in self.columns
            if col.kind not in _TEXT_KINDS
        )

    def length_rules(self) -> tuple[Rule, ...]:
        """Text longer than the warehouse keeps (``LIMITS``): named, not cut or failed on one dialect."""
        return tuple(
            Rule(
                self.kind,
                f"{self.kind}_{col.name}_length"[:64],
                col.name,
                "error",
                c(col.name).is_null() | (c(col.name).str.len_chars() <= LIMITS[col.name]),
                f"'{{value}}' is longer than {LIMITS[col.name]} characters: shorten it.",
            )
            for col in self.columns
            if col.kind in _TEXT_KINDS and col.name in LIMITS
        )


_TEXT_KINDS = (TEXT, ID, CODE)
# The warehouse's column widths (warehouse/models.py) for the text of these files.
LIMITS = {
    "team_id": 32,
    "person_id": 32,
    "meeting_id": 32,
    "item_id": 32,
    "name": 160,
    "alias": 160,
    "respondent": 160,
    "email": 254,
    "title": 255,
    "letter_file": 255,
    "scored_by": 120,
    "role": 32,
    "kind": 16,
    "occasion": 16,
}

PEOPLE = FileSpec(
    "people",
    "People",
    (
        Column("team_id", "team_id", ID),
        Column("person_id", "person_id", ID, help="The data manager's ID for the person, e.g. P0001"),
        Column("name", "name"),
        Column("email", "email", required=False),
        Column("role", "role", CODE, help="senior leader, core leader or frontline clinician"),
        Column("steering_committee", "steering_committee", FLAG, required=False, help="yes or no"),
        Column("joined_on", "joined_on", DATE),
        Column("left_on", "left_on", DATE, required=False, help="blank while in post"),
    ),
    (
        required("people", "people_team_required", "team_id", "error", "The team ID is missing."),
        _team_known("people"),
        required("people", "people_person_id_required", "person_id", "error", "The person ID is missing."),
        _unique("people", "person_id", "Person ID"),
        required("people", "people_name_required", "name", "error", "The person's name is missing."),
        _not_formula("people", "name", "name"),
        Rule(
            "people",
            "people_email_well_formed",
            "email",
            "error",
            c("email").is_null() | c("email").str.contains(EMAIL),
            "'{value}' is not an email address: write it as name@example.org, or leave it blank.",
        ),
        required(
            "people",
            "people_role_required",
            "role",
            "error",
            "The role is missing: senior leader, core leader or frontline clinician.",
        ),
        Rule(
            "people",
            "people_role_known",
            "role",
            "error",
            c("role").is_null() | c("role").is_in(ROLES),
            "Role '{value}' is not one the network counts: write senior leader, core leader or frontline clinician.",
        ),
        required(
            "people", "people_joined_required", "joined_on", "error", "The date the person joined is missing."
        ),
        Rule(
            "people",
            "people_left_after_joined",
            "left_on",
            "error",
            c("left_on").is_null() | c("joined_on").is_null() | (c("left_on") >= c("joined_on")),
            "The person left ({value}) before they joined ({joined_on}): correct one of the two dates.",
        ),
    ),
    unique=("person_id",),
)

MEETINGS = FileSpec(
    "meetings",
    "Meetings",
    (
        Column("meeting_id", "meeting_id", ID),
        Column("kind", "kind", CODE, help="coaching, all_team_call or workshop"),
        Column("team_id", "team_id", ID, required=False, help="for coaching sessions only"),
        Column("held_on", "held_on", DATE),
        Column("starts_at", "starts_at", required=False, help="HH:MM"),
        Column("title", "title", required=False),
    ),
    (
        required("meetings", "meetings_id_required", "meeting_id", "error", "The meeting ID is missing."),
        _unique("meetings", "meeting_id", "Meeting ID"),
        required(
            "meetings",
            "meetings_kind_required",
            "kind",
            "error",
            "The kind is missing: coaching, all_team_call or workshop.",
        ),
        Rule(
            "meetings",
            "meetings_kind_known",
            "kind",
            "error",
            c("kind").is_null() | c("kind").is_in(MEETING_KINDS),
            "Kind '{value}' is not a network meeting: write coaching, all_team_call or workshop.",
        ),
        Rule(
            "meetings",
            "meetings_coaching_has_team",
            "team_id",
            "error",
            (c("kind") != "coaching") | c("team_id").is_not_null(),
            "A coaching session belongs to one team: give its team ID.",
        ),
        Rule(
            "meetings",
            "meetings_shared_no_team",
            "team_id",
            "error",
            (c("kind") == "coaching") | c("team_id").is_null(),
            "An all-team call or a workshop is for every team: leave team_id blank (it has '{value}').",
        ),
        _team_known("meetings"),
        required("meetings", "meetings_held_required", "held_on", "error", "The meeting's date is missing."),
        Rule(
            "meetings",
            "meetings_starts_at_hhmm",
            "starts_at",
            "error",
            c("starts_at").is_null() | c("starts_at").str.contains(HHMM),
            "Start time '{value}' is not a time of day: write it as HH:MM, e.g. 09:30, or leave it blank.",
        ),
        _not_formula("meetings", "title", "title"),
    ),
    unique=("meeting_id",),
)

ENROLMENT = FileSpec(
    "enrolment",
    "Enrolment",
    (
        Column("team_id", "team_id", ID),
        Column("letter_received_on", "letter_received_on", DATE),
        Column("letter_file", "letter_file", required=False, help="the letter's file name in letters/"),
    ),
    (
        required("enrolment", "enrolment_team_required", "team_id", "error", "The team ID is missing."),
        _team_known("enrolment"),
        _unique("enrolment", "team_id", "Team"),
        required(
            "enrolment",
            "enrolment_received_required",
            "letter_received_on",
            "error",
            "The date the letter of support was received is missing.",
        ),
        Rule(
            "enrolment",
            "enrolment_letter_present",
            "letter_file",
            "error",
            c("letter_file").is_null() | c("_letter_present"),
            "The letter '{value}' is not in the network's letters/ folder: put the file there or correct its name.",
        ),
    ),
    unique=("team_id",),
)

COACH_SCORES = FileSpec(
    "coach_scores",
    "Coach's progress scores",
    (
        Column("team_id", "team_id", ID),
        Column("period", "period", PERIOD),
        Column("score", "score", NUMBER, help="IHI Assessment Scale, 0.5 to 5.0 in steps of 0.5"),
        Column("justification", "justification"),
        Column("scored_by", "scored_by", required=False),
    ),
    (
        required("coach_scores", "coach_team_required", "team_id", "error", "The team ID is missing."),
        _team_known("coach_scores"),
        required(
            "coach_scores", "coach_period_required", "period", "error", "The month is missing (YYYY-MM)."
        ),
        _unique("coach_scores", "period", "Team and month"),
        required("coach_scores", "coach_score_required", "score", "error", "The score is missing."),
        Rule(
            "coach_scores",
            "coach_score_on_scale",
            "score",
            "error",
            c("score").is_null() | c("score").is_in(list(PROGRESS_SCORES)),
            "Score {value} is not on the IHI Assessment Scale: use 0.5 to 5.0 in steps of 0.5.",
        ),
        required(
            "coach_scores",
            "coach_justification_required",
            "justification",
            "error",
            "Say in a sentence why the team earns this score (the justification is empty).",
        ),
        _not_formula("coach_scores", "justification", "justification"),
    ),
    unique=("team_id", "period"),
)

ALIASES = FileSpec(
    "aliases",
    "Confirmed aliases",
    (Column("alias", "alias"), Column("person_id", "person_id", ID)),
    (
        required("aliases", "aliases_alias_required", "alias", "error", "The alias is missing."),
        required("aliases", "aliases_person_required", "person_id", "error", "The person ID is missing."),
        Rule(
            "aliases",
            "aliases_person_known",
            "person_id",
            "error",
            c("person_id").is_null() | c("_person_known"),
            "Person '{value}' is not in the people file: add them there first.",
        ),
    ),
)

READINESS = FileSpec(
    "readiness",
    "Readiness answers",
    (
        Column("team_id", "team_id", ID),
        Column("occasion", "occasion", CODE, help="baseline, month-9 or month-18"),
        Column("respondent", "respondent", required=False),
        Column("answered_on", "answered_on", DATE, required=False),
        Column("item_id", "item_id", ID),
        Column("score", "score", WHOLE_NUMBER, required=False, help="1 to 5; blank: not answered"),
    ),
    (
        required("readiness", "readiness_team_required", "team_id", "error", "The team ID is missing."),
        _team_known("readiness"),
        Rule(
            "readiness",
            "readiness_occasion_known",
            "occasion",
            "error",
            c("occasion").is_in(OCCASIONS),
            "Occasion '{value}' is not one of baseline, month-9 or month-18.",
        ),
        Rule(
            "readiness",
            "readiness_score_1_to_5",
            "score",
            "error",
            c("score").is_null() | c("score").is_between(1, 5),
            "Score {value} for item {item_id} is outside 1 to 5.",
        ),
    ),
)

SPECS: dict[str, FileSpec] = {
    s.kind: s for s in (PEOPLE, MEETINGS, ENROLMENT, COACH_SCORES, ALIASES, READINESS)
}
FILE_NAMES = {
    "people": "people.csv",
    "meetings": "meetings.csv",
    "enrolment": "enrolment.csv",
    "coach_scores": "coach_scores.csv",
    "aliases": "aliases.csv",
}
_ALL_RULES = {
    kind: spec.understood_rules() + spec.length_rules() + spec.rules for kind, spec in SPECS.items()
}
_SCHEMAS = {kind: build_schema(kind, spec.columns, _ALL_RULES[kind]) for kind, spec in SPECS.items()}


@dataclass
class ParticipationFile:
    """One participation file as checked: its typed rows (``_row`` = the spreadsheet's row) and findings."""

    kind: str
    file: str
    sha256: str | None
    frame: pl.DataFrame
    issues: list[Issue] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return rejects(self.issues)


@dataclass(frozen=True)
class Context:
    """What the rules need to know beyond the file itself."""

    team_ids: tuple[str, ...] = ()
    person_ids: tuple[str, ...] = ()
    letters: tuple[str, ...] = ()  # file names present in letters/


def _tidy(col: Column) -> pl.Expr:
    name = col.name
    if col.kind == ID:
        return upper_id(name)
    if col.kind == CODE:
        return lower_text(name).str.replace_all(r"[\s_]+", "_")
    if col.kind == DATE:
        return date_expr(name)
    if col.kind == PERIOD:
        return period_expr(name)
    if col.kind == NUMBER:
        return number_expr(name)
    if col.kind == WHOLE_NUMBER:
        return c(name).map_elements(parse_integer, return_dtype=pl.Int64).alias(name)
    if col.kind == FLAG:
        return (
            c(name)
            .str.strip_chars()
            .str.to_lowercase()
            .replace_strict(YES_NO, default=None, return_dtype=pl.Boolean)
        )
    return c(name)


def check_file(
    kind: str, text: pl.DataFrame, file: str, sha256: str | None, context: Context
) -> ParticipationFile:
    """Type, validate and report one file's rows (``text``: every column as text, ``_row`` added)."""
    spec = SPECS[kind]
    out = ParticipationFile(kind, file, sha256, pl.DataFrame())
    missing = [n for n in spec.required if n not in text.columns]
    if missing:
        out.issues.append(
            Issue(
                file,
                kind,
                1,
                missing[0],
                f"{kind}_columns",
                "fatal",
                None,
                f"The {spec.title.lower()} file has no column '{missing[0]}'. Its header row must be: "
                f"{', '.join(spec.names)}.",
                sha256,
            )
        )
        return out
    text = text.with_columns(pl.lit(None, pl.String).alias(n) for n in spec.names if n not in text.columns)
    text = text.with_columns(c(n).str.strip_chars().replace("", None) for n in spec.names)
    typed = text.with_columns(
        *[c(col.name).alias(f"_raw_{col.name}") for col in spec.columns if col.kind not in _TEXT_KINDS],
    ).with_columns(_tidy(col).alias(col.name) for col in spec.columns)
    if spec.kind == "people":
        typed = typed.with_columns(
            c("role").str.replace_all(r"_or_unit_level_manager$|-", "").str.replace_all("__", "_"),
            c("email").str.to_lowercase(),
        )
    keys = list(spec.unique)
    typed = typed.with_columns(
        (pl.len().over(keys) > 1).fill_null(False).alias("_duplicate")
        if keys
        else pl.lit(False).alias("_duplicate"),
        c("team_id").is_in(list(context.team_ids)).alias("_team_registered")
        if "team_id" in spec.names
        else pl.lit(True).alias("_team_registered"),
        c("person_id").is_in(list(context.person_ids)).alias("_person_known")
        if "person_id" in spec.names
        else pl.lit(True).alias("_person_known"),
        c("letter_file").is_in(list(context.letters)).alias("_letter_present")
        if "letter_file" in spec.names
        else pl.lit(True).alias("_letter_present"),
    )
    rules = _ALL_RULES[kind]
    by_name = {r.name: r for r in rules}
    for index, name in failing_rules(_SCHEMAS[kind], rules, typed).iter_rows():
        rule = by_name[name]
        row = typed.row(index, named=True)
        value = offending_value(rule, row)
        out.issues.append(
            Issue(
                file,
                kind,
                row["_row"],
                rule.column,
                rule.name,
                rule.severity,
                short_value(value),
                message(rule, row, value),
                sha256,
            )
        )
    out.frame = typed.select("_row", *spec.names)
    return out


def check_readiness(
    frame: pl.DataFrame, file: str, sha256: str | None, context: Context, items: pl.DataFrame
) -> ParticipationFile:
    """A survey tool's export — one row per respondent, one column per item (``frame``: as text,
    headers lower case, ``_row`` added) — checked item by item."""
    item_ids = [i.lower() for i in items.get_column("item_id").to_list()]
    answered = [n for n in frame.columns if n in item_ids]
    known = {"_row", "team_id", "occasion", "respondent", "answered_on"}
    unknown = [n for n in frame.columns if n not in item_ids and n not in known]
    if unknown or not answered:
        what = (
            f"column '{unknown[0]}' is not an item of the readiness instrument"
            if unknown
            else "it answers no item"
        )
        issue = Issue(
            file,
            "readiness",
            1,
            unknown[0] if unknown else None,
            "readiness_items",
            "fatal",
            None,
            f"The readiness answers cannot be read: {what}. The item columns are {', '.join(item_ids)}.",
            sha256,
        )
        return ParticipationFile("readiness", file, sha256, pl.DataFrame(), [issue])
    base = [n for n in ("_row", "team_id", "occasion", "respondent", "answered_on") if n in frame.columns]
    long = frame.unpivot(index=base, on=answered, variable_name="item_id", value_name="score")
    return check_file("readiness", long, file, sha256, context)


def load_readiness_items(path: Path | None = None) -> pl.DataFrame:
    """The readiness instrument (item_id, domain, text): configuration, validated like the catalogue."""
    path = path or DEFAULT_READINESS
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except FileNotFoundError:
        raise ConfigError(f"Readiness instrument not found: {path}") from None
    except Exception as exc:
        raise ConfigError(f"Readiness instrument {path} cannot be read as CSV: {exc}") from None
    need = {"item_id", "domain", "text"}
    if not need <= set(frame.columns):
        raise ConfigError(f"Readiness instrument {path} needs the columns item_id, domain, text.")
    frame = frame.select(
        c("item_id").str.strip_chars().str.to_uppercase(),
        c("domain").str.strip_chars().str.to_lowercase(),
        c("text").str.strip_chars(),
    )
    problems = [
        f"  - row {i + 2}: domain '{d}' is not one of {', '.join(READINESS_DOMAINS)}"
        for i, d in enumerate(frame.get_column("domain").to_list())
        if d not in READINESS_DOMAINS
    ]
    dup = frame.filter(c("item_id").is_duplicated() | c("item_id").is_null())
    problems += [f"  - item '{i}' is blank or appears twice" for i in dup.get_column("item_id").to_list()]
    if problems:
        raise ConfigError("\n".join([f"Readiness instrument {path} is not valid:", *problems[:20]]))
    return frame
