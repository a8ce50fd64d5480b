"""Reading uploads: a worker thread inside the app, or a Prefect deployment run.

>>> worker = UploadWorker(engine, pipeline_cfg, web_cfg, uploads_root)
>>> worker.start()                 # takes back jobs left queued or running by a stopped app
>>> worker.submit(job_id)          # the job's files are read, stored, and the job closed
>>> worker.stop()

The in-app worker loads the classifier and the templates once, then reads each job's files
with :func:`hdr.pipeline.read_documents` into a new batch (``db.start_batch`` ...
``db.finish_batch``), recording each file's document and status as it goes, so the batch
page shows progress. A bad file never fails the job: the pipeline gives it status ``error``.

With ``web.prefect_deployment`` set and ``PREFECT_API_URL`` in the environment, a job is
handed to that deployment (``process-batch/adhoc``) with the job's folder as ``source``;
:func:`refresh_remote` then follows the flow run and links the batch it opened.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, select

from db import BatchCounts, batch_counts, finish_batch, session_scope, start_batch, store_document
from db.models import Document, Result, UploadJob
from db.uploads import (
    batch_for_source,
    claim_job,
    finish_job,
    get_job,
    record_file_result,
    set_flow_run,
    set_job_batch,
    unfinished_job_ids,
)
from hdr.config import PipelineConfig, config_hash
from hdr.errors import HdrError
from web.config import WebConfig

log = logging.getLogger("web.worker")


def _summary(counts: BatchCounts) -> str:
    return (
        f"{counts.n_documents} documents: {counts.n_accepted} accepted, "
        f"{counts.n_review} for review, {counts.n_rejected} rejected, {counts.n_error} errors"
    )


class UploadWorker:
    """One background thread that reads upload jobs in the order they were sent."""

    def __init__(
        self, engine: Engine, pipeline: PipelineConfig, cfg: WebConfig, uploads_root: Path
    ) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self.cfg = cfg
        self.uploads_root = uploads_root
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._reader: tuple[Any, list[Any]] | None = None
        self._reader_lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="hdr-upload-worker", daemon=True)
        self._thread.start()
        with session_scope(self.engine) as session:
            for job_id in unfinished_job_ids(session):
                self._queue.put(job_id)

    def stop(self, timeout: float = 30.0) -> None:
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None

    def submit(self, job_id: int) -> None:
        """Read this job (in the app, or on the Prefect deployment when one is configured)."""
        if self.cfg.prefect_enabled():
            self._submit_remote(job_id)
        else:
            self._queue.put(job_id)

    def idle(self) -> bool:
        return self._queue.unfinished_tasks == 0

    # ------------------------------------------------------------------ in the app

    def _run(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                self._queue.task_done()
                return
            try:
                self.process(job_id)
            except Exception as exc:  # a bug or a lost database: the job says so, we go on
                log.exception("upload job %s failed", job_id)
                self._fail(job_id, f"{type(exc).__name__}: {exc}")
            finally:
                self._queue.task_done()

    def _fail(self, job_id: int, message: str) -> None:
        try:
            with session_scope(self.engine, write=True) as session:
                finish_job(session, job_id, "failed", message=message[:2000])
        except HdrError:
            log.exception("cannot record the failure of upload job %s", job_id)

    def reader(self) -> tuple[Any, list[Any]]:
        """The classifier (checked against its sha256 pin) and the templates, loaded once."""
        with self._reader_lock:
            if self._reader is None:
                from hdr.classify.predictor import load_classifier
                from hdr.fields.templates import load_templates

                ref = self.pipeline.model
                classifier = load_classifier(
                    self.pipeline.resolve(ref.path), ref.sha256, ref.backend
                )
                templates = list(load_templates(self.pipeline.resolve(self.pipeline.templates_dir)))
                self._reader = (classifier, templates)
            return self._reader

    def process(self, job_id: int) -> None:
        """Read every file of a job into a new batch and close the job."""
        from hdr.pipeline import read_documents

        with session_scope(self.engine, write=True) as session:
            job = claim_job(session, job_id)
            if job is None:
                return
            folder = self.uploads_root / job.folder
            files = [(f.position, folder / f.stored_name) for f in job.files]
            who = f"web:{job.created_by}"
        try:
            classifier, templates = self.reader()
        except HdrError as err:
            self._fail(job_id, str(err))
            return
        card_dict = dataclasses.asdict(classifier.card)  # hdr.classify.card.ModelCard
        with session_scope(self.engine, write=True) as session:
            batch_id = start_batch(
                session,
                str(folder),
                who,
                classifier.sha256,
                config_hash(self.pipeline),
                card_dict,
            )
            set_job_batch(session, job_id, batch_id)
        results = read_documents(
            [str(path) for _, path in files],
            self.pipeline,
            classifier=classifier,
            templates=templates,
            workers=1,
        )
        for (position, _path), result in zip(files, results, strict=True):
            stored = store_document(self.engine, batch_id, result)
            with session_scope(self.engine, write=True) as session:
                record_file_result(
                    session,
                    job_id,
                    position,
                    stored.document_id,
                    result.status.value,
                    result.reason_code,
                )
        with session_scope(self.engine, write=True) as session:
            counts = finish_batch(session, batch_id, n_inputs=len(files))
            finish_job(session, job_id, "done", batch_id=batch_id, message=_summary(counts))

    # ------------------------------------------------------------------ on a Prefect server

    def _submit_remote(self, job_id: int) -> None:
        from prefect.deployments import run_deployment

        with session_scope(self.engine) as session:
            job = get_job(session, job_id)
            folder, who = str(self.uploads_root / job.folder), f"web:{job.created_by}"
        try:
            with prefect_api():
                run = run_deployment(
                    name=str(self.cfg.prefect_deployment),
                    parameters={"source": folder, "created_by": who},
                    timeout=0,  # do not wait: the batch page follows it
                    tags=["web-upload"],
                )
        except Exception as exc:  # server down, unknown deployment: the job says which
            self._fail(job_id, f"cannot start the Prefect deployment: {exc}")
            return
        with session_scope(self.engine, write=True) as session:
            set_flow_run(session, job_id, str(run.id))  # type: ignore[union-attr]


@contextlib.contextmanager
def prefect_api() -> Iterator[None]:
    """Prefect calls go to ``$PREFECT_API_URL`` as it is now, in whichever thread they run
    (Prefect reads its settings once, at import, and per thread context)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: os.environ["PREFECT_API_URL"]}):
        yield


def refresh_remote(engine: Engine, job_id: int, uploads_root: Path) -> None:
    """Follow a job's Prefect flow run: link its batch, close the job when the run ends."""
    with session_scope(engine) as session:
        job = session.get(UploadJob, job_id)
        if job is None or job.flow_run_id is None or job.status in ("done", "failed"):
            return
        flow_run_id, source = job.flow_run_id, str(uploads_root / job.folder)
    from prefect.client.orchestration import get_client

    with prefect_api(), get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(flow_run_id)).state
    with session_scope(engine, write=True) as session:
        batch_id = batch_for_source(session, source)
        if batch_id is not None:
            set_job_batch(session, job_id, batch_id)
        if state is None or not state.is_final():
            return
        if not state.is_completed():
            finish_job(session, job_id, "failed", message=f"flow run {state.name}")
            return
        job = get_job(session, job_id)
        found = session.execute(
            select(Document.sha256, Document.id, Result.read_status, Result.reason_code)
            .join(Result, (Result.document_id == Document.id) & Result.is_current)
            .where(Document.sha256.in_([f.sha256 for f in job.files]))
        ).all()
        by_sha = {row.sha256: row for row in found}
        for f in job.files:
            row = by_sha.get(f.sha256)
            if row is not None:
                record_file_result(
                    session, job_id, f.position, row.id, row.read_status, row.reason_code
                )
        message = _summary(batch_counts(session, batch_id)) if batch_id is not None else None
        finish_job(session, job_id, "done", batch_id=batch_id, message=message)
