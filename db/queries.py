"""Reading results: the SQL views as typed tables, and the queries a bank operator needs.

>>> with session_scope(engine) as session:
...     rows = list_documents(session, status="review", batch_id=3)
...     doc = get_document(session, rows[0].document_id)      # or a sha256 (prefix)
...     summaries = batch_summaries(session)
>>> with session_scope(engine) as session, open("out.csv", "w") as out:
...     n = export_results(session, out, "csv")

The views are created by the migration ``0002`` and documented in README.md
("Results database"); the functions here read them, so the SQL an analyst runs by hand
and the commands give the same answers.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal, TextIO

from sqlalchemy import JSON, Float, Integer, Select, Text, exists, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import column, table

from db.models import BatchItem, Document, Field, Result, UTCDateTime
from hdr.errors import ReasonCode, UsageError

v_document_results = table(
    "v_document_results",
    column("document_id", Integer),
    column("sha256", Text),
    column("content_key", Text),
    column("media_type", Text),
    column("n_pages", Integer),
    column("result_id", Integer),
    column("batch_id", Integer),
    column("model_sha256", Text),
    column("source_uri", Text),
    column("status", Text),
    column("read_status", Text),
    column("reason_code", Text),
    column("reason_message", Text),
    column("read_at", UTCDateTime()),
    column("amount", Text),
    column("amount_status", Text),
    column("amount_confidence", Float),
    column("account", Text),
    column("account_status", Text),
    column("account_confidence", Float),
)

v_field_results = table(
    "v_field_results",
    column("field_id", Integer),
    column("document_id", Integer),
    column("result_id", Integer),
    column("batch_id", Integer),
    column("sha256", Text),
    column("source_uri", Text),
    column("model_sha256", Text),
    column("document_status", Text),
    column("page_index", Integer),
    column("field_name", Text),
    column("value", Text),
    column("read_value", Text),
    column("confidence", Float),
    column("status", Text),
    column("read_status", Text),
    column("flags", JSON),
    column("raw_text", Text),
    column("reviewed_by", Text),
    column("reviewed_at", UTCDateTime()),
    column("read_at", UTCDateTime()),
)

v_review_queue = table(
    "v_review_queue",
    column("field_id", Integer),
    column("field_name", Text),
    column("value", Text),
    column("confidence", Float),
    column("flags", JSON),
    column("raw_text", Text),
    column("document_id", Integer),
    column("sha256", Text),
    column("source_uri", Text),
    column("batch_id", Integer),
    column("page_index", Integer),
    column("read_at", UTCDateTime()),
)

v_batch_summary = table(
    "v_batch_summary",
    column("batch_id", Integer),
    column("source", Text),
    column("created_by", Text),
    column("started_at", UTCDateTime()),
    column("finished_at", UTCDateTime()),
    column("model_sha256", Text),
    column("config_hash", Text),
    column("n_inputs", Integer),
    column("n_documents", Integer),
    column("n_reused", Integer),
    column("n_accepted", Integer),
    column("n_review", Integer),
    column("n_rejected", Integer),
    column("n_error", Integer),
    column("n_pending_review", Integer),
    column("read_rate", Float),
    column("review_rate", Float),
    column("error_rate", Float),
)

EXPORT_COLUMNS = (
    "document_id",
    "sha256",
    "source_uri",
    "status",
    "reason_code",
    "reason_message",
    "amount",
    "amount_status",
    "amount_confidence",
    "account",
    "account_status",
    "account_confidence",
    "batch_id",
    "model_sha256",
    "read_at",
)

STATUSES = ("accepted", "review", "rejected", "error")


def _check_status(status: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise UsageError(
            ReasonCode.USAGE,
            f"unknown status {status!r}",
            hint="use one of: " + ", ".join(STATUSES),
        )


def _documents_query(
    status: str | None, batch_id: int | None, since: datetime | None
) -> Select[Any]:
    _check_status(status)
    v = v_document_results.c
    query = select(v_document_results)
    if status:
        query = query.where(v.status == status)
    if batch_id is not None:
        # every document the batch saw, also those read earlier by another batch
        seen = exists().where(
            BatchItem.batch_id == batch_id, BatchItem.document_id == v.document_id
        )
        query = query.where(seen)
    if since is not None:
        query = query.where(v.read_at >= since)
    return query.order_by(v.document_id)


def list_documents(
    session: Session,
    status: str | None = None,
    batch_id: int | None = None,
    since: datetime | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> list[Any]:
    """Documents with their current result (rows of ``v_document_results``), oldest first."""
    query = _documents_query(status, batch_id, since).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).all())


def get_document(session: Session, key: str | int) -> Document:
    """A document by id or sha256 (a unique prefix of at least 8 characters will do).

    Its results (all model versions, oldest first) come loaded with pages, fields, glyphs and
    reviews. Raises ``UsageError(NOT_FOUND)`` when nothing (or more than one) matches.
    """
    loads = selectinload(Document.results).options(
        selectinload(Result.pages),
        selectinload(Result.model_version),
        selectinload(Result.fields).options(
            selectinload(Field.glyphs), selectinload(Field.reviews), selectinload(Field.page)
        ),
    )
    text_key = str(key).strip().lower()
    if text_key.isdigit() and len(text_key) < 16:
        doc = session.execute(
            select(Document).where(Document.id == int(text_key)).options(loads)
        ).scalar_one_or_none()
        if doc is not None:
            return doc
    if len(text_key) >= 8:
        docs = (
            session.execute(
                select(Document)
                .where(Document.sha256.startswith(text_key, autoescape=True))
                .options(loads)
                .limit(2)
            )
            .scalars()
            .all()
        )
        if len(docs) == 1:
            return docs[0]
        if len(docs) > 1:
            raise UsageError(
                ReasonCode.NOT_FOUND,
                f"more than one document has a sha256 starting with {text_key!r}",
                hint="give more characters of the sha256, or the document id",
            )
    raise UsageError(
        ReasonCode.NOT_FOUND,
        f"no document with id or sha256 {key!r}",
        hint="`hdr results list` shows document ids",
    )


def batch_summaries(session: Session, batch_id: int | None = None) -> list[Any]:
    """Rows of ``v_batch_summary`` (counts, read/review/error rates), newest batch first."""
    query = select(v_batch_summary).order_by(v_batch_summary.c.batch_id.desc())
    if batch_id is not None:
        query = query.where(v_batch_summary.c.batch_id == batch_id)
    rows = list(session.execute(query).all())
    if batch_id is not None and not rows:
        raise UsageError(ReasonCode.NOT_FOUND, f"no batch with id {batch_id}")
    return rows


def iter_export_rows(
    session: Session,
    status: str | None = None,
    batch_id: int | None = None,
    since: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """One dict per document (the columns of :data:`EXPORT_COLUMNS`), streamed."""
    query = _documents_query(status, batch_id, since)
    for row in session.execute(query.execution_options(yield_per=1000)):
        record = {name: getattr(row, name) for name in EXPORT_COLUMNS}
        record["read_at"] = row.read_at.isoformat() if row.read_at else None
        yield record


def export_results(
    session: Session,
    out: TextIO,
    fmt: Literal["csv", "jsonl"] = "csv",
    status: str | None = None,
    batch_id: int | None = None,
    since: datetime | None = None,
) -> int:
    """Write one line per document to ``out`` as CSV (with a header) or JSON lines.

    Amounts are written as text ("1250.00"), exactly as stored. Returns the number of rows.
    """
    if fmt not in ("csv", "jsonl"):
        raise UsageError(ReasonCode.USAGE, f"unknown export format {fmt!r}", hint="csv or jsonl")
    rows = iter_export_rows(session, status=status, batch_id=batch_id, since=since)
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for record in rows:
            writer.writerow(record)
            count += 1
    else:
        for record in rows:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def document_to_dict(doc: Document, with_glyphs: bool = True) -> dict[str, Any]:
    """A JSON-ready picture of a document and all its results (crops left out)."""

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    results = []
    for res in doc.results:
        fields = []
        for fld in res.fields:
            entry: dict[str, Any] = {
                "field_id": fld.id,
                "page_index": fld.page.page_index,
                "name": fld.name,
                "value": fld.value,
                "read_value": fld.read_value,
                "confidence": fld.confidence,
                "status": fld.status,
                "read_status": fld.read_status,
                "flags": fld.flags,
                "box": fld.box,
                "raw_text": fld.raw_text,
                "line_text": fld.line_text,
                "line_confidence": fld.line_confidence,
                "reviews": [
                    {
                        "old_value": rv.old_value,
                        "new_value": rv.new_value,
                        "reviewer": rv.reviewer,
                        "note": rv.note,
                        "at": when(rv.created_at),
                    }
                    for rv in fld.reviews
                ],
            }
            if with_glyphs:
                entry["glyphs"] = [
                    {"label": g.label, "prob": g.prob, "topk": g.topk, "box": g.box}
                    for g in fld.glyphs
                ]
            fields.append(entry)
        results.append(
            {
                "result_id": res.id,
                "current": res.is_current,
                "model_sha256": res.model_version.sha256,
                "batch_id": res.batch_id,
                "status": res.status,
                "read_status": res.read_status,
                "reason_code": res.reason_code,
                "reason_message": res.reason_message,
                "read_at": when(res.created_at),
                "pages": [
                    {"index": p.page_index, "status": p.status, "reasons": p.reasons}
                    for p in res.pages
                ],
                "fields": fields,
            }
        )
    return {
        "document_id": doc.id,
        "sha256": doc.sha256,
        "source_uri": doc.source_uri,
        "media_type": doc.media_type,
        "n_pages": doc.n_pages,
        "first_seen_at": when(doc.first_seen_at),
        "results": results,
    }


__all__ = [
    "EXPORT_COLUMNS",
    "batch_summaries",
    "document_to_dict",
    "export_results",
    "get_document",
    "iter_export_rows",
    "list_documents",
    "v_batch_summary",
    "v_document_results",
    "v_field_results",
    "v_review_queue",
]
