"""Storing document results: all rows of a document in one transaction, idempotently.

>>> stored = store_document(engine, batch_id, read_document("inbox/c1.png"))
>>> stored.created                  # False when this model had already read this file
True
>>> store_documents(engine, batch_id, results)   # a group in one transaction: faster

A file (by sha256) is one document however often it is seen; a model version reads it once;
a new model version adds a new result, which becomes the current one, and the old one is kept.
A file that could not be read at all (``sha256`` None) is keyed by its source, so its failure
is stored once too. The work is set-based: about ten statements per call, whatever the
number of documents, which is what makes groups fast on a server database.
"""

from __future__ import annotations

import functools
import hashlib
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, exc, or_, select, update

from db.models import Batch, BatchItem, Document, Field, Glyph, Page, Result, utcnow
from db.session import translate_errors, write_connection
from hdr.errors import ReasonCode, StorageError, UsageError
from hdr.types import DocumentResult, FieldResult

_ATTEMPTS = 5  # a concurrent writer can win a race for the same document; we then re-read
_RETRY_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock (PostgreSQL)


@dataclass(frozen=True)
class StoredDocument:
    """What was stored for one input: ``created`` is False when the result existed."""

    document_id: int
    result_id: int
    created: bool


def storable_text(text: str) -> str:
    """A file name as the database can hold it: bytes that are not UTF-8 (Python carries them
    as lone surrogates) become backslash escapes, so ``ch\\xe8que.png`` is stored, not refused."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def content_key(result: DocumentResult) -> str:
    """The unique key of a document: its sha256, or a marker derived from its source."""
    if result.sha256:
        return result.sha256
    return "nocontent:" + hashlib.sha256(storable_text(result.source).encode("utf-8")).hexdigest()


def dialect_insert(dialect: str) -> Any:
    """The INSERT construct of a backend (it has ``on_conflict_do_nothing``)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    raise StorageError(ReasonCode.DB_ERROR, f"unsupported database backend: {dialect}")


def store_document(
    engine: Engine, batch_id: int, result: DocumentResult, model_version_id: int | None = None
) -> StoredDocument:
    """Store one :class:`~hdr.types.DocumentResult` in its own transaction.

    ``model_version_id`` defaults to the batch's model. All rows of the document are written,
    or none (a crash or an exception half-way leaves nothing). Storing the same file again
    with the same model returns the existing result (``created=False``) and only records
    that this batch saw it.
    """
    return store_documents(engine, batch_id, [result], model_version_id)[0]


def store_documents(
    engine: Engine,
    batch_id: int,
    results: Sequence[DocumentResult],
    model_version_id: int | None = None,
) -> list[StoredDocument]:
    """Store several results in one transaction (all or none); one answer per input, in order.

    Same rules as :func:`store_document`; the same file twice in ``results`` is one document.
    """
    if not results:
        return []
    statements = _statements(engine.dialect.name)
    with translate_errors(str(engine.url)):
        for attempt in range(_ATTEMPTS):
            try:
                with write_connection(engine) as conn:
                    return _store(conn, statements, batch_id, results, model_version_id)
            except (exc.IntegrityError, exc.OperationalError) as err:
                # Another process stored the same document first (or PostgreSQL chose this
                # transaction as a deadlock victim): run again, reading what they wrote.
                retry = isinstance(err, exc.IntegrityError) or (
                    getattr(err.orig, "sqlstate", None) in _RETRY_SQLSTATES
                )
                if not retry or attempt == _ATTEMPTS - 1:
                    raise
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class _Statements:
    """The statements of :func:`store_documents`, built once per backend (compiled once)."""

    batch_model: Any
    insert_documents: Any
    document_ids: Any
    result_ids: Any
    retire_current: Any
    insert_results: Any
    insert_pages: Any
    insert_fields: Any
    insert_glyphs: Any
    insert_items: Any


@functools.cache
def _statements(dialect: str) -> _Statements:
    insert = dialect_insert(dialect)
    return _Statements(
        batch_model=select(Batch.model_version_id).where(Batch.id == bindparam("b_batch")),
        insert_documents=insert(Document).on_conflict_do_nothing(index_elements=["content_key"]),
        document_ids=select(Document.content_key, Document.id).where(
            Document.content_key.in_(bindparam("b_keys", expanding=True))
        ),
        # a document's result by this model, and its current one (to retire, when another's)
        result_ids=select(Result.document_id, Result.id, Result.model_version_id).where(
            Result.document_id.in_(bindparam("b_documents", expanding=True)),
            or_(Result.model_version_id == bindparam("b_model"), Result.is_current.is_(True)),
        ),
        retire_current=update(Result)
        .where(
            Result.document_id.in_(bindparam("b_documents", expanding=True)),
            Result.is_current.is_(True),
        )
        .values(is_current=False),
        insert_results=insert(Result).returning(Result.id, sort_by_parameter_order=True),
        insert_pages=insert(Page).returning(Page.id, sort_by_parameter_order=True),
        insert_fields=insert(Field).returning(Field.id, sort_by_parameter_order=True),
        insert_glyphs=insert(Glyph),
        insert_items=insert(BatchItem).on_conflict_do_nothing(
            index_elements=["batch_id", "document_id"]
        ),
    )


# batch id -> its model version id, per engine: a batch's model never changes.
_BATCH_MODELS: weakref.WeakKeyDictionary[Engine, dict[int, int]] = weakref.WeakKeyDictionary()


def _batch_model(conn: Connection, sql: _Statements, batch_id: int) -> int:
    known = _BATCH_MODELS.setdefault(conn.engine, {})
    if batch_id not in known:
        model_id = conn.execute(sql.batch_model, {"b_batch": batch_id}).scalar_one_or_none()
        if model_id is None:
            raise UsageError(ReasonCode.NOT_FOUND, f"no batch with id {batch_id}")
        known[batch_id] = model_id
    return known[batch_id]


def _store(
    conn: Connection,
    sql: _Statements,
    batch_id: int,
    results: Sequence[DocumentResult],
    model_version_id: int | None,
) -> list[StoredDocument]:
    batch_model = _batch_model(conn, sql, batch_id)  # also checks that the batch exists
    model_id = model_version_id or batch_model
    now = utcnow()
    keys = [content_key(r) for r in results]
    first: dict[str, DocumentResult] = {}
    for key, result in zip(keys, results, strict=True):
        first.setdefault(key, result)
    ordered = sorted(first)  # one lock order for every writer: no deadlocks between groups

    conn.execute(
        sql.insert_documents,
        [
            {
                "content_key": key,
                "sha256": first[key].sha256,
                "source_uri": storable_text(first[key].source),
                "media_type": first[key].media_type,
                "n_pages": len(first[key].pages) or None,
                "first_seen_at": now,
            }
            for key in ordered
        ],
    )
    doc_ids = dict(conn.execute(sql.document_ids, {"b_keys": ordered}).tuples().all())
    existing: dict[int, int] = {}
    current_by_other_model: set[int] = set()
    params = {"b_documents": list(doc_ids.values()), "b_model": model_id}
    for document_id, result_id, result_model in conn.execute(sql.result_ids, params):
        if result_model == model_id:
            existing[document_id] = result_id
        else:
            current_by_other_model.add(document_id)
    new_keys = [key for key in ordered if doc_ids[key] not in existing]
    if new_keys:
        retire = [doc_ids[k] for k in new_keys if doc_ids[k] in current_by_other_model]
        if retire:
            conn.execute(sql.retire_current, {"b_documents": retire})
        new_ids = _insert_results(
            conn, sql, [(doc_ids[k], first[k]) for k in new_keys], batch_id, model_id, now
        )
        existing.update(zip((doc_ids[k] for k in new_keys), new_ids, strict=True))

    created = set(new_keys)
    conn.execute(
        sql.insert_items,
        [
            {
                "batch_id": batch_id,
                "document_id": doc_ids[key],
                "result_id": existing[doc_ids[key]],
                "reused": key not in created,
                "source_uri": storable_text(first[key].source),
                "created_at": now,
            }
            for key in ordered
        ],
    )
    answers = []
    for key in keys:
        answers.append(StoredDocument(doc_ids[key], existing[doc_ids[key]], created=key in created))
        created.discard(key)  # the same file again later in this call: already there
    return answers


def _insert_results(
    conn: Connection,
    sql: _Statements,
    documents: list[tuple[int, DocumentResult]],
    batch_id: int,
    model_id: int,
    now: datetime,
) -> list[int]:
    """Insert results with their pages, fields and glyphs; the new result ids, in order."""
    result_rows = [
        {
            "document_id": document_id,
            "model_version_id": model_id,
            "batch_id": batch_id,
            "is_current": True,
            "status": result.status.value,
            "read_status": result.status.value,
            "reason_code": result.reason_code,
            "reason_message": storable_text(result.reason_message)
            if result.reason_message
            else None,  # it often names the file
            "source_uri": storable_text(result.source),
            "timings": dict(result.timings) or None,
            "created_at": now,
        }
        for document_id, result in documents
    ]
    result_ids = list(conn.execute(sql.insert_results, result_rows).scalars())

    page_rows: list[dict[str, Any]] = []
    page_fields: list[list[FieldResult]] = []
    for result_id, (_, result) in zip(result_ids, documents, strict=True):
        for page in result.pages:
            page_rows.append(
                {
                    "result_id": result_id,
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
        return result_ids
    page_ids = list(conn.execute(sql.insert_pages, page_rows).scalars())

    field_rows: list[dict[str, Any]] = []
    glyph_rows: list[list[dict[str, Any]]] = []
    for page_row, page_id, fields in zip(page_rows, page_ids, page_fields, strict=True):
        for fld in fields:
            field_rows.append(_field_row(page_row["result_id"], page_id, fld))
            glyph_rows.append(_glyph_rows(fld))
    if field_rows:
        field_ids = list(conn.execute(sql.insert_fields, field_rows).scalars())
        glyphs = [
            {"field_id": field_id, **glyph}
            for field_id, rows in zip(field_ids, glyph_rows, strict=True)
            for glyph in rows
        ]
        if glyphs:
            conn.execute(sql.insert_glyphs, glyphs)
    return result_ids


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
        "line_text": fld.line_text,
        "line_confidence": fld.line_confidence,
        "crop_png": fld.crop_png,
        "reviewed_by": None,
        "reviewed_at": None,
    }


def _glyph_rows(fld: FieldResult) -> list[dict[str, Any]]:
    return [
        {
            "position": position,
            "label": glyph.label,
            "prob": float(glyph.prob),
            "topk": [[label, float(prob)] for label, prob in glyph.topk],
            "box": list(glyph.box),
            "split": glyph.split,
            "cell": glyph.cell,
        }
        for position, glyph in enumerate(fld.glyphs)
    ]
