"""The tasks of `process-batch`: thin wrappers that call hdr (reading) and db (storing).

Each task is a plain function underneath (``list_inputs.fn("inbox/")`` runs it without
Prefect). Retries are declared only where I/O fails transiently: listing and moving files
on a share (:class:`flows.inputs.TransientIOError`) and the database
(``StorageError(DB_UNAVAILABLE)``); the flow sets their count and backoff from
configs/flows.yaml. A broken document never fails a task: the pipeline turns it into a
result with status ``error``, which is stored like any other.

A chunk is many documents in one task (one task per page would cost a task run, its state
changes and its events per page: docs/BENCHMARKS.md, "Orchestration", measures it).
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NONE
from sqlalchemy import func, select

from db import (
    BatchCounts,
    batch_summaries,
    content_key,
    finish_batch,
    session_scope,
    start_batch,
    store_document,
)
from db.models import Batch, BatchItem, Document, ModelVersion, Result
from db.queries import v_review_queue
from flows import progress
from flows.inputs import (
    SourceFiles,
    TransientIOError,
    archive_destination,
    expand_source,
    file_sha256,
    is_transient_os_error,
    move_to_archive,
)
from flows.models import ModelChoice
from flows.readahead import take_read_ahead
from flows.report import ChunkReport, DocumentOutcome
from flows.runtime import engine_for, get_logger, reader_for
from hdr.config import PipelineConfig
from hdr.errors import ReasonCode, StorageError, UsageError
from hdr.types import DocumentResult, Status


def retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry an unreachable database or a share that blinks."""
    try:
        state.result()
    except StorageError as exc:
        return exc.code is ReasonCode.DB_UNAVAILABLE
    except OSError as exc:
        return is_transient_os_error(exc)
    except BaseException:
        return False
    return False


@dataclass(frozen=True)
class ChunkJob:
    """Everything a chunk task needs, picklable for a Dask worker on another machine."""

    batch_id: int
    db_url: str
    model: ModelChoice
    pipeline: PipelineConfig
    read_attempts: int = 3
    read_backoff_seconds: float = 0.5
    read_threads: int | None = None  # the pipeline's threads per chunk (None: its default)


@task(
    name="list-inputs",
    retries=3,
    retry_delay_seconds=[2, 4, 8],
    cache_policy=NONE,
    retry_condition_fn=retry_if_transient,
)
def list_inputs(source: str | list[str]) -> SourceFiles:
    """The files of ``source`` (folder, glob, file or list), sorted, each once."""
    found = expand_source(source)
    get_logger().info("%d files in %s", len(found.paths), source)
    return found


@task(
    name="open-batch",
    retries=3,
    retry_delay_seconds=[2, 4, 8],
    cache_policy=NONE,
    retry_condition_fn=retry_if_transient,
)
def open_batch(
    db_url: str,
    source: str,
    created_by: str,
    model: ModelChoice,
    config_hash: str,
    resume_batch: int | None = None,
) -> int:
    """A new batch row, or ``resume_batch`` when it was read with the same model."""
    engine = engine_for(db_url)
    with session_scope(engine, write=True) as session:
        if resume_batch is None:
            return start_batch(session, source, created_by, model.sha256, config_hash, model.card)
        batch = session.get(Batch, resume_batch)
        if batch is None:
            raise UsageError(ReasonCode.NOT_FOUND, f"no batch with id {resume_batch} to resume")
        if batch.model_version.sha256 != model.sha256:
            raise UsageError(
                ReasonCode.USAGE,
                f"batch {resume_batch} was read with model {batch.model_version.sha256[:12]}, "
                f"not {model.sha256[:12]}",
                hint="resume it with the same model, or start a new batch",
            )
        return batch.id


def _already_stored(
    engine: Any, digests: dict[str, str | None], model_sha256: str
) -> dict[str, str | None]:
    """The paths this model already read, with the sha256 their document is stored under.

    A file the pipeline could not open (empty, not an image) is stored under its path
    (``content_key``), not its bytes: both keys are checked, for the whole chunk in one query
    (the question of ``db.already_processed``, asked once instead of twice per document).
    """

    def by_path(path: str) -> str:
        return content_key(DocumentResult(path, None, None, Status.ERROR))

    candidates = {p: ((digest, digest), (by_path(p), None)) for p, digest in digests.items()}
    keys = {key for pairs in candidates.values() for key, _ in pairs if key}
    if not keys:
        return {}
    with session_scope(engine) as session:
        stored = set(
            session.scalars(
                select(Document.content_key)
                .join(Result, Result.document_id == Document.id)
                .join(ModelVersion, ModelVersion.id == Result.model_version_id)
                .where(Document.content_key.in_(keys), ModelVersion.sha256 == model_sha256)
            )
        )
    done: dict[str, str | None] = {}
    for path, pairs in candidates.items():
        for key, sha in pairs:
            if key and key in stored:
                done[path] = sha
                break
    return done


def _record_seen(engine: Any, batch_id: int, path: str, sha256: str | None) -> None:
    # The result exists (checked just before, and results are never deleted): store_document
    # then only adds this batch's item for it, marked reused. The status here is not stored.
    store_document(engine, batch_id, DocumentResult(path, sha256, None, Status.ERROR))


@task(
    name="read-and-store-chunk",
    retries=3,
    retry_delay_seconds=[2, 4, 8],
    cache_policy=NONE,
    retry_condition_fn=retry_if_transient,
)
def read_and_store_chunk(paths: list[str], job: ChunkJob) -> ChunkReport:
    """Read the documents of a chunk and store each one (one transaction per document).

    Documents already stored with this model version are not read again; this is also how a
    retried chunk, or a rerun after a crash, carries on where it stopped.
    """
    report = ChunkReport(worker=f"{socket.gethostname()}:{os.getpid()}")
    engine = engine_for(job.db_url)
    t0 = time.perf_counter()
    digests = {p: file_sha256(p, job.read_attempts, job.read_backoff_seconds) for p in paths}
    report.add_time("hash", time.perf_counter() - t0)

    t0 = time.perf_counter()
    done = _already_stored(engine, digests, job.model.sha256)
    for path in paths:
        if path in done:
            _record_seen(engine, job.batch_id, path, done[path])
            report.outcomes.append(DocumentOutcome(path, "skipped"))
    report.add_time("skip_check", time.perf_counter() - t0)
    if done:
        progress.emit(progress.ProgressEvent("document", sources=tuple(done), status="skipped"))

    todo = [p for p in paths if p not in done]
    # `hdr batch` may have read the first ones while its Prefect API started (same model,
    # same configuration; taken only for the very bytes hashed above)
    ahead = {
        path: result
        for path, result in take_read_ahead(todo, job.model, job.pipeline).items()
        if result.sha256 is not None and result.sha256 == digests.get(path)
    }
    for result in ahead.values():
        _store(engine, job, result, report)
    todo = [p for p in todo if p not in ahead]
    if todo:
        from hdr.pipeline import read_documents

        t0 = time.perf_counter()
        m = job.model
        classifier, templates = reader_for(m.path, m.sha256, m.backend, job.pipeline)
        report.add_time("model_load", time.perf_counter() - t0)
        results = read_documents(
            todo,
            job.pipeline,
            classifier=classifier,
            templates=templates,
            workers=job.read_threads,
        )
        for result in results:
            _store(engine, job, result, report)
    return report


def _store(engine: Any, job: ChunkJob, result: DocumentResult, report: ChunkReport) -> None:
    t0 = time.perf_counter()
    stored = store_document(engine, job.batch_id, result)
    report.add_time("store", time.perf_counter() - t0)
    for stage, secs in result.timings.items():
        report.add_time(stage, secs)
    report.outcomes.append(
        DocumentOutcome(
            source=result.source,
            status=result.status.value,
            reason_code=result.reason_code,
            message=result.reason_message,
            seconds=round(sum(result.timings.values()), 4),
            created=stored.created,
        )
    )
    progress.emit(
        progress.ProgressEvent("document", sources=(result.source,), status=result.status.value)
    )


@dataclass(frozen=True)
class ClosedBatch:
    counts: BatchCounts
    n_reused: int
    n_fields_in_review: int  # all of them; ``review_rows`` holds the first ``review_limit``
    review_rows: list[Any]


@task(
    name="close-batch",
    retries=3,
    retry_delay_seconds=[2, 4, 8],
    cache_policy=NONE,
    retry_condition_fn=retry_if_transient,
)
def close_batch(db_url: str, batch_id: int, n_inputs: int, review_limit: int = 500) -> ClosedBatch:
    """Record the batch's end and counts; fetch the fields of its documents waiting for review."""
    engine = engine_for(db_url)
    with session_scope(engine, write=True) as session:
        counts = finish_batch(session, batch_id, n_inputs=n_inputs)
    with session_scope(engine) as session:
        (row,) = batch_summaries(session, batch_id)
        q = v_review_queue.c
        in_batch = q.document_id.in_(
            select(BatchItem.document_id).where(BatchItem.batch_id == batch_id)
        )
        rows = list(
            session.execute(
                select(v_review_queue).where(in_batch).order_by(q.field_id).limit(review_limit)
            ).all()
        )
        n_fields = session.scalar(select(func.count()).select_from(v_review_queue).where(in_batch))
    return ClosedBatch(counts, int(row.n_reused or 0), int(n_fields or 0), rows)


@task(
    name="archive-files",
    retries=3,
    retry_delay_seconds=[2, 4, 8],
    cache_policy=NONE,
    retry_condition_fn=retry_if_transient,
)
def archive_files(paths: list[str], roots: list[str], archive: str) -> tuple[int, list[str]]:
    """Move stored files into ``archive`` (their layout under the source folder kept).

    Returns how many moved and, for each file that cannot be moved for good (permission,
    disk full), a line saying why. A transient failure raises, so the task is retried; the
    files moved by the first try are gone from the source and are not moved twice.
    """
    moved, failures, transient = 0, [], None
    archive_dir = Path(archive).expanduser()
    root_paths = [Path(r) for r in roots]
    for text in paths:
        path = Path(text)
        if not path.exists():
            continue
        try:
            move_to_archive(path, archive_destination(path, root_paths, archive_dir))
            moved += 1
        except OSError as exc:
            if is_transient_os_error(exc):
                transient = exc
            else:
                failures.append(f"{path}: {exc.strerror or exc}")
    if transient is not None:
        raise TransientIOError(transient.errno, f"archive {archive}: {transient.strerror}")
    return moved, failures
