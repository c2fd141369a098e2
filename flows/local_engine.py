"""Settings for a flow run that lives and dies with this process (``joyflow run``, no API server).

Prefect sends a flow-run heartbeat so that a server can mark a run as crashed when its process
vanishes. With the ephemeral API that exists only inside this process there is no one to tell,
and the heartbeat thread costs every run up to a second at its end (it is joined while it sleeps).
Runs started by a worker from a deployment talk to a real server and keep their heartbeats.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings


@contextmanager
def in_process_run() -> Iterator[None]:
    if PREFECT_API_URL.value():
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
