"""The temporary Prefect API of `hdr batch` (flows.ephemeral): a real server process each time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flows.ephemeral import TemporaryApi, start_temporary_api
from hdr.errors import ConfigError

pytestmark = pytest.mark.integration


@pytest.fixture
def prefect_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Prefect home of its own (its database is created by the server), no API named."""
    home = tmp_path / "prefect"
    monkeypatch.setenv("PREFECT_HOME", str(home))
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return home


def test_a_named_server_is_used_and_none_is_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert start_temporary_api() is None


@pytest.mark.slow  # a Prefect server starting: ~5-20 s on 2 busy cores
def test_the_server_answers_then_stops(prefect_home: Path) -> None:
    api = start_temporary_api()
    assert api is not None
    process = api.process
    try:
        url = api.wait()
        assert url == api.url and url.startswith("http://127.0.0.1:")
        assert api.is_healthy() and api.answered
        assert (prefect_home / "prefect.db").is_file()  # the server made its database there
    finally:
        api.stop()
    assert process is not None and process.poll() is not None  # reaped, not left running
    assert not api.is_healthy()
    api.stop()  # twice is harmless


def test_a_server_that_cannot_start_is_a_clear_error(
    prefect_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # fault: a database the server cannot open (a folder stands where its file should be)
    blocked = prefect_home / "blocked.db"
    blocked.mkdir(parents=True)
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", f"sqlite+aiosqlite:///{blocked}")
    api = TemporaryApi()
    with pytest.raises(ConfigError, match="exited with status") as err:
        api.wait(timeout=300)
    assert "PREFECT_API_URL" in (err.value.hint or "")
    assert api.process is None


def test_a_server_never_asked_for_is_killed_at_once(prefect_home: Path) -> None:
    api = TemporaryApi()
    process = api.process
    assert process is not None
    api.stop()  # as when `hdr batch` fails before its flow starts
    assert process.returncode == -9  # killed, not asked to shut down: it prints nothing
    assert not api.answered


def test_run_local_leaves_the_server_to_a_configured_api(
    prefect_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.process_batch import _reporting_to

    api = TemporaryApi()
    process = api.process
    named = "http://127.0.0.1:9/api"  # as a profile's PREFECT_API_URL: the flow reports there
    with temporary_settings(updates={PREFECT_API_URL: named}), _reporting_to(api):
        assert PREFECT_API_URL.value() == named
    assert process is not None and process.poll() is not None
    assert os.environ.get("PREFECT_API_URL") is None
