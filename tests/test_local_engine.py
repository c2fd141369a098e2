"""An in-process run sends no flow-run heartbeats; a run against a real API server keeps them."""

from __future__ import annotations

from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

from flows.local_engine import in_process_run


def test_no_heartbeat_without_an_api_server() -> None:
    with temporary_settings(updates={PREFECT_API_URL: None}):
        before = get_current_settings().flows.heartbeat_frequency
        with in_process_run():
            assert get_current_settings().flows.heartbeat_frequency is None
        assert get_current_settings().flows.heartbeat_frequency == before
    assert before is not None  # Prefect's default sends them: the context manager is what turns them off


def test_heartbeats_kept_with_an_api_server() -> None:
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        before = get_current_settings().flows.heartbeat_frequency
        with in_process_run():
            assert get_current_settings().flows.heartbeat_frequency == before
    assert before is not None
