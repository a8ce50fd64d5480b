"""Writing results: model versions, batches, and one document per transaction.

>>> engine = create_engine_from_url()            # HDR_DB_URL, schema from `hdr db upgrade`
>>> with session_scope(engine, write=True) as session:
...     batch_id = start_batch(session, "inbox/", "ops", model_sha256, config_hash)
>>> stored = store_document(engine, batch_id, read_document("inbox/c1.png"))
>>> with session_scope(engine, write=True) as session:
...     finish_batch(session, batch_id, n_inputs=1).n_accepted
1

Ingestion is idempotent: a file (by sha256) is one document however often it is seen; a
model version reads it once (a second ``store_document`` returns the stored result with
``created=False``); a new model version adds a new result, which becomes the current one,
and the old one is kept. A file that could not be read at all (``sha256`` None) is keyed by
its source, so its failure is stored once too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, exc, func, select, update
from sqlalchemy.orm import Session

from db.models import Batch, BatchItem, Document, Field, Glyph, ModelVersion, Page, Result, utcnow
from db.session import transaction, translate_errors
from hdr.errors import ReasonCode, StorageError, UsageError
from hdr.types import DocumentResult, FieldResult, Status

_ATTEMPTS = 4  # a concurrent writer can win a race for the same document; we then re-read


@dataclass(frozen=True)
class StoredDocument:
    """What :func:`store_document` did: ``created`` is False when the result existed."""

    document_id: int
    result_id: int
    created: bool


@dataclass(frozen=True)
class BatchCounts:
    """Documents of a batch by the machine's decision (``read_status``)."""

    batch_id: int
    n_documents: int
    n_accepted: int
    n_review: int
    n_rejected: int
    n_error: int


def content_key(result: DocumentResult) -> str:
    """The unique key of a document: its sha256, or a marker derived from its source."""
    if result.sha256:
        return result.sha256
    return "nocontent:" + hashlib.sha256(result.source.encode("utf-8")).hexdigest()


def _insert(session: Session, model: Any) -> Any:
    """An INSERT that supports ``on_conflict_do_nothing`` on the session's backend."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(model)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(model)
    raise StorageError(ReasonCode.DB_ERROR, f"unsupported database backend: {dialect}")


def register_model_version(
    session: Session, sha256: str, card: dict[str, Any] | None = None
) -> int:
    """The id of the model version ``sha256``, registering it (with its card) when new.

    >>> mv_id = register_model_version(session, "9f2c...", {"name": "digits-cnn", "acc": 0.99})
    """
    stmt = _insert(session, ModelVersion).values(sha256=sha256, card=card, created_at=utcnow())
    session.execute(stmt.on_conflict_do_nothing(index_elements=["sha256"]))
    model = session.execute(select(ModelVersion).where(ModelVersion.sha256 == sha256)).scalar_one()
    if card is not None and model.card is None:
        model.card = card
    return model.id


def start_batch(
    session: Session,
    source: str,
    who: str,
    model_sha256: str,
    config_hash: str | None = None,
    model_card: dict[str, Any] | None = None,
) -> int:
    """Open a batch run by ``who`` over ``source`` with the model ``model_sha256``; its id."""
    model_id = register_model_version(session, model_sha256, model_card)
    batch = Batch(source=source, created_by=who, model_version_id=model_id, config_hash=config_hash)
    session.add(batch)
    session.flush()
    return batch.id


def already_processed(session: Session, sha256: str, model_sha256: str) -> bool:
    """Whether the file ``sha256`` already has a result from the model ``model_sha256``."""
    stmt = (
        select(Result.id)
        .join(Document, Document.id == Result.document_id)
        .join(ModelVersion, ModelVersion.id == Result.model_version_id)
        .where(Document.content_key == sha256, ModelVersion.sha256 == model_sha256)
        .limit(1)
    )
    return session.execute(stmt).first() is not None


def store_document(
    engine: Engine, batch_id: int, result: DocumentResult, model_version_id: int | None = None
) -> StoredDocument:
    """Store one :class:`~hdr.types.DocumentResult` in its own transaction.

    ``model_version_id`` defaults to the batch's model. All rows of the document are written,
    or none (a crash or an exception half-way leaves nothing). Storing the same file again
    with the same model returns the existing result (``created=False``) and only records
    that this batch saw it.
    """
    with translate_errors(str(engine.url)):
        for attempt in range(_ATTEMPTS):
            try:
                with transaction(engine, write=True) as session:
                    return _store(session, batch_id, result, model_version_id)
            except exc.IntegrityError:
                # Another process stored the same document or result first: read theirs.
                if attempt == _ATTEMPTS - 1:
                    raise
    raise AssertionError("unreachable")  # pragma: no cover


def _store(
    session: Session, batch_id: int, result: DocumentResult, model_version_id: int | None
) -> StoredDocument:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise UsageError(ReasonCode.NOT_FOUND, f"no batch with id {batch_id}")
    model_id = model_version_id or batch.model_version_id
    key = content_key(result)
    doc_insert = _insert(session, Document).values(
        content_key=key,
        sha256=result.sha256,
        source_uri=result.source,
        media_type=result.media_type,
        n_pages=len(result.pages) or None,
        first_seen_at=utcnow(),
    )
    session.execute(doc_insert.on_conflict_do_nothing(index_elements=["content_key"]))
    document_id = session.execute(
        select(Document.id).where(Document.content_key == key)
    ).scalar_one()

    result_id = session.execute(
        select(Result.id).where(
            Result.document_id == document_id, Result.model_version_id == model_id
        )
    ).scalar_one_or_none()
    created = result_id is None
    if result_id is None:
        result_id = _insert_result(session, document_id, batch_id, model_id, result)

    item = _insert(session, BatchItem).values(
        batch_id=batch_id,
        document_id=document_id,
        result_id=result_id,
        reused=not created,
        source_uri=result.source,
        created_at=utcnow(),
    )
    session.execute(item.on_conflict_do_nothing(index_elements=["batch_id", "document_id"]))
    return StoredDocument(document_id=document_id, result_id=result_id, created=created)


def _insert_result(
    session: Session, document_id: int, batch_id: int, model_id: int, result: DocumentResult
) -> int:
    session.execute(
        update(Result)
        .where(Result.document_id == document_id, Result.is_current.is_(True))
        .values(is_current=False)
    )
    row = Result(
        document_id=document_id,
        model_version_id=model_id,
        batch_id=batch_id,
        is_current=True,
        status=result.status.value,
        read_status=result.status.value,
        reason_code=result.reason_code,
        reason_message=result.reason_message,
        source_uri=result.source,
        timings=dict(result.timings) or None,
    )
    session.add(row)
    session.flush()

    page_rows: list[dict[str, Any]] = []
    page_fields: list[list[FieldResult]] = []
    for page in result.pages:
        page_rows.append(
            {
                "result_id": row.id,
                "page_index": page.index,
                "status": page.status.value,
                "reasons": list(page.reasons),
                "layout": page.layout,
                "width": page.width,
                "height": page.height,
            }
        )
        page_fields.append(list(page.fields.values()))
    if not page_rows:
        return row.id
    page_ids = _insert_returning_ids(session, Page, page_rows)

    field_rows: list[dict[str, Any]] = []
    field_glyphs: list[list[dict[str, Any]]] = []
    for page_id, fields in zip(page_ids, page_fields, strict=True):
        for fld in fields:
            field_rows.append(_field_row(row.id, page_id, fld))
            field_glyphs.append(
                [
                    {
                        "position": pos,
                        "label": g.label,
                        "prob": float(g.prob),
                        "topk": [[label, float(p)] for label, p in g.topk],
                        "box": list(g.box),
                        "split": g.split,
                        "cell": g.cell,
                    }
                    for pos, g in enumerate(fld.glyphs)
                ]
            )
    if not field_rows:
        return row.id
    field_ids = _insert_returning_ids(session, Field, field_rows)
    glyph_rows = [
        {"field_id": field_id, **glyph}
        for field_id, glyphs in zip(field_ids, field_glyphs, strict=True)
        for glyph in glyphs
    ]
    if glyph_rows:
        session.execute(_insert(session, Glyph), glyph_rows)
    return row.id


def _field_row(result_id: int, page_id: int, fld: FieldResult) -> dict[str, Any]:
    return {
        "result_id": result_id,
        "page_id": page_id,
        "name": fld.name,
        "value": fld.value,
        "read_value": fld.value,
        "confidence": float(fld.confidence),
        "status": fld.status.value,
        "read_status": fld.status.value,
        "flags": list(fld.flags),
        "box": list(fld.box) if fld.box is not None else None,
        "located_by": fld.located_by,
        "raw_text": fld.raw_text,
        "crop_png": fld.crop_png,
        "reviewed_by": None,
        "reviewed_at": None,
    }


def _insert_returning_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    stmt = _insert(session, model).returning(model.id, sort_by_parameter_order=True)
    return list(session.scalars(stmt, rows))


def finish_batch(session: Session, batch_id: int, n_inputs: int | None = None) -> BatchCounts:
    """Close a batch: record when, how many inputs the caller found, and the counts."""
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise UsageError(ReasonCode.NOT_FOUND, f"no batch with id {batch_id}")
    counts = batch_counts(session, batch_id)
    batch.finished_at = utcnow()
    batch.n_inputs = n_inputs
    batch.n_documents = counts.n_documents
    batch.n_accepted = counts.n_accepted
    batch.n_review = counts.n_review
    batch.n_rejected = counts.n_rejected
    batch.n_error = counts.n_error
    return counts


def batch_counts(session: Session, batch_id: int) -> BatchCounts:
    """Documents seen by a batch, by the machine's decision."""
    rows = session.execute(
        select(Result.read_status, func.count())
        .select_from(BatchItem)
        .join(Result, Result.id == BatchItem.result_id)
        .where(BatchItem.batch_id == batch_id)
        .group_by(Result.read_status)
    ).all()
    by_status = {status: int(n) for status, n in rows}
    return BatchCounts(
        batch_id=batch_id,
        n_documents=sum(by_status.values()),
        n_accepted=by_status.get(Status.ACCEPTED.value, 0),
        n_review=by_status.get(Status.REVIEW.value, 0),
        n_rejected=by_status.get(Status.REJECTED.value, 0),
        n_error=by_status.get(Status.ERROR.value, 0),
    )
