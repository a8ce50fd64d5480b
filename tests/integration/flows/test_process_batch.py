"""The `process-batch` flow under a real Prefect API, on real databases, over the committed sample.

What an operator would check: every file is one stored document with one result, a broken
file is an ``error`` row (the flow does not fail), a rerun reads nothing twice, the batch's
counts match the rows, the artifacts are there, and a database that stays down fails the flow
with a sentence and after the configured retries.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from db import batch_summaries, create_engine_from_url, session_scope, upgrade
from db.models import Batch, Document, Field, Page, Result
from db.testing import temporary_database
from hdr.errors import ReasonCode, StorageError, UsageError

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"
N_SAMPLE_FILES = 20
N_SAMPLE_PAGES = 22


def documents(url: str) -> dict[str, dict[str, Any]]:
    """Every stored document by file name: its results, statuses, pages and fields."""
    engine = create_engine_from_url(url)
    out: dict[str, dict[str, Any]] = {}
    try:
        with session_scope(engine) as s:
            for doc in s.scalars(select(Document)).all():
                results = s.scalars(select(Result).where(Result.document_id == doc.id)).all()
                ids = [r.id for r in results]
                out[Path(doc.source_uri).name] = {
                    "results": len(results),
                    "status": results[-1].status if results else None,
                    "reason": results[-1].reason_code if results else None,
                    "pages": s.scalar(select(func.count(Page.id)).where(Page.result_id.in_(ids))),
                    "fields": s.scalar(
                        select(func.count(Field.id)).where(Field.result_id.in_(ids))
                    ),
                }
    finally:
        engine.dispose()
    return out


def batches(url: str) -> list[Batch]:
    engine = create_engine_from_url(url)
    try:
        with session_scope(engine) as s:
            return list(s.scalars(select(Batch).order_by(Batch.id)).all())
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def first_run(
    prefect_harness: str, broken_pdf: bytes, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, Any]]:
    """One batch over the sample plus a broken PDF (read once, checked by several tests)."""
    from flows.process_batch import process_batch

    root = tmp_path_factory.mktemp("first-run")
    inbox = root / "inbox"
    shutil.copytree(SAMPLE, inbox)
    (inbox / "broken.pdf").write_bytes(broken_pdf)
    with pytest.MonkeyPatch.context() as mp, temporary_database("sqlite", root) as url:
        upgrade(url)
        mp.setenv("HDR_DB_URL", url)
        summary = process_batch(source=str(inbox), chunk_size=8)
        yield url, inbox, summary


def test_every_file_is_one_document_and_a_broken_one_an_error_row(first_run: Any) -> None:
    url, _, summary = first_run
    stored = documents(url)
    assert len(stored) == N_SAMPLE_FILES + 1
    assert all(d["results"] == 1 for d in stored.values())
    broken = stored.pop("broken.pdf")
    assert broken["status"] == "error" and broken["reason"] == ReasonCode.TRUNCATED_FILE.value
    assert broken["pages"] == 0
    assert {d["status"] for d in stored.values()} <= {"accepted", "review", "rejected"}
    assert sum(d["pages"] for d in stored.values()) == N_SAMPLE_PAGES
    # the flow reports what the database holds
    assert summary.n_inputs == N_SAMPLE_FILES + 1 and summary.n_ignored_files == 2
    assert summary.n_read == N_SAMPLE_FILES + 1 and summary.n_reused == 0
    assert summary.n_error == 1 and summary.errors[0][1] == "truncated_file"
    for status in ("accepted", "review", "rejected"):
        expected = sum(d["status"] == status for d in stored.values())
        assert getattr(summary, f"n_{status}") == expected


def test_the_batch_row_is_finished_with_the_counts_of_its_items(first_run: Any) -> None:
    url, inbox, summary = first_run
    (batch,) = batches(url)
    assert batch.id == summary.batch_id and batch.finished_at is not None
    assert batch.source == str(inbox) and batch.n_inputs == N_SAMPLE_FILES + 1
    engine = create_engine_from_url(url)
    with session_scope(engine) as s:
        (row,) = batch_summaries(s, summary.batch_id)
    engine.dispose()
    assert row.n_documents == summary.n_documents == N_SAMPLE_FILES + 1
    assert row.read_rate == pytest.approx(summary.read_rate)
    assert row.review_rate == pytest.approx(summary.review_rate)
    assert summary.slowest_stage in summary.stage_seconds
    assert {"locate", "recognize", "store", "hash"} <= set(summary.stage_seconds)


def test_artifacts_hold_the_summary_and_the_fields_waiting_for_review(first_run: Any) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    url, _, summary = first_run
    key = f"batch-{summary.batch_id}"
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[summary.flow_run_id]))
        )
    by_key = {a.key: a for a in found}
    markdown = str(by_key[f"{key}-summary"].data)
    assert f"# Batch {summary.batch_id}" in markdown and "**Read rate**" in markdown
    assert "| error | 1 |" in markdown and "broken.pdf" in markdown and "Slowest stage" in markdown
    table = by_key[f"{key}-review"].data
    rows = table if isinstance(table, list) else json.loads(table)
    engine = create_engine_from_url(url)
    with session_scope(engine) as s:
        in_review = s.scalar(select(func.count(Field.id)).where(Field.status == "review"))
    engine.dispose()
    assert (
        len([r for r in rows if r.get("field_id") != ""]) == in_review == summary.n_fields_in_review
    )
    if in_review:
        assert {"field_id", "value", "confidence", "flags", "source"} <= set(rows[0])


def test_a_rerun_reads_nothing_twice(first_run: Any) -> None:
    from flows.process_batch import process_batch

    url, inbox, first = first_run
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HDR_DB_URL", url)
        again = process_batch(source=str(inbox), chunk_size=8)
    assert again.batch_id != first.batch_id
    assert again.n_read == 0 and again.n_reused == again.n_documents == N_SAMPLE_FILES + 1
    assert (again.n_accepted, again.n_review, again.n_error) == (
        first.n_accepted,
        first.n_review,
        first.n_error,
    )
    stored = documents(url)
    assert len(stored) == N_SAMPLE_FILES + 1 and all(d["results"] == 1 for d in stored.values())


def test_glob_source_and_archive_keep_the_folder_layout(
    prefect_harness: str, db_url: str, tmp_path: Path
) -> None:
    from flows.process_batch import process_batch

    inbox = tmp_path / "share"
    (inbox / "monday").mkdir(parents=True)
    shutil.copy(SAMPLE / "doc_0002.png", inbox / "monday" / "a.png")
    shutil.copy(SAMPLE / "doc_0004.tif", inbox / "b.tif")
    (inbox / "notes.txt").write_text("not a scan")
    archive = tmp_path / "archive"
    summary = process_batch(
        source=[str(inbox / "**" / "*.png"), str(inbox / "b.tif")],
        move_processed_to=str(archive),
    )
    assert summary.n_documents == 2 and summary.archived == 2 and not summary.archive_failures
    assert (archive / "a.png").is_file() and (archive / "b.tif").is_file()
    assert not (inbox / "monday" / "a.png").exists() and (inbox / "notes.txt").exists()
    assert set(documents(db_url)) == {"a.png", "b.tif"}


def test_an_unknown_model_stops_before_any_batch(
    prefect_harness: str, db_url: str, inbox: Path
) -> None:
    from flows.process_batch import process_batch

    with pytest.raises(UsageError) as err:
        process_batch(source=str(inbox), model="deadbeef00")
    assert err.value.code is ReasonCode.NOT_FOUND and "deadbeef00" in err.value.message
    assert batches(db_url) == []


def test_a_database_that_stays_down_fails_the_flow_after_its_retries(
    prefect_harness: str, inbox: Path, free_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.process_batch import process_batch

    monkeypatch.setenv("HDR_DB_URL", f"postgresql+psycopg://postgres@127.0.0.1:{free_port}/x")
    monkeypatch.setenv("HDR_FLOWS_RETRIES__ATTEMPTS", "2")
    state = process_batch(source=str(inbox), return_state=True)
    assert state.is_failed()
    assert "cannot reach the results database" in (state.message or "")
    with pytest.raises(StorageError) as err:
        state.result()
    assert err.value.code is ReasonCode.DB_UNAVAILABLE
    assert "127.0.0.1" in err.value.message and "HDR_DB_URL" in (err.value.hint or "")
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(any_=[state.state_details.flow_run_id])
            )
        )
    (first_db_task,) = [r for r in runs if r.name.startswith("choose-model")]
    assert first_db_task.run_count == 3  # the first try and the 2 configured retries
    assert not [r for r in runs if r.name.startswith("read-and-store-chunk")]
