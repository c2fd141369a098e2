"""Timing, memory and the results table: every stage is measured beside its cost floor."""

from __future__ import annotations

import json
import os
import platform
import resource
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table


def peak_rss_mb() -> float:
    """Peak resident memory of the largest single process: this one or one of its finished children, in MB."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(me, kids) / 1024


def cpu_seconds() -> tuple[float, float]:
    """CPU time (user + system) of this process and of its finished children, in seconds."""
    me, kids = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 0.0


def tree_rss_mb(root: int | None = None) -> float | None:
    """Resident memory of a process and all its descendants now, in MB (Linux ``/proc``; else None).
    The render workers hold memory at the same time as the bench process: the machine needs the sum."""
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    try:
        pids = [int(d) for d in os.listdir("/proc") if d.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        children.setdefault(int(fields[1]), []).append(pid)  # field 4: ppid
        rss[pid] = int(fields[21])  # field 24: resident pages
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total * _PAGE_MB


class MemorySampler:
    """The peak of ``tree_rss_mb`` over a run, sampled by a daemon thread (a few ms per sample)."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> float:
        now = tree_rss_mb()
        if now is not None:
            self.peak_mb = max(self.peak_mb, now)
        return self.peak_mb

    def start(self) -> MemorySampler:
        if tree_rss_mb() is not None:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


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
    peak_mb: float = 0.0  # the process tree's peak so far (sampled), or the largest single process's
    note: str = ""
    unit: str = "s"  # of ``seconds``: "MB" on a memory row, whose value is its peak


@dataclass
class Bench:
    size: int
    results: list[StageResult] = field(default_factory=list)
    memory: MemorySampler = field(default_factory=lambda: MemorySampler().start(), repr=False)

    def peak_mb(self) -> float:
        """Peak memory so far: the sampled process tree, or (without /proc) the largest process."""
        return max(self.memory.sample(), peak_rss_mb())

    def add_memory(
        self, stage: str, *, target: str = "", max_mb: float | None = None, note: str = ""
    ) -> StageResult:
        """A row whose value is the peak memory so far, in MB (all processes of the bench at once)."""
        peak = round(self.peak_mb(), 1)
        largest = round(peak_rss_mb(), 1)
        r = StageResult(
            stage,
            self.size,
            peak,
            target=target,
            met=None if max_mb is None else peak <= max_mb,
            peak_mb=peak,
            note=note or f"largest single process {largest:,.0f} MB",
            unit="MB",
        )
        self.results.append(r)
        return r

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
            round(self.peak_mb(), 1),
            note,
        )
        self.results.append(r)
        return r

    def table(self, console: Console) -> None:
        t = Table(
            title=f"joyflow benchmark — {self.size} teams ({platform.node()}, {platform.processor() or platform.machine()})"
        )
        for col in ("stage", "value", "floor", "floor s", "ratio", "target", "met", "peak MB"):
            t.add_column(col, justify="right" if col in ("value", "floor s", "ratio", "peak MB") else "left")
        for r in self.results:
            met = "" if r.met is None else ("[green]met[/green]" if r.met else "[red]not met[/red]")
            t.add_row(
                r.stage,
                f"{r.seconds:,.0f} MB" if r.unit == "MB" else f"{r.seconds:.3f} s",
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
