"""`hdr batch` as a user runs it: a separate process, the summary, where the results are.

The process reports to the session's Prefect test server (``PREFECT_API_URL``) instead of
starting its own ephemeral one: the same flow, 20 s less per test. The last test runs it
without a server, as a user does: it starts its temporary one (flows.ephemeral) and stops it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"


def hdr_batch(*args: str, api: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_API_URL": api}
    return subprocess.run(
        [sys.executable, "-m", "hdr", "batch", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow  # two processes that import Prefect and read: ~20-40 s on 2 busy cores
def test_hdr_batch_prints_the_summary_and_where_the_database_is(
    prefect_harness: str, tmp_path: Path, broken_pdf: bytes
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE / "doc_0002.png", inbox / "a.png")
    (inbox / "broken.pdf").write_bytes(broken_pdf)
    db = tmp_path / "new" / "results.sqlite3"  # no schema yet: hdr batch creates it
    url = f"sqlite:///{db}"

    first = hdr_batch(str(inbox), "--db-url", url, "--no-progress", api=prefect_harness)
    assert first.returncode == 0, first.stderr[-3000:]
    lines = first.stdout.splitlines()
    assert lines[0].startswith("batch 1: 2 documents (2 read now, 0 already stored) in ")
    assert "error truncated_file:" in first.stdout and "broken.pdf" in first.stdout
    assert f"results database: {url} (file {db.resolve()})" in lines
    assert "next: hdr results summary --batch 1; hdr review next --batch 1" in lines
    assert "created the results schema" in first.stderr

    again = hdr_batch(str(inbox), "--db-url", url, "--json", api=prefect_harness)
    assert again.returncode == 0, again.stderr[-3000:]
    summary = json.loads(again.stdout)
    assert summary["batch_id"] == 2 and summary["n_read"] == 0 and summary["n_reused"] == 2
    assert summary["n_error"] == 1 and summary["database"] == url


def test_a_mistyped_source_fails_at_once_with_a_reason(tmp_path: Path) -> None:
    run = hdr_batch(str(tmp_path / "inbx"), "--db-url", f"sqlite:///{tmp_path}/r.db", api="")
    assert run.returncode == 2
    assert "[not_found]" in run.stderr and "inbx" in run.stderr
    assert not (tmp_path / "r.db").exists()  # nothing was started


@pytest.mark.slow  # starts its own Prefect server, as `hdr batch` does for a user: ~20-40 s
def test_hdr_batch_without_a_server_reports_to_a_temporary_one_it_stops(tmp_path: Path) -> None:
    import sqlite3

    import psutil

    home = tmp_path / "prefect"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE / "doc_0002.png", inbox / "a.png")
    url = f"sqlite:///{tmp_path / 'results.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    run = subprocess.run(
        [sys.executable, "-m", "hdr", "batch", str(inbox), "--db-url", url, "--json"],
        env={**env, "PREFECT_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout)
    assert summary["n_read"] == summary["n_documents"] == 1 and summary["flow_run_id"]

    # the flow run was recorded by the temporary server, in this Prefect home's database
    with sqlite3.connect(home / "prefect.db") as conn:
        row = conn.execute(
            "SELECT name, state_type FROM flow_run WHERE id = ?", (summary["flow_run_id"],)
        ).fetchone()
    assert row is not None and row[1] == "COMPLETED", row

    def serves_this_home(proc: psutil.Process) -> bool:
        try:
            server = "prefect.server.api.server" in " ".join(proc.cmdline())
            return server and proc.environ().get("PREFECT_HOME") == str(home)
        except psutil.Error:
            return False

    assert not [p for p in psutil.process_iter() if serves_this_home(p)]  # none outlives it
