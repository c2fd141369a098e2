"""The network's configuration — registry of teams, measure catalogue, network settings —
loaded from files and validated like data, because a typo there corrupts every report.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from pandera.errors import SchemaErrors

from joyflow.errors import ConfigError
from schemas.checking import build_schema, message, offending_value, read_failures
from schemas.contract import CATALOGUE, REGISTRY, TARGETS, Part
from schemas.participation import ParticipationSettings
from schemas.rules import CONFIG_RULES_BY_NAME, CONFIG_RULES_BY_PART

DEFAULT_CATALOGUE = Path(__file__).with_name("default_catalogue.csv")

REGISTRY_SCHEMA = build_schema("registry", REGISTRY.columns, CONFIG_RULES_BY_PART["registry"])
CATALOGUE_SCHEMA = build_schema("catalogue", CATALOGUE.columns, CONFIG_RULES_BY_PART["catalogue"])
TARGETS_SCHEMA = build_schema("targets", TARGETS.columns, CONFIG_RULES_BY_PART["targets"])
_SCHEMAS = {"registry": REGISTRY_SCHEMA, "catalogue": CATALOGUE_SCHEMA, "targets": TARGETS_SCHEMA}


def _validated(frame: pl.DataFrame, part: Part, what: str, path: Path) -> pl.DataFrame:
    """The frame, or a ``ConfigError`` listing each problem: row, column and the rule's sentence."""
    try:
        return _SCHEMAS[part.name].validate(frame, lazy=True)
    except SchemaErrors as exc:
        named, unnamed = read_failures(exc, CONFIG_RULES_BY_PART[part.name])
    lines = [f"{what} {path} is not valid:"]
    for case in unnamed.iter_rows(named=True):
        lines.append(
            f"  - file, column {case['column'] or '-'}: {case['check']} (value {case['failure_case']!r})"
        )
    for index, name in named.iter_rows():
        rule = CONFIG_RULES_BY_NAME[name]
        row = frame.row(index, named=True)
        lines.append(
            f"  - row {index + 2}, column {rule.column}: {message(rule, row, offending_value(rule, row))}"
        )
    if len(lines) > 21:
        lines[21:] = [f"  ... and {len(lines) - 21} more"]
    raise ConfigError("\n".join(lines))


def _read_csv(path: Path, what: str) -> pl.DataFrame:
    try:
        return pl.read_csv(path, infer_schema=False, encoding="utf8-lossy").with_columns(
            pl.all().str.strip_chars().replace("", None)
        )
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except Exception as exc:
        raise ConfigError(f"{what} {path} cannot be read as CSV: {exc}") from None


# --- [statistics] in network.toml (issue 16) --------------------------------------------------
REBASE_POLICIES: tuple[str, ...] = ("recorded", "suggest", "auto")


@dataclass(frozen=True)
class StatisticsSettings:
    """``[statistics]`` as written: the rule keys (``transforms.qi.rule_set_from_mapping`` turns
    them into the network's rule set; schemas cannot import the engine) and the rebase policy:
    "recorded" (only recorded decisions make phases), "suggest" (reports list candidates too),
    "auto" (candidates become phases, labelled automatic)."""

    rules: tuple[tuple[str, Any], ...] = ()
    rebase: str = "recorded"
    source: str = "network.toml"

    @property
    def rule_table(self) -> dict[str, Any]:
        return dict(self.rules)


def _statistics(table: Any, path: Path) -> StatisticsSettings:
    if table is None:
        return StatisticsSettings(source=str(path))
    if not isinstance(table, dict):
        raise ConfigError(f"Network settings {path}: [statistics] must be a table.")
    table = dict(table)
    rebase = table.pop("rebase", "recorded")
    if rebase not in REBASE_POLICIES:
        choices = ", ".join(f'"{p}"' for p in REBASE_POLICIES)
        raise ConfigError(
            f"Network settings {path}: [statistics] rebase = {rebase!r}: choose one of {choices}."
        )
    return StatisticsSettings(rules=tuple(table.items()), rebase=rebase, source=str(path))


@dataclass(frozen=True)
class NetworkConfig:
    name: str = "Joy in Work Learning Network"
    due_day: int = 10  # a return is on time if received by this day of the following month
    representatives: tuple[str, ...] = ()
    start_period: str | None = None
    months: int = 18
    participation: ParticipationSettings = field(default_factory=ParticipationSettings)
    statistics: StatisticsSettings = field(default_factory=StatisticsSettings)


@dataclass
class Network:
    """Everything a run needs to know about the network, validated."""

    registry: pl.DataFrame
    catalogue: pl.DataFrame
    config: NetworkConfig = field(default_factory=NetworkConfig)
    root: Path | None = None
    # False when a team pre-checks a return without the registry: team IDs are then not checked.
    registry_known: bool = True
    # Team-level targets (targets.csv; empty when the network has none): team_id, measure_id,
    # target, from_period. They override the catalogue's target for that team's series.
    targets: pl.DataFrame = field(default_factory=lambda: empty_targets())

    @property
    def team_ids(self) -> list[str]:
        return self.registry.get_column("team_id").to_list()

    def inbox(self, period: str) -> Path:
        if self.root is None:
            raise ConfigError("The network has no folder, so it has no inbox.")
        return self.root / "inbox" / period


def load_registry(path: Path) -> pl.DataFrame:
    frame = _read_csv(path, "Registry").with_columns(pl.col("team_id", "organisation_id").str.to_uppercase())
    return _validated(frame, REGISTRY, "Registry", path)


def load_catalogue(path: Path | None = None) -> pl.DataFrame:
    path = path or DEFAULT_CATALOGUE
    frame = _read_csv(path, "Measure catalogue")
    numeric = ["target", "lower_bound", "upper_bound", "multiplier"]
    frame = frame.with_columns(
        pl.col("measure_id").str.to_uppercase(),
        pl.col("type", "kind", "direction", "chart").str.to_lowercase(),
        *[pl.col(n).cast(pl.Float64, strict=False) for n in numeric if n in frame.columns],
    )
    if "multiplier" in frame.columns:
        frame = frame.with_columns(pl.col("multiplier").fill_null(1.0))
    return _validated(frame, CATALOGUE, "Measure catalogue", path)


def load_network_config(path: Path) -> NetworkConfig:
    if not path.exists():
        return NetworkConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Network settings {path} are not valid TOML: {exc}") from None
    net = data.get("network", data)
    try:
        return NetworkConfig(
            name=str(net.get("name", NetworkConfig.name)),
            due_day=int(net.get("due_day", NetworkConfig.due_day)),
            representatives=tuple(str(x) for x in net.get("representatives", ())),
            start_period=net.get("start_period"),
            months=int(net.get("months", 18)),
            participation=_participation(data, path),
            statistics=_statistics(data.get("statistics"), path),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Network settings {path}: {exc}") from None


def _participation(data: dict, path: Path) -> ParticipationSettings:
    table = data.get("participation", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [participation] must be a table of settings.")
    return ParticipationSettings.from_table(table, str(path))


def empty_targets() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"team_id": pl.String, "measure_id": pl.String, "target": pl.Float64, "from_period": pl.String}
    )


def load_targets(
    path: Path, registry: pl.DataFrame | None = None, catalogue: pl.DataFrame | None = None
) -> pl.DataFrame:
    """targets.csv validated like the registry; each team and measure must be the network's own."""
    frame = _read_csv(path, "Team targets")
    if "from_period" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("from_period"))
    frame = frame.with_columns(
        pl.col("team_id", "measure_id").str.to_uppercase(), pl.col("target").cast(pl.Float64, strict=False)
    )
    frame = _validated(frame, TARGETS, "Team targets", path).select(*TARGETS.column_names)
    lines = []
    for i, (team, measure) in enumerate(frame.select("team_id", "measure_id").iter_rows()):
        if registry is not None and team not in set(registry.get_column("team_id").to_list()):
            lines.append(f"  - row {i + 2}, column team_id: team '{team}' is not in the registry.")
        if catalogue is not None and measure not in set(catalogue.get_column("measure_id").to_list()):
            lines.append(f"  - row {i + 2}, column measure_id: measure '{measure}' is not in the catalogue.")
    if lines:
        raise ConfigError("\n".join([f"Team targets {path} are not valid:", *lines[:20]]))
    return frame


def load_network(root: Path, registry: Path | None = None, catalogue: Path | None = None) -> Network:
    """A network folder holds registry.csv, catalogue.csv (optional), network.toml and inbox/."""
    if not root.is_dir():
        raise ConfigError(f"Network folder not found: {root}")
    cat_path = catalogue or (root / "catalogue.csv" if (root / "catalogue.csv").exists() else None)
    reg, cat = load_registry(registry or root / "registry.csv"), load_catalogue(cat_path)
    targets_path = root / "targets.csv"
    return Network(
        registry=reg,
        catalogue=cat,
        config=load_network_config(root / "network.toml"),
        root=root,
        targets=load_targets(targets_path, reg, cat) if targets_path.exists() else empty_targets(),
    )
