"""Upload jobs of the review web app: which files a person sent, and how far their reading got.

>>> with session_scope(engine, write=True) as session:
...     job = create_job(session, user, "files", "a.png, b.pdf", folder="3f9c...",
...                      files=[NewFile("a.png", "0-3f9c.png", 1234, "image/png", 1, sha)])
>>> with session_scope(engine, write=True) as session:
...     claim_job(session, job.id)          # queued -> running (the worker)
...     finish_job(session, job.id, batch_id=7, status="done")

Status of a job: ``queued`` -> ``running`` -> ``done`` | ``failed``. The files themselves are
stored by the web app under its uploads folder; the rows here only name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from db.models import Batch, UploadFile, UploadJob, User, utcnow
from hdr.errors import ReasonCode, UsageError

JOB_STATUSES = ("queued", "running", "done", "failed")


@dataclass(frozen=True)
class NewFile:
    """A file stored for a job: the name it was sent under and the one it has on disk."""

    original_name: str
    stored_name: str
    size_bytes: int
    media_type: str
    n_pages: int | None
    sha256: str


def create_job(
    session: Session, user: User, kind: str, source: str, folder: str, files: list[NewFile]
) -> UploadJob:
    """A queued job for ``files`` (already written to ``folder`` by the caller)."""
    job = UploadJob(
        user_id=user.id,
        created_by=user.username,
        kind=kind,
        source=source[:2000],
        folder=folder,
        status="queued",
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    for position, f in enumerate(files):
        session.add(
            UploadFile(
                job_id=job.id,
                position=position,
                original_name=f.original_name[:500],
                stored_name=f.stored_name,
                size_bytes=f.size_bytes,
                media_type=f.media_type,
                n_pages=f.n_pages,
                sha256=f.sha256,
            )
        )
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> UploadJob:
    """A job with its files; ``UsageError(NOT_FOUND)`` when there is none."""
    job = session.execute(
        select(UploadJob).where(UploadJob.id == job_id).options(selectinload(UploadJob.files))
    ).scalar_one_or_none()
    if job is None:
        raise UsageError(ReasonCode.NOT_FOUND, f"no upload with id {job_id}")
    return job


def list_jobs(session: Session, limit: int = 20) -> list[UploadJob]:
    """The newest jobs first, with their files."""
    query = (
        select(UploadJob)
        .order_by(UploadJob.id.desc())
        .limit(limit)
        .options(selectinload(UploadJob.files))
    )
    return list(session.execute(query).scalars())


def unfinished_job_ids(session: Session) -> list[int]:
    """Jobs a worker must (re)take: queued, or running when the app stopped."""
    query = (
        select(UploadJob.id)
        .where(UploadJob.status.in_(("queued", "running")), UploadJob.flow_run_id.is_(None))
        .order_by(UploadJob.id)
    )
    return list(session.execute(query).scalars())


def claim_job(session: Session, job_id: int) -> UploadJob | None:
    """Mark a job running (once); None when it is already finished."""
    claimed = session.execute(
        update(UploadJob)
        .where(UploadJob.id == job_id, UploadJob.status.in_(("queued", "running")))
        .values(status="running", started_at=utcnow())
    )
    if getattr(claimed, "rowcount", 0) == 0:
        return None
    return get_job(session, job_id)


def set_job_batch(session: Session, job_id: int, batch_id: int) -> None:
    session.execute(update(UploadJob).where(UploadJob.id == job_id).values(batch_id=batch_id))


def set_flow_run(session: Session, job_id: int, flow_run_id: str) -> None:
    """The Prefect flow run that reads this job (a deployment run on a server)."""
    session.execute(
        update(UploadJob)
        .where(UploadJob.id == job_id)
        .values(flow_run_id=flow_run_id, status="running", started_at=utcnow())
    )


def record_file_result(
    session: Session,
    job_id: int,
    position: int,
    document_id: int | None,
    status: str,
    reason_code: str | None,
) -> None:
    """What reading one file of the job gave: its document and status."""
    session.execute(
        update(UploadFile)
        .where(UploadFile.job_id == job_id, UploadFile.position == position)
        .values(document_id=document_id, status=status, reason_code=reason_code)
    )


def finish_job(
    session: Session,
    job_id: int,
    status: str,
    batch_id: int | None = None,
    message: str | None = None,
) -> None:
    """Close a job as ``done`` or ``failed`` (with a sentence saying why)."""
    if status not in ("done", "failed"):
        raise ValueError(f"a job finishes done or failed, not {status!r}")
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "message": message}
    if batch_id is not None:
        values["batch_id"] = batch_id
    session.execute(update(UploadJob).where(UploadJob.id == job_id).values(**values))


def batch_for_source(session: Session, source: str) -> int | None:
    """The newest batch read from ``source`` (a deployment run names the job's folder)."""
    query = select(Batch.id).where(Batch.source == source).order_by(Batch.id.desc()).limit(1)
    return session.execute(query).scalar_one_or_none()


__all__ = [
    "JOB_STATUSES",
    "NewFile",
    "batch_for_source",
    "claim_job",
    "create_job",
    "finish_job",
    "get_job",
    "list_jobs",
    "record_file_result",
    "set_flow_run",
    "set_job_batch",
    "unfinished_job_ids",
]
