"""The write side: model versions, batches, documents (see :mod:`db.ingest`), batch counts.

>>> engine = create_engine_from_url()            # HDR_DB_URL, schema from `hdr db upgrade`
>>> with session_scope(engine, write=True) as session:
...     batch_id = start_batch(session, "inbox/", "ops", model_sha256, config_hash)
>>> stored = store_document(engine, batch_id, read_document("inbox/c1.png"))
>>> with session_scope(engine, write=True) as session:
...     finish_batch(session, batch_id, n_inputs=1).n_accepted
1

``store_document`` / ``store_documents`` live in :mod:`db.ingest` and are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.ingest import (
    StoredDocument,
    content_key,
    dialect_insert,
    store_document,
    store_documents,
)
from db.models import Batch, BatchItem, Document, ModelVersion, Result, utcnow
from hdr.errors import ReasonCode, UsageError
from hdr.types import Status

__all__ = [
    "BatchCounts",
    "StoredDocument",
    "already_processed",
    "batch_counts",
    "content_key",
    "finish_batch",
    "register_model_version",
    "start_batch",
    "store_document",
    "store_documents",
]


@dataclass(frozen=True)
class BatchCounts:
    """Documents of a batch by the machine's decision (``read_status``)."""

    batch_id: int
    n_documents: int
    n_accepted: int
    n_review: int
    n_rejected: int
    n_error: int


def _insert(session: Session, model: Any) -> Any:
    return dialect_insert(session.get_bind().dialect.name)(model)


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
