"""The network's configuration — registry of teams, measure catalogue, network settings —
loaded from files and validated like data, because a typo there corrupts every report.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from joyflow.errors import ConfigError
from schemas.contract import CHART_TYPES, DIRECTIONS, MEASURE_KINDS, MEASURE_TYPES

DEFAULT_CATALOGUE = Path(__file__).with_name("default_catalogue.csv")

_PERIOD_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
_EMAIL_RE = r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z]{2,}$"
_ID_RE = r"^[A-Z0-9][A-Z0-9_-]{0,31}$"

REGISTRY_SCHEMA = pa.DataFrameSchema(
    {
        "team_id": pa.Column(str, pa.Check.str_matches(_ID_RE), unique=True),
        "team_name": pa.Column(str, pa.Check.str_length(1, 120)),
        "organisation_id": pa.Column(str, pa.Check.str_matches(_ID_RE)),
        "organisation_name": pa.Column(str, pa.Check.str_length(1, 160)),
        "coach_name": pa.Column(str, pa.Check.str_length(1, 120)),
        "coach_email": pa.Column(str, pa.Check.str_matches(_EMAIL_RE)),
        "cohort": pa.Column(str, nullable=True),
        "first_period": pa.Column(str, pa.Check.str_matches(_PERIOD_RE)),
    },
    strict=False,
    name="registry",
)

CATALOGUE_SCHEMA = pa.DataFrameSchema(
    {
        "measure_id": pa.Column(str, pa.Check.str_matches(_ID_RE), unique=True),
        "name": pa.Column(str, pa.Check.str_length(1, 160)),
        "type": pa.Column(str, pa.Check.isin(list(MEASURE_TYPES))),
        "kind": pa.Column(str, pa.Check.isin(list(MEASURE_KINDS))),
        "direction": pa.Column(str, pa.Check.isin(list(DIRECTIONS))),
        "target": pa.Column(float, nullable=True),
        "chart": pa.Column(str, pa.Check.isin(list(CHART_TYPES))),
        "lower_bound": pa.Column(float),
        "upper_bound": pa.Column(float),
        "unit": pa.Column(str, nullable=True),
        "multiplier": pa.Column(float),
        "description": pa.Column(str, nullable=True),
    },
    checks=[
        pa.Check(
            lambda d: d.lazyframe.select(pl.col("lower_bound") < pl.col("upper_bound")), name="bounds_ordered"
        ),
        pa.Check(
            lambda d: d.lazyframe.select(
                ~pl.col("chart").is_in(["p", "pp"]) | (pl.col("kind") == "proportion")
            ),
            name="p_chart_needs_proportion",
        ),
        pa.Check(
            lambda d: d.lazyframe.select(~pl.col("chart").is_in(["u", "up"]) | (pl.col("kind") == "rate")),
            name="u_chart_needs_rate",
        ),
    ],
    strict=False,
    name="catalogue",
)


def _schema_problems(exc: SchemaErrors, what: str, path: Path) -> str:
    lines = [f"{what} {path} is not valid:"]
    for row in exc.failure_cases.head(20).iter_rows(named=True):
        where = f"row {row['index'] + 2}" if row["index"] is not None else "file"
        lines.append(
            f"  - {where}, column {row['column'] or '-'}: {row['check']} (value {row['failure_case']!r})"
        )
    return "\n".join(lines)


def _read_csv(path: Path, what: str) -> pl.DataFrame:
    try:
        return pl.read_csv(path, infer_schema=False, encoding="utf8-lossy").with_columns(
            pl.all().str.strip_chars().replace("", None)
        )
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except Exception as exc:
        raise ConfigError(f"{what} {path} cannot be read as CSV: {exc}") from None


@dataclass(frozen=True)
class NetworkConfig:
    name: str = "Joy in Work Learning Network"
    due_day: int = 10  # a return is on time if received by this day of the following month
    representatives: tuple[str, ...] = ()
    start_period: str | None = None
    months: int = 18


@dataclass
class Network:
    """Everything a run needs to know about the network, validated."""

    registry: pl.DataFrame
    catalogue: pl.DataFrame
    config: NetworkConfig = field(default_factory=NetworkConfig)
    root: Path | None = None
    # False when a team pre-checks a return without the registry: team IDs are then not checked.
    registry_known: bool = True

    @property
    def team_ids(self) -> list[str]:
        return self.registry.get_column("team_id").to_list()

    def inbox(self, period: str) -> Path:
        if self.root is None:
            raise ConfigError("The network has no folder, so it has no inbox.")
        return self.root / "inbox" / period


def load_registry(path: Path) -> pl.DataFrame:
    frame = _read_csv(path, "Registry").with_columns(pl.col("team_id", "organisation_id").str.to_uppercase())
    try:
        return REGISTRY_SCHEMA.validate(frame, lazy=True)
    except SchemaErrors as exc:
        raise ConfigError(_schema_problems(exc, "Registry", path)) from None


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
    try:
        return CATALOGUE_SCHEMA.validate(frame, lazy=True)
    except SchemaErrors as exc:
        raise ConfigError(_schema_problems(exc, "Measure catalogue", path)) from None


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
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Network settings {path}: {exc}") from None


def load_network(root: Path, registry: Path | None = None, catalogue: Path | None = None) -> Network:
    """A network folder holds registry.csv, catalogue.csv (optional), network.toml and inbox/."""
    if not root.is_dir():
        raise ConfigError(f"Network folder not found: {root}")
    cat_path = catalogue or (root / "catalogue.csv" if (root / "catalogue.csv").exists() else None)
    return Network(
        registry=load_registry(registry or root / "registry.csv"),
        catalogue=load_catalogue(cat_path),
        config=load_network_config(root / "network.toml"),
        root=root,
    )
