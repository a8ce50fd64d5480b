"""The review queue and the append-only audit trail of what people changed.

>>> with session_scope(engine) as session:
...     item = next_for_review(session)               # a row of v_review_queue, or None
>>> with session_scope(engine, write=True) as session:
...     review = set_review(session, item.field_id, "1250.00", by="alice", note="clear")
>>> review.new_status
'accepted'

A reviewed field takes the person's value and becomes ``accepted``; the machine's reading
stays in ``read_value``/``read_status``, and every change is one new row of ``reviews``
(the database refuses to update or delete those). When no field of a result waits for a
person any more, the result itself becomes ``accepted``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Field, Result, Review, utcnow
from db.queries import v_review_queue
from hdr.errors import ReasonCode, UsageError
from hdr.types import FieldName, Status

_AMOUNT = re.compile(r"^\d{1,13}([.,]\d{1,2})?$")
_ACCOUNT = re.compile(r"^\d{1,34}$")
MAX_VALUE_LEN = 64


def normalize_value(field_name: str, value: str) -> str:
    """The value a person typed, in the stored form; ``UsageError`` when it cannot be one.

    >>> normalize_value("amount", "1250,5")
    '1250.50'
    >>> normalize_value("account", "0012 3456-78")
    '0012345678'
    """
    text = value.strip()
    if field_name == FieldName.AMOUNT.value:
        compact = text.replace(" ", "")
        if not _AMOUNT.match(compact):
            raise UsageError(
                ReasonCode.USAGE,
                f"{value!r} is not an amount",
                hint="digits with an optional decimal part, e.g. 1250.00",
            )
        try:
            return str(Decimal(compact.replace(",", ".")).quantize(Decimal("0.01")))
        except InvalidOperation as err:  # pragma: no cover - the pattern already excludes it
            raise UsageError(ReasonCode.USAGE, f"{value!r} is not an amount") from err
    if field_name == FieldName.ACCOUNT.value:
        compact = re.sub(r"[\s-]", "", text)
        if not _ACCOUNT.match(compact):
            raise UsageError(
                ReasonCode.USAGE,
                f"{value!r} is not an account number",
                hint="digits only (spaces and dashes are dropped)",
            )
        return compact
    if not text or len(text) > MAX_VALUE_LEN:
        raise UsageError(ReasonCode.USAGE, f"a value of 1 to {MAX_VALUE_LEN} characters is needed")
    return text


def review_queue(
    session: Session,
    limit: int = 20,
    batch_id: int | None = None,
    field_name: str | None = None,
    after_field_id: int | None = None,
) -> list[Any]:
    """Fields waiting for a person (rows of ``v_review_queue``), oldest first.

    Rows have ``field_id, field_name, value, confidence, flags, raw_text, document_id,
    sha256, source_uri, batch_id, page_index, read_at``. Page with ``after_field_id``.
    """
    v = v_review_queue.c
    query = select(v_review_queue).order_by(v.field_id).limit(limit)
    if batch_id is not None:
        query = query.where(v.batch_id == batch_id)
    if field_name is not None:
        query = query.where(v.field_name == field_name)
    if after_field_id is not None:
        query = query.where(v.field_id > after_field_id)
    return list(session.execute(query).all())


def next_for_review(
    session: Session, batch_id: int | None = None, field_name: str | None = None
) -> Any | None:
    """The oldest field waiting for a person, or None when the queue is empty."""
    rows = review_queue(session, limit=1, batch_id=batch_id, field_name=field_name)
    return rows[0] if rows else None


def get_field(session: Session, field_id: int) -> Field:
    """A field by id; ``UsageError(NOT_FOUND)`` when there is none."""
    fld = session.get(Field, field_id)
    if fld is None:
        raise UsageError(
            ReasonCode.NOT_FOUND,
            f"no field with id {field_id}",
            hint="`hdr review next` shows the next field id",
        )
    return fld


def field_crop(session: Session, field_id: int) -> bytes | None:
    """The PNG crop of a field, as the pipeline stored it (None when it had none)."""
    return get_field(session, field_id).crop_png


def set_review(
    session: Session, field_id: int, value: str, by: str, note: str | None = None
) -> Review:
    """Set a field to the value a person read; append the change to the audit trail.

    The field becomes ``accepted`` (by ``by``); its result too when nothing else of it waits
    for review. Use a write session (``session_scope(engine, write=True)``).
    """
    reviewer = by.strip()
    if not reviewer:
        raise UsageError(ReasonCode.USAGE, "a reviewer name is needed", hint="--by NAME")
    fld = get_field(session, field_id)
    new_value = normalize_value(fld.name, value)
    # Lock the result first, then the field: two people finishing the last two fields of one
    # document at once must see each other's change (PostgreSQL; SQLite has one writer).
    result = session.get(Result, fld.result_id, with_for_update=True, populate_existing=True)
    session.refresh(fld, with_for_update=True)
    assert result is not None  # foreign key

    review = Review(
        field_id=fld.id,
        old_value=fld.value,
        new_value=new_value,
        old_status=fld.status,
        new_status=Status.ACCEPTED.value,
        reviewer=reviewer,
        note=note.strip() if note and note.strip() else None,
        created_at=utcnow(),
    )
    session.add(review)
    fld.value = new_value
    fld.status = Status.ACCEPTED.value
    fld.reviewed_by = reviewer
    fld.reviewed_at = review.created_at
    session.flush()

    waiting = session.execute(
        select(Field.id)
        .where(Field.result_id == result.id, Field.status == Status.REVIEW.value)
        .limit(1)
    ).first()
    if waiting is None and result.status == Status.REVIEW.value:
        result.status = Status.ACCEPTED.value
    session.flush()
    return review
