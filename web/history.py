"""Search and history: documents by batch, status, day and value; each field's audit trail.

>>> with session_scope(engine) as session:
...     rows = search_documents(session, status="review", value="1250.00")
...     doc = document_view(session, rows[0]["document_id"])   # fields with their reviews
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db import get_document
from db.models import Review, UploadFile, UploadJob
from db.queries import _documents_query, document_to_dict, v_document_results
from db.review import normalize_value
from hdr.errors import HdrError, ReasonCode, UsageError


def when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def review_rows(reviews: Iterable[Review]) -> list[dict[str, Any]]:
    """The audit trail of a field, oldest first, JSON-ready."""
    return [
        {
            "at": when(r.created_at),
            "reviewer": r.reviewer,
            "old_value": r.old_value,
            "new_value": r.new_value,
            "old_status": r.old_status,
            "new_status": r.new_status,
            "note": r.note,
        }
        for r in reviews
    ]


def document_name(session: Session, document_id: int, source_uri: str) -> str:
    """The name a person sent the file under, or the file name it was read from."""
    sent_as = session.execute(
        select(UploadFile.original_name)
        .where(UploadFile.document_id == document_id)
        .order_by(UploadFile.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return sent_as or PurePath(source_uri).name


def uploads_by_batch(session: Session, batch_ids: list[int]) -> dict[int, tuple[int, str]]:
    """batch id -> (upload job id, the names of its files) for batches read from uploads."""
    rows = session.execute(
        select(UploadJob.batch_id, UploadJob.id, UploadJob.source).where(
            UploadJob.batch_id.in_(batch_ids)
        )
    ).all()
    return {r.batch_id: (r.id, r.source) for r in rows}


def parse_day(text: str | None, what: str) -> date | None:
    """``YYYY-MM-DD`` as a date (None for nothing); ``UsageError`` naming the field otherwise."""
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError as err:
        raise UsageError(ReasonCode.USAGE, f"{what}: {text!r} is not a date (YYYY-MM-DD)") from err


def search_documents(
    session: Session,
    *,
    batch_id: int | None = None,
    status: str | None = None,
    since: date | None = None,
    until: date | None = None,
    value: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Documents (current results) by batch, status, day read (inclusive) and amount/account."""
    v = v_document_results.c
    start = datetime.combine(since, time.min, tzinfo=UTC) if since else None  # days in UTC
    # the filters `hdr results list` applies, newest first
    query = _documents_query(status, batch_id, start).order_by(None).order_by(v.document_id.desc())
    if until is not None:
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC)
        query = query.where(v.read_at < end)
    if value and value.strip():
        query = query.where(_value_matches(value))
    rows = session.execute(query.limit(min(limit, 500)).offset(offset)).all()
    names = dict(
        session.execute(
            select(UploadFile.document_id, UploadFile.original_name).where(
                UploadFile.document_id.in_([r.document_id for r in rows])
            )
        ).all()
    )
    out = []
    for r in rows:
        record = r._asdict()
        record["read_at"] = when(r.read_at)
        record["name"] = names.get(r.document_id) or PurePath(r.source_uri).name
        out.append(record)
    return out


def _value_matches(value: str) -> Any:
    v = v_document_results.c
    text = value.strip()
    conditions = [v.account.startswith(text.replace(" ", "").replace("-", ""), autoescape=True)]
    with contextlib.suppress(HdrError):  # not an amount: only the account can match
        conditions.append(v.amount == normalize_value("amount", text))
    return or_(*conditions)


def document_view(session: Session, key: str) -> dict[str, Any]:
    """A document for the history page: its current result's fields with their audit trail."""
    doc = get_document(session, key)
    data = document_to_dict(doc, with_glyphs=False)
    current = next(
        (r for r in doc.results if r.is_current), doc.results[-1] if doc.results else None
    )
    data["name"] = document_name(session, doc.id, doc.source_uri)
    data["current"] = None
    if current is not None:
        trails = {f.id: review_rows(f.reviews) for f in current.fields}
        data["current"] = next(r for r in data["results"] if r["result_id"] == current.id)
        for fld in data["current"]["fields"]:
            fld["reviews"] = trails.get(fld["field_id"], [])
    return data
