"""What the pages and the JSON API both do: one function per action, the same rules for both.

>>> ctx = request.app.state.ctx                                 # web.app.WebContext
>>> job_id = accept_files(ctx, viewer, [("cheque.png", stream)])
>>> decision = review_field(ctx, viewer, field_id, "1250.00")   # db.dual_control.Decision
>>> with session_scope(ctx.engine) as s: view = field_view(s, field_id, viewer, ctx.cfg)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db import get_field, session_scope
from db.dual_control import Decision, approve_field, mark_unreadable, open_approval, queue_for
from db.queries import v_review_queue
from db.uploads import create_job, get_job
from hdr.config import PipelineConfig
from hdr.errors import InputError, ReasonCode, UsageError
from web.config import WebConfig
from web.fetch import fetch_url
from web.history import document_name, review_rows, when
from web.render import confidence_class
from web.security import LoginThrottle, Viewer
from web.storage import new_job_folder, remove_folder, store_bytes, store_file
from web.worker import UploadWorker


@dataclass
class WebContext:
    """What the app holds for its lifetime (``app.state.ctx``)."""

    engine: Engine
    cfg: WebConfig
    pipeline: PipelineConfig
    uploads_root: Path
    worker: UploadWorker
    throttle: LoginThrottle


# ---------------------------------------------------------------- uploads


def accept_files(ctx: WebContext, viewer: Viewer, files: Sequence[tuple[str, BinaryIO]]) -> int:
    """Store the files a person sent, queue them for reading; the job id."""
    if not files:
        raise UsageError(ReasonCode.USAGE, "choose at least one file to upload")
    if len(files) > ctx.cfg.max_files:
        raise UsageError(
            ReasonCode.USAGE,
            f"{len(files)} files at once: at most {ctx.cfg.max_files} per upload",
        )
    folder = new_job_folder(ctx.uploads_root)
    try:
        stored = [store_file(folder, i, name, f, ctx.cfg) for i, (name, f) in enumerate(files)]
    except BaseException:
        remove_folder(folder)
        raise
    source = ", ".join(f.original_name for f in stored)
    return _queue(ctx, viewer, "files", source, folder, stored)


def accept_url(ctx: WebContext, viewer: Viewer, url: str) -> int:
    """Download the document at ``url`` (checked, see :mod:`web.fetch`), queue it; the job id."""
    fetched = fetch_url(url, ctx.cfg)
    folder = new_job_folder(ctx.uploads_root)
    try:
        stored = [store_bytes(folder, 0, fetched.name, fetched.data, ctx.cfg)]
    except BaseException:
        remove_folder(folder)
        raise
    return _queue(ctx, viewer, "url", fetched.url, folder, stored)


def _queue(
    ctx: WebContext, viewer: Viewer, kind: str, source: str, folder: Path, stored: list[Any]
) -> int:
    try:
        with session_scope(ctx.engine, write=True) as session:
            row = session_user_row(session, viewer)
            job_id = create_job(session, row, kind, source, folder.name, stored).id
    except BaseException:
        remove_folder(folder)
        raise
    ctx.worker.submit(job_id)
    return job_id


def session_user_row(session: Session, viewer: Viewer) -> Any:
    from db.models import User

    user = session.get(User, viewer.user_id)
    if user is None:  # pragma: no cover - the session row cascades with the user
        raise UsageError(ReasonCode.NOT_FOUND, "your account no longer exists")
    return user


def job_view(ctx: WebContext, job_id: int) -> dict[str, Any]:
    """A job, its files and (once read) each file's document and status, JSON-ready."""
    if ctx.cfg.prefect_enabled():
        from web.worker import refresh_remote

        refresh_remote(ctx.engine, job_id, ctx.uploads_root)
    with session_scope(ctx.engine) as session:
        job = get_job(session, job_id)
        files = [
            {
                "name": f.original_name,
                "size_bytes": f.size_bytes,
                "media_type": f.media_type,
                "pages": f.n_pages,
                "document_id": f.document_id,
                "status": f.status,
                "reason_code": f.reason_code,
            }
            for f in job.files
        ]
        return {
            "job_id": job.id,
            "status": job.status,
            "kind": job.kind,
            "source": job.source,
            "created_by": job.created_by,
            "created_at": when(job.created_at),
            "started_at": when(job.started_at),
            "finished_at": when(job.finished_at),
            "batch_id": job.batch_id,
            "flow_run_id": job.flow_run_id,
            "message": job.message,
            "n_files": len(files),
            "n_read": sum(f["status"] is not None for f in files),
            "files": files,
            "final": job.status in ("done", "failed"),
        }


# ---------------------------------------------------------------- review


def next_field_id(
    session: Session,
    viewer: Viewer,
    after: int | None = None,
    batch_id: int | None = None,
    field_name: str | None = None,
) -> int | None:
    """The next field this person can review after ``after`` (wrapping round), or None."""
    rows = queue_for(
        session, viewer.username, after_field_id=after, batch_id=batch_id, field_name=field_name
    )
    if not rows and after is not None:
        rows = queue_for(session, viewer.username, batch_id=batch_id, field_name=field_name)
    return rows[0].field_id if rows else None


def queue_size(session: Session, batch_id: int | None = None, field_name: str | None = None) -> int:
    v = v_review_queue.c
    query = select(func.count()).select_from(v_review_queue)
    if batch_id is not None:
        query = query.where(v.batch_id == batch_id)
    if field_name is not None:
        query = query.where(v.field_name == field_name)
    return int(session.execute(query).scalar_one())


def field_view(session: Session, field_id: int, viewer: Viewer, cfg: WebConfig) -> dict[str, Any]:
    """A field as a reviewer sees it: values, glyphs by confidence, audit trail, approvals."""
    fld = get_field(session, field_id)
    result = fld.result
    pending = open_approval(session, field_id)
    limit = cfg.dual_control_limit
    glyphs = [
        {
            "label": g.label,
            "prob": round(g.prob, 4),
            "confidence": confidence_class(g.prob),
            "topk": g.topk,
            "box": g.box,
        }
        for g in fld.glyphs
    ]
    return {
        "field_id": fld.id,
        "name": fld.name,
        "value": fld.value,
        "read_value": fld.read_value,
        "status": fld.status,
        "read_status": fld.read_status,
        "confidence": round(fld.confidence, 4),
        "flags": list(fld.flags or []),
        "raw_text": fld.raw_text,
        "line_text": fld.line_text,
        "line_confidence": fld.line_confidence,
        "box": fld.box,
        "page_index": fld.page.page_index,
        "document_id": result.document_id,
        "document_name": document_name(session, result.document_id, result.source_uri),
        "document_status": result.status,
        "batch_id": result.batch_id,
        "glyphs": glyphs,
        "reviews": review_rows(fld.reviews),
        "pending_approval": (
            {
                "reviewer": pending.reviewer,
                "at": when(pending.created_at),
                # the second reviewer keys the amount blind; only its author sees the value
                "value": pending.value if pending.reviewer == viewer.username else None,
            }
            if pending
            else None
        ),
        "dual_control_limit": str(limit) if limit is not None and fld.name == "amount" else None,
        "reviewable": fld.status == "review",
    }


def review_field(
    ctx: WebContext, viewer: Viewer, field_id: int, value: str, note: str | None = None
) -> Decision:
    """Approve ``value`` for a field (dual control above the configured limit)."""
    with session_scope(ctx.engine, write=True) as session:
        return approve_field(
            session, field_id, value, by=viewer.username, limit=ctx.cfg.dual_control_limit,
            note=note,
        )  # fmt: skip


def field_unreadable(
    ctx: WebContext, viewer: Viewer, field_id: int, note: str | None = None
) -> Decision:
    with session_scope(ctx.engine, write=True) as session:
        return mark_unreadable(session, field_id, by=viewer.username, note=note)


def crop_of(session: Session, field_id: int) -> tuple[bytes, list[tuple[Any, float]]]:
    """The stored crop of a field and its glyph boxes with their probabilities."""
    fld = get_field(session, field_id)
    if not fld.crop_png:
        raise UsageError(ReasonCode.NOT_FOUND, f"field {field_id} has no stored crop")
    return fld.crop_png, [(g.box, g.prob) for g in fld.glyphs]


def document_file(session: Session, field_id: int) -> tuple[Path, int, Any, int, Any]:
    """The file a field was read from, its page index, the field box, the clockwise turn the
    page was read at and the part of it the fields were found on (or None), as the page's
    reasons say (:func:`hdr.preprocess.orient.turn_of`, :func:`hdr.preprocess.extent.cropped_of`).

    The file must still be where it was read and hold the same bytes (sha256), else
    ``InputError(FILE_NOT_FOUND)``: a page is never drawn from a file that changed.
    """
    import hashlib

    fld = get_field(session, field_id)
    result = fld.result
    path = Path(result.source_uri)
    sha = result.document.sha256
    if not path.is_file() or sha is None:
        raise InputError(
            ReasonCode.FILE_NOT_FOUND,
            "the document's file is no longer where it was read",
            hint="the crop above is all the database keeps",
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha:
        raise InputError(ReasonCode.FILE_NOT_FOUND, "the file at that place has changed since")
    from hdr.preprocess.extent import cropped_of
    from hdr.preprocess.orient import turn_of

    reasons = list(fld.page.reasons or [])
    return path, fld.page.page_index, fld.box, turn_of(reasons), cropped_of(reasons)
