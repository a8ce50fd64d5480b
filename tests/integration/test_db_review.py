"""The review queue, corrections by people and their audit trail, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from db import (
    create_engine_from_url,
    field_crop,
    get_document,
    list_documents,
    next_for_review,
    review_queue,
    session_scope,
    set_review,
    start_batch,
    store_document,
    upgrade,
)
from db.models import Field, Review
from db.testing import backend_params, sample_result, temporary_database
from hdr.errors import ReasonCode, UsageError
from hdr.types import Status

pytestmark = pytest.mark.integration


@pytest.fixture(params=backend_params())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with temporary_database(request.param, tmp_path) as url:
        upgrade(url)
        engine = create_engine_from_url(url)
        yield engine
        engine.dispose()


def ingest(engine: Engine, seeds_and_statuses: list[tuple[int, Status]]) -> int:
    with session_scope(engine, write=True) as session:
        batch_id = start_batch(session, "inbox/", "ops", "d" * 64)
    for seed, status in seeds_and_statuses:
        store_document(engine, batch_id, sample_result(seed, status=status))
    return batch_id


def test_queue_holds_fields_in_review_oldest_first(engine: Engine) -> None:
    first = ingest(engine, [(1, Status.REVIEW), (2, Status.ACCEPTED), (3, Status.REVIEW)])
    second = ingest(engine, [(4, Status.REVIEW), (5, Status.ERROR)])
    with session_scope(engine) as session:
        queue = review_queue(session)
        assert [(q.field_name, q.source_uri) for q in queue] == [
            ("amount", "inbox/cheque_000001.png"),
            ("amount", "inbox/cheque_000003.png"),
            ("amount", "inbox/cheque_000004.png"),
        ]
        assert queue[0].flags == ["low_confidence"] and queue[0].confidence == pytest.approx(0.81)
        assert [q.batch_id for q in review_queue(session, batch_id=second)] == [second]
        assert len(review_queue(session, batch_id=first)) == 2
        assert review_queue(session, field_name="account") == []
        assert [q.field_id for q in review_queue(session, after_field_id=queue[0].field_id)] == [
            q.field_id for q in queue[1:]
        ]
        item = next_for_review(session)
        assert item is not None and item.field_id == queue[0].field_id
        assert (field_crop(session, item.field_id) or b"").startswith(b"\x89PNG")


def test_a_correction_is_accepted_by_a_person_and_audited(engine: Engine) -> None:
    ingest(engine, [(1, Status.REVIEW)])
    with session_scope(engine) as session:
        item = next_for_review(session)
    assert item is not None
    read_value = item.value

    with session_scope(engine, write=True) as session:
        review = set_review(session, item.field_id, " 1250,5 ", by="alice", note="smudged 5")
    assert (review.old_value, review.new_value) == (read_value, "1250.50")
    assert (review.old_status, review.new_status) == ("review", "accepted")

    with session_scope(engine) as session:
        fld = session.get(Field, item.field_id)
        assert fld is not None
        assert (fld.value, fld.status, fld.reviewed_by) == ("1250.50", "accepted", "alice")
        assert (fld.read_value, fld.read_status) == (read_value, "review")  # the machine's
        assert next_for_review(session) is None
        (row,) = list_documents(session)
        assert row.status == "accepted" and row.read_status == "review" and row.amount == "1250.50"

    # a second opinion is a second audit row; the first stays as it was
    with session_scope(engine, write=True) as session:
        set_review(session, item.field_id, "1250.00", by="bob")
    with session_scope(engine) as session:
        trail = session.execute(select(Review).order_by(Review.id)).scalars().all()
        assert [(r.reviewer, r.old_value, r.new_value, r.note) for r in trail] == [
            ("alice", read_value, "1250.50", "smudged 5"),
            ("bob", "1250.50", "1250.00", None),
        ]
        doc = get_document(session, row.document_id)
        (amount,) = [f for f in doc.results[0].fields if f.name == "amount"]
        assert [r.reviewer for r in amount.reviews] == ["alice", "bob"]


def test_a_document_stays_in_review_until_its_last_field_is_settled(engine: Engine) -> None:
    ingest(engine, [(1, Status.REVIEW)])
    with session_scope(engine, write=True) as session:
        # put the account in review as well, as the pipeline would for two unsure fields
        account = session.execute(select(Field).where(Field.name == "account")).scalar_one()
        account.status = account.read_status = "review"
    with session_scope(engine, write=True) as session:
        first = next_for_review(session)
        assert first is not None
        set_review(session, first.field_id, "10.00", by="alice")
    with session_scope(engine) as session:
        assert list_documents(session)[0].status == "review"
        last = next_for_review(session)
        assert last is not None and last.field_name == "account"
    with session_scope(engine, write=True) as session:
        set_review(session, last.field_id, "0012-3456 78", by="alice")
    with session_scope(engine) as session:
        (row,) = list_documents(session)
        assert (row.status, row.account) == ("accepted", "0012345678")


@pytest.mark.parametrize(
    ("value", "by", "code"),
    [("12.5.0", "alice", ReasonCode.USAGE), ("12.00", "  ", ReasonCode.USAGE)],
)
def test_bad_corrections_are_refused_and_change_nothing(
    engine: Engine, value: str, by: str, code: ReasonCode
) -> None:
    ingest(engine, [(1, Status.REVIEW)])
    with session_scope(engine) as session:
        item = next_for_review(session)
    assert item is not None
    with pytest.raises(UsageError) as err, session_scope(engine, write=True) as session:
        set_review(session, item.field_id, value, by=by)
    assert err.value.code is code
    with session_scope(engine) as session:
        assert session.execute(select(Review)).first() is None
        assert next_for_review(session) is not None


def test_unknown_field_is_not_found(engine: Engine) -> None:
    with pytest.raises(UsageError) as err, session_scope(engine, write=True) as session:
        set_review(session, 424242, "1.00", by="alice")
    assert err.value.code is ReasonCode.NOT_FOUND
