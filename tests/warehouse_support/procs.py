"""Whole pipeline runs (``monthly_run_plain``) in real, separate processes.

Children are forked from a forkserver that has already imported the pipeline, so a child
starts in milliseconds instead of the ~3 s a fresh interpreter needs to import Polars,
Pandera, SQLAlchemy and WeasyPrint. Nothing has run Polars in the forkserver (only imports),
so no thread pool exists yet when it forks: each child is a clean, single-threaded process.
A child reports back through a queue; one that is SIGKILLed reports nothing. A child given a
``Fault`` installs it first (``tests/warehouse_support/faults.py``): the crash or the slow
transaction is injected from here, not by a switch in the loader.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from tests.warehouse_support import faults
from tests.warehouse_support.faults import Fault

PRELOAD = ["flows.plain", "flows.steps", "warehouse.load", "warehouse.batch", "warehouse.checksum"]
TODAY = dt.date(2026, 11, 22)


def context() -> mp.context.BaseContext:
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def _child(
    queue,
    url: str,
    network_dir: str,
    home: str,
    period: str,
    fault: Fault | None,
    wait_for_lock: float,
    backfill: bool,
    barrier,
    pool_min_files: int | None,
) -> None:
    if fault is not None:
        faults.install(fault)
    if pool_min_files is not None:  # read in worker processes even a small network
        import transforms.intake.receive

        transforms.intake.receive.POOL_MIN_FILES = pool_min_files
    os.environ["JOYFLOW_HOME"] = home
    os.environ.pop("JOYFLOW_WAREHOUSE_URL", None)
    from flows.plain import monthly_run_plain
    from joyflow.errors import RunLockedError

    if barrier is not None:
        barrier.wait(timeout=60)
    started = time.monotonic()
    try:
        summary = monthly_run_plain(
            period,
            Path(network_dir),
            warehouse_url=url,
            backfill=backfill,
            render=False,
            wait_for_lock=wait_for_lock,
            today=TODAY,
        )
        queue.put(
            {
                "pid": os.getpid(),
                "result": "ok",
                "counts": summary["counts"],
                "run_id": summary["run_id"],
                "files": [(f["file"], f["status"]) for f in summary["files"]],
                "seconds": time.monotonic() - started,
            }
        )
    except RunLockedError as exc:
        queue.put(
            {
                "pid": os.getpid(),
                "result": "locked",
                "message": str(exc),
                "seconds": time.monotonic() - started,
            }
        )
    except BaseException as exc:  # report anything else to the test instead of dying silently
        import traceback

        queue.put(
            {
                "pid": os.getpid(),
                "result": "error",
                "message": f"{exc!r}\n{traceback.format_exc()}",
                "seconds": time.monotonic() - started,
            }
        )


@dataclass
class Run:
    process: mp.process.BaseProcess
    queue: object

    def wait(self, timeout: float = 120) -> dict | None:
        """The child's report, or None if it died without one (SIGKILL). Reaps the child."""
        deadline = time.monotonic() + timeout
        report = None
        while time.monotonic() < deadline:
            try:
                report = self.queue.get(timeout=0.1)
                break
            except Exception:  # queue.Empty
                if not self.process.is_alive():
                    try:
                        report = self.queue.get(timeout=0.5)
                    except Exception:
                        report = None
                    break
        self.process.join(max(1.0, deadline - time.monotonic()))
        if self.process.is_alive():
            self.kill()
            raise TimeoutError("pipeline child did not finish in time")
        return report

    def kill(self) -> None:
        if self.process.pid and self.process.is_alive():
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.join(10)

    @property
    def exitcode(self) -> int | None:
        return self.process.exitcode


def start_run(
    url: str,
    network_dir: Path,
    home: Path,
    period: str = "2026-10",
    *,
    fault: Fault | None = None,
    wait_for_lock: float = 0.0,
    backfill: bool = True,
    barrier=None,
    pool_min_files: int | None = None,
) -> Run:
    ctx = context()
    queue = ctx.Queue()
    proc = ctx.Process(
        target=_child,
        args=(
            queue,
            url,
            str(network_dir),
            str(home),
            period,
            fault,
            wait_for_lock,
            backfill,
            barrier,
            pool_min_files,
        ),
        daemon=pool_min_files is None,  # a daemonic process may not start the reading workers
    )
    proc.start()
    return Run(proc, queue)
