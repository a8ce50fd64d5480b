"""Crashes and outages: the process dies mid-batch, the database goes away mid-batch, the
model file is corrupt.

All are real: the first kills a `process-batch` run in another process right after its
third document was stored (``os._exit``, no cleanup), the second cuts a TCP proxy in front of
PostgreSQL while chunks are being stored, the third gives the flow a copy of the model with
one byte changed. Afterwards every stored document is whole, and the rerun finishes the
batch without storing anything twice. (`hdr read` and `hdr batch` meeting a bad model or a
full disk: tests/integration/test_cli_faults.py.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, make_url, select

from db import create_engine_from_url, session_scope, upgrade
from db.models import Batch, BatchItem, Document, Page, Result
from db.testing import postgres_schema, require_postgres
from hdr.errors import ModelError, ReasonCode, StorageError

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"
FILES = ["doc_0002.png", "doc_0004.tif", "doc_0006.pdf", "doc_0008.png", "doc_0010.tif",
         "doc_0014.png", "doc_0016.tif"]  # fmt: skip

CRASH_AFTER_THIRD = """
import os, sys
from flows.process_batch import run_local

stored = 0

def die_after_the_third(event):
    global stored
    if event.kind == "document" and event.status != "skipped":
        stored += 1
        if stored == 3:
            os._exit(17)  # no cleanup, no finally: as a killed process

run_local(sys.argv[1], chunk_size=4, listener=die_after_the_third)
"""


def small_inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in FILES:
        shutil.copy(SAMPLE / name, inbox / name)
    return inbox


def table_counts(url: str) -> dict[str, Any]:
    engine = create_engine_from_url(url)
    try:
        with session_scope(engine) as s:
            results = s.scalars(select(Result)).all()
            return {
                "documents": s.scalar(select(func.count(Document.id))),
                "results": len(results),
                # a result of a readable document without its pages would be a partial write
                "results_without_pages": sum(
                    1
                    for r in results
                    if r.status != "error"
                    and not s.scalar(select(func.count(Page.id)).where(Page.result_id == r.id))
                ),
                "batches": s.scalars(select(Batch).order_by(Batch.id)).all(),
                "items": s.scalar(select(func.count(BatchItem.id))),
            }
    finally:
        engine.dispose()


def batch_id(url: str) -> int:
    (batch,) = table_counts(url)["batches"]
    return int(batch.id)


def test_a_killed_run_is_finished_by_resuming_its_batch(
    prefect_harness: str, db_url: str, tmp_path: Path
) -> None:
    from flows.process_batch import process_batch

    inbox = small_inbox(tmp_path)
    env = {**os.environ, "PREFECT_API_URL": prefect_harness, "HDR_DB_URL": db_url}
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_AFTER_THIRD, str(inbox)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert crashed.returncode == 17, crashed.stderr[-3000:]
    after_crash = table_counts(db_url)
    assert after_crash["results"] == after_crash["documents"] == 3
    assert after_crash["results_without_pages"] == 0
    (batch,) = after_crash["batches"]
    assert batch.finished_at is None  # nobody closed it

    summary = process_batch(source=str(inbox), chunk_size=4, resume_batch=batch.id)
    assert summary.batch_id == batch.id
    assert summary.n_read == len(FILES) - 3 and summary.n_documents == len(FILES)
    final = table_counts(db_url)
    assert final["documents"] == final["results"] == final["items"] == len(FILES)
    assert final["results_without_pages"] == 0
    (batch,) = final["batches"]
    assert batch.finished_at is not None and batch.n_documents == len(FILES)


def test_a_rerun_without_resume_reuses_what_the_killed_run_stored(
    prefect_harness: str, db_url: str, tmp_path: Path
) -> None:
    from flows.process_batch import process_batch

    inbox = small_inbox(tmp_path)
    env = {**os.environ, "PREFECT_API_URL": prefect_harness, "HDR_DB_URL": db_url}
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_AFTER_THIRD, str(inbox)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert crashed.returncode == 17, crashed.stderr[-3000:]
    summary = process_batch(source=str(inbox), chunk_size=4)
    assert summary.n_reused == 3 and summary.n_read == len(FILES) - 3
    final = table_counts(db_url)
    assert final["documents"] == final["results"] == len(FILES)
    assert [b.finished_at is None for b in final["batches"]] == [True, False]


@pytest.mark.postgres
def test_a_database_lost_mid_batch_fails_cleanly_and_the_resume_finishes(
    prefect_harness: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows import progress
    from flows.process_batch import process_batch
    from tests.integration.flows.tcp_proxy import TcpProxy

    base = require_postgres()
    inbox = small_inbox(tmp_path)
    with postgres_schema(base) as direct_url:
        upgrade(direct_url)
        pg = make_url(direct_url)
        proxy = TcpProxy((pg.host or "127.0.0.1", pg.port or 5432))
        proxy.start()
        via_proxy = pg.set(port=proxy.port).render_as_string(hide_password=False)
        monkeypatch.setenv("HDR_DB_URL", via_proxy)
        monkeypatch.setenv("HDR_FLOWS_RETRIES__ATTEMPTS", "2")
        stored: list[str] = []

        def cut_after_two(event: progress.ProgressEvent) -> None:
            if event.kind == "document" and event.status != "skipped":
                stored.extend(event.sources)
                if len(stored) == 2:
                    proxy.stop()

        try:
            with progress.listening(cut_after_two), pytest.raises(StorageError) as err:
                process_batch(source=str(inbox), chunk_size=3)
            assert err.value.code is ReasonCode.DB_UNAVAILABLE
            assert f"batch {batch_id(direct_url)} stopped" in err.value.message
            assert "resume_batch=" in (err.value.hint or "")
            cut = table_counts(direct_url)
            assert cut["results"] == cut["documents"] == 2 and cut["results_without_pages"] == 0
            (batch,) = cut["batches"]

            proxy.start()  # the database is back
            summary = process_batch(source=str(inbox), chunk_size=3, resume_batch=batch.id)
        finally:
            proxy.stop()
            from flows.runtime import dispose_all

            dispose_all()
        assert summary.n_read == len(FILES) - 2 and summary.n_documents == len(FILES)
        final = table_counts(direct_url)
        assert final["documents"] == final["results"] == final["items"] == len(FILES)


def test_chunks_run_on_a_two_worker_dask_cluster(
    prefect_harness: str, db_url: str, tmp_path: Path
) -> None:
    from distributed import LocalCluster

    from flows.config import apply_dask_config
    from flows.process_batch import run_local

    apply_dask_config()
    inbox = small_inbox(tmp_path)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        summary = run_local(str(inbox), chunk_size=2, dask_address=cluster.scheduler_address)
    assert summary.n_documents == summary.n_read == len(FILES) and summary.chunks == 4
    assert summary.workers == 2  # chunks ran in both worker processes
    counts = table_counts(db_url)
    assert counts["documents"] == counts["results"] == len(FILES)


def test_a_corrupt_model_stops_the_flow_before_a_batch_is_opened(
    prefect_harness: str, db_url: str, tmp_path: Path
) -> None:
    """As a deployment runs it (the `model` parameter from the UI): a model file that does not
    match its card fails the run with the reason and what to do, and opens no batch."""
    from flows.process_batch import process_batch

    inbox = small_inbox(tmp_path)
    models = tmp_path / "models"
    shutil.copytree(Path(__file__).resolve().parents[3] / "models", models)
    onnx = models / "digits.onnx"
    data = bytearray(onnx.read_bytes())
    data[len(data) // 2] ^= 0xFF  # bit rot in a weight: ONNX Runtime would load it
    onnx.write_bytes(bytes(data))

    with pytest.raises(ModelError) as err:
        process_batch(source=str(inbox), model=str(onnx))
    assert err.value.code is ReasonCode.MODEL_HASH_MISMATCH
    assert "its card" in err.value.message and "restore" in (err.value.hint or "")
    empty = table_counts(db_url)
    assert empty["batches"] == [] and empty["documents"] == empty["items"] == 0

    summary = process_batch(source=str(inbox), chunk_size=4)  # the pinned model: it completes
    assert summary.n_documents == summary.n_read == len(FILES)
    final = table_counts(db_url)
    assert final["documents"] == final["results"] == final["items"] == len(FILES)
