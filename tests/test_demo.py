"""The demo generator: deterministic, realistic enough to exercise every stage."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from transforms.demo import generate, periods_ending


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", teams=8, months=4, end="2026-10")
    b = generate(tmp_path / "b", teams=8, months=4, end="2026-10")
    assert a["files"] == b["files"]
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")  # so a second `make demo` is a no-op
    generate(tmp_path / "c", teams=8, months=4, end="2026-10", seed=1)
    assert _digests(tmp_path / "c") != _digests(tmp_path / "a")


def test_network_shape(demo_network: Path) -> None:
    registry = pl.read_csv(demo_network / "registry.csv")
    assert registry.height == 12
    assert registry.get_column("organisation_id").n_unique() >= 3
    catalogue = pl.read_csv(demo_network / "catalogue.csv")
    assert catalogue.height >= 8
    assert set(catalogue.get_column("type")) == {"outcome", "process", "balancing"}
    assert {"proportion", "count", "score"} <= set(catalogue.get_column("kind"))
    periods = sorted(p.name for p in (demo_network / "inbox").iterdir())
    assert periods == periods_ending("2026-10", 18)
    last = sorted(p.name for p in (demo_network / "inbox" / "2026-10").iterdir())
    assert len(last) == 12  # every team, two of them deliberately broken
    assert "T03_2026-09_v2.xlsx" in {p.name for p in (demo_network / "inbox" / "2026-09").iterdir()}


def test_periods_ending_crosses_years() -> None:
    assert periods_ending("2026-02", 4) == ["2025-11", "2025-12", "2026-01", "2026-02"]
