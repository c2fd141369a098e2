"""Progress reporting for the CLI: stages report here; the CLI decides how (or whether) to show it.

A module-level reporter rather than a flow parameter, because Prefect parameters must be
serialisable and a progress bar is not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

_lock = threading.Lock()
_reporter: tuple[Callable[[str, int, str], None], Callable[[str, int], None]] | None = None


def set_reporter(
    start: Callable[[str, int, str], None] | None, advance: Callable[[str, int], None] | None
) -> None:
    global _reporter
    _reporter = (start, advance) if start and advance else None


def start(stage: str, total: int, label: str) -> None:
    if _reporter:
        with _lock:
            _reporter[0](stage, total, label)


def advance(stage: str, n: int = 1) -> None:
    if _reporter:
        with _lock:
            _reporter[1](stage, n)
