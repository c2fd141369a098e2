"""Timing, memory and the results table: every stage is measured beside its cost floor."""

from __future__ import annotations

import json
import platform
import resource
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table


def peak_rss_mb() -> float:
    """Peak resident memory of this process and of its (finished) children, in MB."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(me, kids) / 1024


@dataclass
class StageResult:
    stage: str
    size: int
    seconds: float
    floor_seconds: float | None = None
    floor: str = ""
    ratio: float | None = None  # seconds / floor (for "faster than" targets the other way round)
    target: str = ""
    met: bool | None = None
    peak_mb: float = 0.0
    note: str = ""


@dataclass
class Bench:
    size: int
    results: list[StageResult] = field(default_factory=list)

    def add(
        self,
        stage: str,
        seconds: float,
        *,
        floor_seconds: float | None = None,
        floor: str = "",
        target: str = "",
        max_ratio: float | None = None,
        min_speedup: float | None = None,
        max_seconds: float | None = None,
        note: str = "",
    ) -> StageResult:
        ratio = seconds / floor_seconds if floor_seconds else None
        met = None
        if max_ratio is not None and ratio is not None:
            met = ratio <= max_ratio
        if min_speedup is not None and floor_seconds:
            ratio = floor_seconds / seconds if seconds else None
            met = ratio is not None and ratio >= min_speedup
        if max_seconds is not None:
            met = seconds <= max_seconds if met is None else (met and seconds <= max_seconds)
        r = StageResult(
            stage,
            self.size,
            round(seconds, 4),
            None if floor_seconds is None else round(floor_seconds, 4),
            floor,
            None if ratio is None else round(ratio, 3),
            target,
            met,
            round(peak_rss_mb(), 1),
            note,
        )
        self.results.append(r)
        return r

    def table(self, console: Console) -> None:
        t = Table(
            title=f"joyflow benchmark — {self.size} teams ({platform.node()}, {platform.processor() or platform.machine()})"
        )
        for col in ("stage", "seconds", "floor", "floor s", "ratio", "target", "met", "peak MB"):
            t.add_column(
                col, justify="right" if col in ("seconds", "floor s", "ratio", "peak MB") else "left"
            )
        for r in self.results:
            met = "" if r.met is None else ("[green]met[/green]" if r.met else "[red]not met[/red]")
            t.add_row(
                r.stage,
                f"{r.seconds:.3f}",
                r.floor,
                "" if r.floor_seconds is None else f"{r.floor_seconds:.3f}",
                "" if r.ratio is None else f"{r.ratio:.2f}",
                r.target,
                met,
                f"{r.peak_mb:.0f}",
            )
        console.print(t)
        for r in self.results:
            if r.target:
                verdict = "met" if r.met else ("not met" if r.met is False else "not judged")
                console.print(
                    f"target {r.stage}: {r.target} — {verdict}" + (f" ({r.note})" if r.note else "")
                )

    def save(self, path: Path) -> None:
        """Results of every size are kept side by side, so growth from 100 to 1,000 teams can be read."""
        path.parent.mkdir(parents=True, exist_ok=True)
        existing = json.loads(path.read_text()) if path.exists() else {}
        existing.setdefault("runs", {})[str(self.size)] = {
            "machine": {
                "node": platform.node(),
                "cpus": __import__("os").cpu_count(),
                "python": platform.python_version(),
            },
            "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "results": [asdict(r) for r in self.results],
        }
        path.write_text(json.dumps(existing, indent=2))


@contextmanager
def timed():
    box = {"seconds": 0.0}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["seconds"] = time.perf_counter() - start


def best_of(fn: Callable[[], object], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
