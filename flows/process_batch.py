"""The `process-batch` flow: read a folder, a glob or a list of files and store every result.

Deployed as ``process-batch/nightly`` (cron, over the configured inbox) and
``process-batch/adhoc`` (started from the UI) by prefect.yaml; run locally without a server
by ``hdr batch SOURCE`` (Prefect's ephemeral mode).

>>> from flows.process_batch import process_batch
>>> summary = process_batch(source="tests/resources/sample", chunk_size=8)   # doctest: +SKIP
>>> summary.n_documents, summary.read_rate                                  # doctest: +SKIP
(20, 0.55)

The database is ``HDR_DB_URL`` of the process that runs the flow (a worker, or `hdr batch
--db-url`), never a parameter: parameters are shown in the UI, passwords must not be.
Chunks run in this process (``batch.local_workers`` threads), or on a Dask cluster when
``dask.address`` is configured (``HDR_FLOWS_DASK__ADDRESS``); see README "Scale-out".
"""

from __future__ import annotations

import contextlib
import getpass
import os
import time
from pathlib import Path
from typing import Annotated, Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture, as_completed
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import Field

from db.ingest import storable_text
from db.session import redact
from flows import progress
from flows.config import FlowsConfig, load_flows_config
from flows.ephemeral import TemporaryApi
from flows.inputs import as_parameter, expand_source
from flows.models import ModelChoice, resolve_model
from flows.readahead import reading_ahead
from flows.report import BatchSummary, ChunkReport, merge_chunks, review_table
from flows.runtime import engine_for, get_logger, reader_for
from flows.tasks import (
    ChunkJob,
    archive_files,
    close_batch,
    list_inputs,
    open_batch,
    read_and_store_chunk,
    retry_if_transient,
)
from hdr.config import PipelineConfig, Settings, config_hash, load_pipeline_config
from hdr.errors import ModelError, ReasonCode, StorageError

DEFAULT_CHUNK_SIZE = 32


def default_task_runner(cfg: FlowsConfig | None = None) -> Any:
    """Dask when ``dask.address`` is configured, else a thread pool in this process."""
    cfg = cfg or load_flows_config()
    if cfg.dask.address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=cfg.dask.address)
    return ThreadPoolTaskRunner(max_workers=cfg.batch.local_workers)


@task(
    name="choose-model",
    retries=3,
    retry_delay_seconds=[2, 4, 8],
    cache_policy=NONE,
    retry_condition_fn=retry_if_transient,
)
def choose_model(spec: str, db_url: str, pipeline: PipelineConfig) -> ModelChoice:
    """Resolve the ``model`` parameter (reads the registry in the database) and load it once:
    a missing, corrupt or replaced model file fails the run here, before a batch is opened."""
    choice = resolve_model(spec, engine_for(db_url), pipeline)
    check_model(choice, pipeline)
    return choice


_RESTORE_MODEL = (
    "restore the model file together with its card (NAME.card.json), e.g. from models/ in the "
    "repository, or point $HDR_MODEL or the `model` parameter at a good copy; then run again"
)


def check_model(choice: ModelChoice, pipeline: PipelineConfig) -> None:
    """ModelError unless the chosen file is the one its card describes and it loads.

    A file given by path has no pin in the configuration: its card (written when it was
    trained) is what vouches for it, so a flipped byte is caught before it reads a cheque.
    """
    kind = "state_dict" if choice.path.endswith(".pt") else "onnx"
    recorded = ((choice.card.get("files") or {}).get(kind) or {}).get("sha256")
    if recorded and recorded != choice.sha256:
        raise ModelError(
            ReasonCode.MODEL_HASH_MISMATCH,
            f"model {choice.path} has sha256 {choice.sha256[:16]}..., but its card records "
            f"{recorded[:16]}...: the file is corrupt or was replaced without its card",
            hint=_RESTORE_MODEL,
        )
    try:
        reader_for(choice.path, choice.sha256, choice.backend, pipeline)  # cached for chunks
    except ModelError as exc:
        if exc.hint:
            raise
        raise ModelError(exc.code, exc.message, hint=_RESTORE_MODEL) from exc


@flow(name="process-batch", task_runner=default_task_runner(), log_prints=False)
def process_batch(
    source: str | list[str],
    chunk_size: Annotated[int, Field(ge=1, le=5000)] = DEFAULT_CHUNK_SIZE,
    model: Annotated[str, Field(min_length=1, max_length=4096)] = "default",
    move_processed_to: str | None = None,
    created_by: Annotated[str | None, Field(max_length=128)] = None,
    resume_batch: Annotated[int | None, Field(ge=1)] = None,
) -> BatchSummary:
    """Read every document of `source` and store the results in the results database.

    Args:
        source: A folder (walked recursively), a glob such as /shares/scans/*.pdf, one file,
            or a list of these.
        chunk_size: Documents per task. Larger chunks cost less orchestration; smaller ones
            spread better over many workers.
        model: "default" (the promoted model, else the one pinned in configs/pipeline.yaml),
            the sha256 (8+ digits) of a registered model version, or a model file path.
        move_processed_to: A folder to move each file into once its result is stored
            (empty: leave the files where they are).
        created_by: Who asked for this batch (default: the deployment, or the user).
        resume_batch: Continue this batch id (after a crash) instead of starting a new one.
    """
    started = time.perf_counter()
    cfg = load_flows_config()
    pipeline = load_pipeline_config()
    db_url = Settings().db_url_or_default()
    retry: dict[str, Any] = {
        "retries": cfg.retries.attempts,
        "retry_delay_seconds": cfg.retries.delays(),
        "retry_jitter_factor": cfg.retries.jitter_factor or None,
    }
    log = get_logger()

    found = list_inputs.with_options(**retry)(source)
    choice = choose_model.with_options(**retry)(model, db_url, pipeline)
    batch_id = open_batch.with_options(**retry)(
        db_url, _label(source), created_by or _who(), choice, config_hash(pipeline), resume_batch
    )
    log.info(
        "batch %d: %d files, model %s (%s)",
        batch_id,
        len(found.paths),
        choice.sha256[:12],
        choice.origin,
    )
    progress.emit(progress.ProgressEvent("start", total=len(found.paths), batch_id=batch_id))

    workers, on_dask = _workers(cfg)
    job = ChunkJob(
        batch_id,
        db_url,
        choice,
        pipeline,
        cfg.retries.read_attempts,
        cfg.retries.read_backoff_seconds,
        cfg.dask.read_threads if on_dask else _read_threads(cfg, workers),
    )
    chunks = [found.paths[i : i + chunk_size] for i in range(0, len(found.paths), chunk_size)]
    reports = _run_chunks(chunks, job, retry, cfg.batch.max_in_flight or workers + 1)
    stages, outcomes = merge_chunks(reports)

    closed = close_batch.with_options(**retry)(db_url, batch_id, len(found.paths))
    summary = BatchSummary(
        batch_id=batch_id,
        source=_label(source),
        database=redact(db_url),
        model_sha256=choice.sha256,
        model_origin=choice.origin,
        n_inputs=len(found.paths),
        n_ignored_files=len(found.skipped),
        n_read=sum(o.status != "skipped" for o in outcomes),
        n_reused=closed.n_reused,
        n_documents=closed.counts.n_documents,
        n_accepted=closed.counts.n_accepted,
        n_review=closed.counts.n_review,
        n_rejected=closed.counts.n_rejected,
        n_error=closed.counts.n_error,
        n_fields_in_review=closed.n_fields_in_review,
        errors=[  # readable text (a name that is not UTF-8 escaped) for the artifact and UI
            (storable_text(o.source), o.reason_code or "", storable_text(o.message or ""))
            for o in outcomes
            if o.status == "error"
        ],
        stage_seconds=stages,
        chunks=len(chunks),
        workers=len({r.worker for r in reports}),
        flow_run_id=_flow_run_id(),
    )
    if move_processed_to and outcomes:
        _archive(summary, [o.source for o in outcomes], found.roots, move_processed_to, retry)
    summary.wall_seconds = round(time.perf_counter() - started, 2)
    _publish(summary, closed.review_rows)
    return summary


def _run_chunks(
    chunks: list[list[str]], job: ChunkJob, retry: dict[str, Any], window: int
) -> list[ChunkReport]:
    """Submit chunk tasks ``window`` at a time; stop submitting once the database is lost."""
    chunk_task = read_and_store_chunk.with_options(**retry)
    todo = iter(chunks)
    pending: list[PrefectFuture[ChunkReport]] = []
    reports: list[ChunkReport] = []
    failure: BaseException | None = None

    def submit_next() -> None:
        chunk = next(todo, None)
        if chunk is not None:
            pending.append(chunk_task.submit(chunk, job))

    for _ in range(max(1, window)):
        submit_next()
    while pending:
        future = next(as_completed(pending))
        pending.remove(future)
        try:
            report = future.result()
        except BaseException as exc:  # the task already retried what was transient
            failure = failure or exc
            continue
        reports.append(report)
        progress.emit(
            progress.ProgressEvent("chunk", sources=report.sources, batch_id=job.batch_id)
        )
        if failure is None:
            submit_next()
    if failure is not None:
        raise _explain(failure, job)
    return reports


def _explain(failure: BaseException, job: ChunkJob) -> BaseException:
    if not isinstance(failure, StorageError):
        return failure
    return StorageError(
        failure.code,
        f"batch {job.batch_id} stopped: {failure.message}; the documents stored before are "
        "complete (each one is one transaction), the others are not stored",
        hint=f"when the database is back, run the same source again with resume_batch="
        f"{job.batch_id}: stored documents are skipped",
    )


def _archive(
    summary: BatchSummary,
    paths: list[str],
    roots: list[str],
    folder: str,
    retry: dict[str, Any],
) -> None:
    state = archive_files.with_options(**retry)(paths, roots, folder, return_state=True)
    if state.is_completed():
        _, failures = state.result()
        summary.archive_failures = [storable_text(f) for f in failures]
    else:
        summary.archive_failures = [f"{folder}: {state.message}"]
    summary.archived = sum(not Path(p).exists() for p in paths)


def _publish(summary: BatchSummary, review_rows: list[Any]) -> None:
    key = f"batch-{summary.batch_id}"
    create_markdown_artifact(
        summary.to_markdown(), key=f"{key}-summary", description=f"Batch {summary.batch_id}"
    )
    rows = review_table(review_rows)
    create_table_artifact(
        rows or [{"field_id": "", "field": "", "value": "no field waits for review"}],
        key=f"{key}-review",
        description=f"Batch {summary.batch_id}: {len(rows)} field(s) waiting for review",
    )


def _workers(cfg: FlowsConfig) -> tuple[int, bool]:
    """How many chunks can run at once, and whether they run on Dask."""
    ctx = FlowRunContext.get()
    runner = getattr(ctx, "task_runner", None)
    if isinstance(runner, ThreadPoolTaskRunner):
        return min(int(runner._max_workers), 1024), False
    if runner is not None and type(runner).__name__ == "DaskTaskRunner":
        try:  # one chunk per worker thread of the cluster
            return max(1, sum(runner.client.nthreads().values())), True
        except Exception:  # a cluster that cannot say: be modest
            return 2, True
    return cfg.batch.local_workers, False


def _read_threads(cfg: FlowsConfig, chunks_at_once: int) -> int:
    """Pipeline threads per chunk read in this process: ``batch.read_threads``, or else as many
    in all as `hdr read` uses (the pipeline's default: the CPU count, at most 4), shared by
    the chunks read at once. Two chunks of one thread each on 2 cores: while one chunk
    starts, hashes, stores or classifies its last glyphs, the other keeps reading, where one
    chunk of two threads leaves a core idle at each chunk's end."""
    if cfg.batch.read_threads:
        return cfg.batch.read_threads
    return max(1, min(4, os.cpu_count() or 1) // max(1, chunks_at_once))


def _flow_run_id() -> str | None:
    from prefect.runtime import flow_run

    return str(flow_run.id) if flow_run.id else None


def _label(source: str | list[str]) -> str:
    if isinstance(source, str):
        return source
    head = ", ".join(source[:3])
    return head + (f" (+{len(source) - 3} more)" if len(source) > 3 else "")


def _who() -> str:
    from prefect.runtime import deployment, flow_run

    name = deployment.name
    if name:
        return f"prefect:{flow_run.flow_name or 'process-batch'}/{name}"[:128]
    try:
        return getpass.getuser()[:128]
    except Exception:  # no user name in a container
        return "hdr"


def run_local(
    source: str | list[str],
    *,
    chunk_size: int | None = None,
    model: str = "default",
    move_processed_to: str | None = None,
    dask_address: str | None = None,
    resume_batch: int | None = None,
    listener: progress.Listener | None = None,
    api: TemporaryApi | None = None,
) -> BatchSummary:
    """Run the flow in this process (what `hdr batch` does); ``listener`` sees the progress.

    A file name that is not UTF-8 is passed as a ``file://`` URI (a flow parameter is JSON).
    ``api``: the temporary Prefect API `hdr batch` started first (:mod:`flows.ephemeral`);
    the flow reports to it once it answers.

    >>> summary = run_local("inbox/", dask_address="tcp://127.0.0.1:8786")   # doctest: +SKIP
    """
    items = [source] if isinstance(source, str) else source
    params = [as_parameter(s) for s in items]
    source = params[0] if isinstance(source, str) else params
    flow_obj = process_batch
    if dask_address:
        from prefect_dask import DaskTaskRunner

        runner: Any = DaskTaskRunner(address=dask_address)
        flow_obj = process_batch.with_options(task_runner=runner)
    kwargs: dict[str, Any] = {
        "model": model,
        "move_processed_to": move_processed_to,
        "resume_batch": resume_batch,
    }
    if chunk_size is not None:
        kwargs["chunk_size"] = chunk_size
    started = time.perf_counter()
    ahead = False
    with contextlib.ExitStack() as stack:
        if api is not None and not dask_address and load_flows_config().batch.read_ahead:
            stack.enter_context(_first_chunk_ahead(source, chunk_size or DEFAULT_CHUNK_SIZE, model))
            ahead = True
        stack.enter_context(_reporting_to(api))
        if listener is not None:
            stack.enter_context(progress.listening(listener))
        summary = flow_obj(source, **kwargs)
        if ahead:  # the flow's clock starts after the documents read ahead: count them too
            elapsed = time.perf_counter() - started
            summary.ahead_seconds = round(max(0.0, elapsed - summary.wall_seconds), 2)
        return summary
    raise AssertionError("unreachable")  # pragma: no cover - an ExitStack may swallow


def _first_chunk_ahead(
    source: str | list[str], chunk_size: int, model: str
) -> contextlib.AbstractContextManager[Any]:
    """Read the first chunk's documents ahead (:mod:`flows.readahead`), when all is known."""
    try:
        pipeline = load_pipeline_config()
        db_url = Settings().db_url_or_default()
        choice = resolve_model(model, engine_for(db_url), pipeline)
        paths = expand_source(source).paths[:chunk_size]
    except Exception:  # the flow's own tasks meet the same problem and report it
        return contextlib.nullcontext()
    return reading_ahead(paths, choice, pipeline, db_url)


def _reporting_to(api: TemporaryApi | None) -> contextlib.AbstractContextManager[Any]:
    """Prefect settings that point the flow at ``api`` once it answers; none without one.

    A server that Prefect's own settings name (a profile's ``PREFECT_API_URL``) wins, as it
    would without ``api``, and so does a disabled ephemeral mode: ``api`` is stopped unused.
    The flow run sends no heartbeats to ``api``: they tell a lasting server that a run
    still lives, and this one stops with the process (Prefect's heartbeat thread also held
    the end of every run up to 1 s).
    """
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_ENABLED,
        temporary_settings,
    )

    if api is None:
        return contextlib.nullcontext()
    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        api.stop()
        return contextlib.nullcontext()
    url = api.wait()
    return temporary_settings(updates={PREFECT_API_URL: url, "flows.heartbeat_frequency": None})


__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "check_model",
    "choose_model",
    "default_task_runner",
    "process_batch",
    "run_local",
]
