"""Fixtures of the flow tests: ONE Prefect test server for the session, real databases, inputs.

The Prefect harness (a real Prefect API on a temporary SQLite database, ~10-20 s to start) is
started only by the tests that ask for ``prefect_harness``, once for the whole session.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from db import upgrade
from db.testing import backend_params, temporary_database

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"
BROKEN_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"  # cut short: no xref, no %%EOF


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[str]:
    """A Prefect API for the whole session; yields its URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield str(PREFECT_API_URL.value())


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries as configured, but with millisecond backoff: the tests wait for nothing."""
    monkeypatch.setenv("HDR_FLOWS_RETRIES__BACKOFF_SECONDS", "0.01")
    monkeypatch.setenv("HDR_FLOWS_RETRIES__JITTER_FACTOR", "0")
    monkeypatch.setenv("HDR_FLOWS_RETRIES__READ_BACKOFF_SECONDS", "0.01")


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty, migrated SQLite results database; HDR_DB_URL points at it."""
    with temporary_database("sqlite", tmp_path) as url:
        upgrade(url)
        monkeypatch.setenv("HDR_DB_URL", url)
        yield url
    _dispose_engines()


@pytest.fixture(params=backend_params())
def any_db_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The same, on SQLite and on PostgreSQL (a fresh schema, dropped afterwards)."""
    with temporary_database(request.param, tmp_path) as url:
        upgrade(url)
        monkeypatch.setenv("HDR_DB_URL", url)
        yield url
        _dispose_engines()


def _dispose_engines() -> None:
    from flows.runtime import dispose_all

    dispose_all()


@pytest.fixture(scope="session")
def broken_pdf() -> bytes:
    return BROKEN_PDF


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """The committed sample (20 files, README and truth.jsonl beside them) and a broken PDF."""
    folder = tmp_path / "inbox"
    shutil.copytree(SAMPLE, folder)
    (folder / "broken.pdf").write_bytes(BROKEN_PDF)
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def free_port() -> int:
    return _free_port()
