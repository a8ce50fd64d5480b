"""Review decisions with dual control: large amounts count only once two people agree.

>>> with session_scope(engine, write=True) as session:
...     first = approve_field(session, 17, "25000.00", by="alice", limit=Decimal("10000"))
>>> first.status                      # one approval of an amount above the limit
'pending_second'
>>> with session_scope(engine, write=True) as session:
...     second = approve_field(session, 17, "25000.00", by="bob", limit=Decimal("10000"))
>>> second.status, second.approved_by
('accepted', ('alice', 'bob'))

Below the limit one approval accepts the field (:func:`db.review.set_review`). Above it (the
value typed, the machine's reading or a pending approval's value: the largest counts, so a
lower figure cannot slip a large cheque past the second pair of eyes), the first approval
is recorded and the field stays ``review`` until a *different* reviewer approves the *same*
value. A different value replaces the pending approval and waits again. Every step is a row
of the append-only ``reviews`` audit trail. A field marked unreadable becomes ``rejected``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from db.models import Field, FieldApproval, Result, Review, utcnow
from db.queries import v_review_queue
from db.review import get_field, normalize_value, set_review
from hdr.errors import ReasonCode, UsageError
from hdr.types import FieldName, Status

PENDING_SECOND = "pending_second"


class ReviewConflict(UsageError):
    """The field cannot take this action now: not in review any more, or needs another person."""


@dataclass(frozen=True)
class Decision:
    """What a review action did: the field's status now, and who approved its value."""

    field_id: int
    status: str  # accepted | pending_second | rejected
    value: str | None
    review_id: int
    approved_by: tuple[str, ...]
    message: str


def _amount(text: str | None) -> Decimal | None:
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


def needs_two(fld: Field, value: str, pending: FieldApproval | None, limit: Decimal | None) -> bool:
    """Whether approving ``value`` for ``fld`` needs a second reviewer."""
    if limit is None or fld.name != FieldName.AMOUNT.value:
        return False
    candidates = [value, fld.read_value, pending.value if pending else None]
    amounts = [a for a in map(_amount, candidates) if a is not None]
    return any(a > limit for a in amounts)


def open_approval(session: Session, field_id: int) -> FieldApproval | None:
    """The approval of this field waiting for a second reviewer, if any."""
    query = select(FieldApproval).where(
        FieldApproval.field_id == field_id, FieldApproval.closed_at.is_(None)
    )
    return session.execute(query).scalar_one_or_none()


def _lock(session: Session, field_id: int) -> tuple[Field, Result]:
    fld = get_field(session, field_id)
    result = session.get(Result, fld.result_id, with_for_update=True, populate_existing=True)
    session.refresh(fld, with_for_update=True)
    assert result is not None  # foreign key
    if fld.status != Status.REVIEW.value:
        raise ReviewConflict(
            ReasonCode.USAGE,
            f"field {field_id} is not waiting for review (it is {fld.status})",
            hint="someone else may have reviewed it just now: open the next field",
        )
    return fld, result


def _reviewer(by: str) -> str:
    reviewer = by.strip()
    if not reviewer:
        raise UsageError(ReasonCode.USAGE, "a reviewer name is needed")
    return reviewer


def _audit(
    session: Session,
    fld: Field,
    new_value: str | None,
    new_status: Status,
    reviewer: str,
    what: str,
    note: str | None,
) -> Review:
    """Append a row to the audit trail; the note says ``what`` happened, then the person's."""
    review = Review(
        field_id=fld.id,
        old_value=fld.value,
        new_value=new_value,
        old_status=fld.status,
        new_status=new_status.value,
        reviewer=reviewer,
        note=f"{what}; {note}" if note else what,
        created_at=utcnow(),
    )
    session.add(review)
    session.flush()
    return review


def _close(approval: FieldApproval, by: str, outcome: str) -> None:
    approval.closed_at = utcnow()
    approval.closed_by = by
    approval.outcome = outcome


def _settle_result(session: Session, result: Result) -> None:
    """No field waits any more: a field a person found unreadable rejects the document."""
    statuses = set(
        session.execute(select(Field.status).where(Field.result_id == result.id)).scalars()
    )
    if Status.REVIEW.value in statuses:
        return
    if Status.REJECTED.value in statuses and result.status in (
        Status.REVIEW.value,
        Status.ACCEPTED.value,
    ):
        result.status = Status.REJECTED.value


def approve_field(
    session: Session,
    field_id: int,
    value: str,
    by: str,
    limit: Decimal | None,
    note: str | None = None,
) -> Decision:
    """A reviewer approves ``value`` for a field in review (see the module docstring).

    ``UsageError`` when the value is not valid for the field, the field is not in review, or
    the same reviewer approves a pending value a second time.
    """
    reviewer = _reviewer(by)
    fld, result = _lock(session, field_id)
    new_value = normalize_value(fld.name, value)
    pending = open_approval(session, field_id)
    if not needs_two(fld, new_value, pending, limit):
        if pending is not None:
            _close(pending, reviewer, "superseded")
        review = set_review(session, field_id, new_value, by=reviewer, note=note)
        _settle_result(session, result)
        return Decision(field_id, "accepted", new_value, review.id, (reviewer,), "accepted")

    if pending is not None and pending.value == new_value:
        if pending.reviewer == reviewer:
            raise ReviewConflict(
                ReasonCode.USAGE,
                f"you already approved {new_value}: a second reviewer must approve it",
                hint=f"amounts above {limit} need two different reviewers (dual control)",
            )
        _close(pending, reviewer, "confirmed")
        text = f"second approval (dual control), first by {pending.reviewer}"
        review = set_review(
            session, field_id, new_value, by=reviewer, note=f"{text}; {note}" if note else text
        )
        _settle_result(session, result)
        message = f"accepted: approved by {pending.reviewer} and {reviewer}"
        return Decision(
            field_id, "accepted", new_value, review.id, (pending.reviewer, reviewer), message
        )

    if pending is not None:
        _close(pending, reviewer, "superseded")
        session.flush()  # the open-approval index allows one at a time
    text = f"first approval (dual control: amount above {limit}); waits for a second reviewer"
    if pending is not None:
        text += f"; replaces {pending.value} approved by {pending.reviewer}"
    session.add(FieldApproval(field_id=field_id, value=new_value, reviewer=reviewer))
    review = _audit(session, fld, new_value, Status.REVIEW, reviewer, text, note)
    message = f"{new_value} needs a second reviewer (above {limit})"
    return Decision(field_id, PENDING_SECOND, new_value, review.id, (reviewer,), message)


def mark_unreadable(session: Session, field_id: int, by: str, note: str | None = None) -> Decision:
    """A person cannot read the field either: it becomes ``rejected``, with no value."""
    reviewer = _reviewer(by)
    fld, result = _lock(session, field_id)
    pending = open_approval(session, field_id)
    if pending is not None:
        _close(pending, reviewer, "unreadable")
    review = _audit(session, fld, None, Status.REJECTED, reviewer, "unreadable", note)
    fld.value = None
    fld.status = Status.REJECTED.value
    fld.reviewed_by = reviewer
    fld.reviewed_at = review.created_at
    session.flush()
    _settle_result(session, result)
    session.flush()
    return Decision(field_id, "rejected", None, review.id, (reviewer,), "marked unreadable")


def queue_for(
    session: Session,
    reviewer: str,
    *,
    after_field_id: int | None = None,
    batch_id: int | None = None,
    field_name: str | None = None,
    limit: int = 1,
) -> list[Any]:
    """Rows of ``v_review_queue`` this reviewer can act on (not those they approved already).

    Each row also has ``pending_by``: who made the first approval, when one waits.
    """
    v = v_review_queue.c
    mine = select(FieldApproval.field_id).where(
        FieldApproval.closed_at.is_(None), FieldApproval.reviewer == reviewer
    )
    query = (
        select(v_review_queue, FieldApproval.reviewer.label("pending_by"))
        .outerjoin(
            FieldApproval,
            and_(FieldApproval.field_id == v.field_id, FieldApproval.closed_at.is_(None)),
        )
        .where(v.field_id.not_in(mine))
        .order_by(v.field_id)
        .limit(limit)
    )
    if after_field_id is not None:
        query = query.where(v.field_id > after_field_id)
    if batch_id is not None:
        query = query.where(v.batch_id == batch_id)
    if field_name is not None:
        query = query.where(v.field_name == field_name)
    return list(session.execute(query).all())


__all__ = [
    "PENDING_SECOND",
    "Decision",
    "ReviewConflict",
    "approve_field",
    "mark_unreadable",
    "needs_two",
    "open_approval",
    "queue_for",
]
