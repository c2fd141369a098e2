"""Receiving returns: archive each file first (nothing received is ever lost), then read it.

``receive`` does one file. ``receive_months`` does many months of files for a backfill, in worker
processes: reading a workbook is Python-bound (~2 ms a file), so threads would only take turns
holding the GIL, while processes read side by side — and read the next month while the caller
validates and loads this one. Results come back in file order, month by month, exactly as
``receive`` returns them one after another.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from schemas.raw import RawReturn
from transforms.intake.archive import Received, archive
from transforms.intake.read import read_return

# Below this many files a pool costs more than it saves: each worker process starts in ~0.5 s.
POOL_MIN_FILES = 400
FILES_PER_TASK = 25  # few enough round trips to the workers, small enough to keep both busy
MONTHS_AHEAD = 1  # months read ahead of the one being loaded (bounds memory)


def receive(path: Path, archive_dir: Path, max_bytes: int) -> tuple[Received, RawReturn]:
    """Archive the file, then read it from the very bytes that were archived."""
    received, data = archive(path, archive_dir, max_bytes=max_bytes)
    return received, read_return(path, None if path.is_dir() else data, received.sha256)


def _receive_all(paths: list[Path], archive_dir: Path, max_bytes: int) -> list[tuple[Received, RawReturn]]:
    return [receive(p, archive_dir, max_bytes) for p in paths]


def _exit_with(parent: int) -> None:
    """Worker initializer: leave when the parent is gone. A parent killed outright (SIGKILL, the
    OOM killer) cannot stop its pool, and its idle workers would otherwise wait for work forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def read_workers() -> int:
    """Worker processes for reading: one per core the process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def receive_months(
    months: Sequence[list[Path]], archive_dir: Path, max_bytes: int, workers: int | None = None
) -> Iterator[list[tuple[Received, RawReturn]]]:
    """Each month's files received, in order; read in ``workers`` processes when there are enough
    files to be worth it. The next month is being read while the caller works on this one."""
    workers = read_workers() if workers is None else workers
    # A daemonic process (a multiprocessing pool's worker) may not start processes: read here.
    if (
        workers < 2
        or sum(len(m) for m in months) < POOL_MIN_FILES
        or multiprocessing.current_process().daemon
    ):
        for paths in months:
            yield _receive_all(list(paths), archive_dir, max_bytes)
        return
    # spawn, not fork: the caller runs Polars, whose threads a forked child would inherit locked.
    with ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_exit_with,
        initargs=(os.getpid(),),
    ) as pool:
        pending: deque[list[Future]] = deque()
        queued = iter(months)

        def queue_next() -> None:
            paths = next(queued, None)
            if paths is not None:
                pending.append(
                    [
                        pool.submit(_receive_all, list(paths[i : i + FILES_PER_TASK]), archive_dir, max_bytes)
                        for i in range(0, len(paths), FILES_PER_TASK)
                    ]
                )

        for _ in range(1 + MONTHS_AHEAD):
            queue_next()
        try:
            while pending:
                month = pending.popleft()
                queue_next()
                yield [r for task in month for r in task.result()]
        finally:
            for month in pending:
                for task in month:
                    task.cancel()
