"""Writing and reading results on SQLite and PostgreSQL: idempotency, versions, errors, faults."""

from __future__ import annotations

import dataclasses
import io
import json
import multiprocessing
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from db import (
    already_processed,
    batch_summaries,
    create_engine_from_url,
    export_results,
    finish_batch,
    get_document,
    list_documents,
    session_scope,
    start_batch,
    store_document,
    store_documents,
    upgrade,
)
from db.models import BatchItem, Document, Field, Glyph, Page, Result
from db.testing import backend_params, sample_result, temporary_database
from hdr.errors import ReasonCode, StorageError, UsageError
from hdr.types import DocumentResult, FieldResult, PageResult, Status

pytestmark = pytest.mark.integration

MODEL_A = "a" * 64
MODEL_B = "b" * 64
TABLES = (Document, Result, BatchItem, Page, Field, Glyph)


@pytest.fixture(params=backend_params())
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    with temporary_database(request.param, tmp_path) as url:
        upgrade(url)
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine_from_url(db_url)
    yield engine
    engine.dispose()


def new_batch(engine: Engine, model: str = MODEL_A, who: str = "ops") -> int:
    with session_scope(engine, write=True) as session:
        return start_batch(session, "inbox/", who, model, config_hash="cfg1")


def row_counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return {
            model.__tablename__: session.execute(
                select(func.count()).select_from(model)
            ).scalar_one()
            for model in TABLES
        }


def test_stored_document_reads_back_with_every_detail(engine: Engine) -> None:
    batch_id = new_batch(engine)
    original = sample_result(7, amount="1250.00", account="0012345678")
    stored = store_document(engine, batch_id, original)
    assert stored.created

    with session_scope(engine) as session:
        doc = get_document(session, stored.document_id)
        assert doc.sha256 == original.sha256 and doc.media_type == "image/png"
        (result,) = doc.results
        assert result.is_current and result.status == "review" and result.batch_id == batch_id
        assert result.model_version.sha256 == MODEL_A
        assert [p.page_index for p in result.pages] == [0]
        fields = {f.name: f for f in result.fields}
        amount = fields["amount"]
        assert amount.value == "1250.00" and isinstance(amount.value, str)
        assert amount.status == "review" and amount.flags == ["low_confidence"]
        assert amount.box == [900, 180, 1180, 240]
        assert amount.crop_png == original.pages[0].fields["amount"].crop_png
        assert (amount.crop_png or b"").startswith(b"\x89PNG")
        assert fields["account"].value == "0012345678"
        assert amount.line_text == "1250.00" and amount.line_confidence == 0.42
        assert fields["account"].line_text is None  # read without a line reader
        assert [g.label for g in amount.glyphs] == list("1250.0")
        assert amount.glyphs[0].topk == [["1", 0.93], ["7", 0.05], ["reject", 0.02]]
        # found by a sha256 prefix as well
        assert get_document(session, (original.sha256 or "")[:10]).id == doc.id


def test_same_file_twice_is_one_document_and_one_result(engine: Engine) -> None:
    first_batch, second_batch = new_batch(engine), new_batch(engine)
    result = sample_result(1)
    first = store_document(engine, first_batch, result)
    again = store_document(engine, first_batch, result)
    elsewhere = store_document(engine, second_batch, dataclasses.replace(result, source="b.png"))

    assert first.created and not again.created and not elsewhere.created
    assert first.document_id == again.document_id == elsewhere.document_id
    assert first.result_id == elsewhere.result_id
    assert row_counts(engine) == {
        "documents": 1, "results": 1, "batch_items": 2, "pages": 1, "fields": 2, "glyphs": 12,
    }  # fmt: skip
    with session_scope(engine) as session:
        assert already_processed(session, result.sha256 or "", MODEL_A)
        assert not already_processed(session, result.sha256 or "", MODEL_B)
        # the second batch lists the document it saw, though it was read by the first
        assert [r.document_id for r in list_documents(session, batch_id=second_batch)] == [
            first.document_id
        ]
        (summary,) = batch_summaries(session, batch_id=second_batch)
        assert summary.n_documents == 1 and summary.n_reused == 1


def test_new_model_version_adds_a_result_and_keeps_the_old(engine: Engine) -> None:
    old_batch, new_batch_id = new_batch(engine, MODEL_A), new_batch(engine, MODEL_B)
    old = store_document(engine, old_batch, sample_result(3, amount="10.00"))
    new = store_document(engine, new_batch_id, sample_result(3, amount="18.00"))

    assert new.created and new.document_id == old.document_id and new.result_id != old.result_id
    with session_scope(engine) as session:
        doc = get_document(session, old.document_id)
        by_model = {r.model_version.sha256: r for r in doc.results}
        assert not by_model[MODEL_A].is_current and by_model[MODEL_B].is_current
        assert {f.value for f in by_model[MODEL_A].fields if f.name == "amount"} == {"10.00"}
        assert {f.value for f in by_model[MODEL_B].fields if f.name == "amount"} == {"18.00"}
        (row,) = list_documents(session)  # one document; its current values
        assert row.amount == "18.00" and row.model_sha256 == MODEL_B
    assert row_counts(engine)["results"] == 2


def test_a_group_in_one_transaction_answers_every_input_in_order(engine: Engine) -> None:
    batch_id = new_batch(engine)
    earlier = store_document(engine, batch_id, sample_result(2))
    group = [sample_result(3), sample_result(2), sample_result(1), sample_result(3)]
    answers = store_documents(engine, batch_id, group)
    assert [a.created for a in answers] == [True, False, True, False]
    assert answers[1] == dataclasses.replace(earlier, created=False)
    assert answers[0].document_id == answers[3].document_id  # the same file twice: one row
    assert row_counts(engine)["documents"] == row_counts(engine)["results"] == 3
    assert store_documents(engine, batch_id, []) == []

    bad_page = dataclasses.replace(
        sample_result(5).pages[0], fields=ExplodingFields(sample_result(5).pages[0].fields)
    )
    before = row_counts(engine)
    with pytest.raises(RuntimeError):
        store_documents(
            engine,
            batch_id,
            [sample_result(4), dataclasses.replace(sample_result(5), pages=(bad_page,))],
        )
    assert row_counts(engine) == before  # all of the group or none of it


def test_every_input_becomes_a_row_broken_ones_included(engine: Engine) -> None:
    batch_id = new_batch(engine)
    unreadable = DocumentResult(
        source="inbox/missing.png",
        sha256=None,
        media_type=None,
        status=Status.ERROR,
        reason_code=ReasonCode.FILE_NOT_FOUND.value,
        reason_message="no such file: inbox/missing.png",
    )
    broken = sample_result(5, status=Status.ERROR)
    for result in (unreadable, broken, unreadable):  # the unreadable one twice: stored once
        store_document(engine, batch_id, result)

    with session_scope(engine) as session:
        rows = list_documents(session, status="error")
        assert [(r.source_uri, r.reason_code) for r in rows] == [
            ("inbox/missing.png", "file_not_found"),
            ("inbox/cheque_000005.png", "decode_failed"),
        ]
        assert (
            rows[0].sha256 is None and rows[0].reason_message == "no such file: inbox/missing.png"
        )
        counts = finish_batch(session, batch_id, n_inputs=3)
    assert (counts.n_documents, counts.n_error) == (2, 2)


class ExplodingFields(dict[str, FieldResult]):
    """A page's fields that fail half-way through, however they are walked (a pipeline bug)."""

    def _first_then_fail(self, items: Iterator[Any]) -> Iterator[Any]:
        yield next(items)
        raise RuntimeError("field iteration failed")

    def __iter__(self) -> Iterator[str]:
        return self._first_then_fail(super().__iter__())

    def values(self) -> Any:
        return self._first_then_fail(iter(super().values()))

    def items(self) -> Any:
        return self._first_then_fail(iter(super().items()))


def test_exception_half_way_through_a_document_stores_nothing(engine: Engine) -> None:
    batch_id = new_batch(engine)
    store_document(engine, batch_id, sample_result(1))
    before = row_counts(engine)
    good = sample_result(2)
    page = dataclasses.replace(good.pages[0], fields=ExplodingFields(good.pages[0].fields))
    with pytest.raises(RuntimeError, match="field iteration failed"):
        store_document(engine, batch_id, dataclasses.replace(good, pages=(page,)))
    assert row_counts(engine) == before
    assert store_document(engine, batch_id, good).created  # and the database is usable


def _fail_on_glyph_insert(engine: Engine, action: Any) -> None:
    """A database-level fault: runs ``action`` when the glyph rows are about to be written,
    after the document, result, page and field rows went to the database."""

    @event.listens_for(engine, "before_cursor_execute")
    def _fault(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO GLYPHS"):
            action()


def test_database_fault_half_way_through_a_document_rolls_it_back(engine: Engine) -> None:
    batch_id = new_batch(engine)
    before = row_counts(engine)

    def boom() -> None:
        raise OSError("disk unplugged")

    _fail_on_glyph_insert(engine, boom)
    with pytest.raises(OSError, match="disk unplugged"):
        store_document(engine, batch_id, sample_result(9))
    assert row_counts(engine) == before


def _crash_while_storing(url: str, batch_id: int) -> None:
    engine = create_engine_from_url(url)
    _fail_on_glyph_insert(engine, lambda: os._exit(3))  # the process dies mid-transaction
    store_document(engine, batch_id, sample_result(11))


def test_process_crash_half_way_through_a_document_leaves_nothing(
    engine: Engine, db_url: str
) -> None:
    batch_id = new_batch(engine)
    before = row_counts(engine)
    proc = multiprocessing.get_context("spawn").Process(
        target=_crash_while_storing, args=(db_url, batch_id)
    )
    proc.start()
    proc.join(60)
    assert proc.exitcode == 3
    assert row_counts(engine) == before
    assert store_document(engine, batch_id, sample_result(11)).created  # no lock left behind


def test_batch_counts_rates_filters_and_export(engine: Engine) -> None:
    batch_id = new_batch(engine)
    statuses = [Status.ACCEPTED] * 5 + [Status.REVIEW] * 3 + [Status.REJECTED, Status.ERROR]
    for seed, status in enumerate(statuses):
        store_document(engine, batch_id, sample_result(seed, status=status, amount="1250.00"))
    other_batch = new_batch(engine)
    store_document(engine, other_batch, sample_result(100, status=Status.ACCEPTED))

    with session_scope(engine, write=True) as session:
        counts = finish_batch(session, batch_id, n_inputs=10)
    assert (counts.n_accepted, counts.n_review, counts.n_rejected, counts.n_error) == (5, 3, 1, 1)

    with session_scope(engine) as session:
        (summary,) = batch_summaries(session, batch_id=batch_id)
        assert summary.n_documents == 10 and summary.n_inputs == 10
        assert summary.read_rate == pytest.approx(0.5)
        assert summary.review_rate == pytest.approx(0.3)
        assert summary.error_rate == pytest.approx(0.1)
        assert summary.n_pending_review == 3
        assert summary.finished_at is not None
        assert len(batch_summaries(session)) == 2
        with pytest.raises(UsageError) as not_found:
            batch_summaries(session, batch_id=999)
        assert not_found.value.code is ReasonCode.NOT_FOUND

        assert len(list_documents(session, status="review", batch_id=batch_id)) == 3
        assert len(list_documents(session, batch_id=other_batch)) == 1
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        assert list_documents(session, since=tomorrow) == []
        assert len(list_documents(session, since=tomorrow - timedelta(days=2))) == 11
        with pytest.raises(UsageError):
            list_documents(session, status="maybe")

        csv_out = io.StringIO()
        assert export_results(session, csv_out, "csv", batch_id=batch_id) == 10
        header, first = csv_out.getvalue().splitlines()[:2]
        assert header.startswith("document_id,sha256,source_uri,status,")
        assert ",1250.00," in first  # amounts are text, never 1250.0

        jsonl_out = io.StringIO()
        assert export_results(session, jsonl_out, "jsonl", status="accepted") == 6
        records = [json.loads(line) for line in jsonl_out.getvalue().splitlines()]
        assert {r["status"] for r in records} == {"accepted"}
        assert records[0]["amount"] == "1250.00"


def test_unknown_batch_and_unknown_document_are_not_found(engine: Engine) -> None:
    with pytest.raises(UsageError) as err:
        store_document(engine, 12345, sample_result(1))
    assert err.value.code is ReasonCode.NOT_FOUND
    with session_scope(engine) as session, pytest.raises(UsageError) as err:
        get_document(session, "deadbeefdeadbeef")
    assert err.value.code is ReasonCode.NOT_FOUND


def test_unreachable_postgres_is_a_storage_error() -> None:
    engine = create_engine_from_url("postgresql+psycopg://postgres@127.0.0.1:1/none")
    with pytest.raises(StorageError) as err, session_scope(engine) as session:
        session.execute(select(1))
    assert err.value.code is ReasonCode.DB_UNAVAILABLE
    assert "127.0.0.1:1" in err.value.message and "HDR_DB_URL" in (err.value.hint or "")


def test_missing_schema_says_run_upgrade(tmp_path: Any) -> None:
    engine = create_engine_from_url(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    with pytest.raises(StorageError) as err, session_scope(engine) as session:
        list_documents(session)
    assert err.value.code is ReasonCode.DB_ERROR and "hdr db upgrade" in str(err.value)


def test_page_without_fields_is_stored(engine: Engine) -> None:
    batch_id = new_batch(engine)
    blank = DocumentResult(
        source="inbox/blank.pdf",
        sha256="c" * 64,
        media_type="application/pdf",
        status=Status.REJECTED,
        pages=(PageResult(index=0, status=Status.REJECTED, reasons=("blank_page",)),),
        reason_code="blank_page",
    )
    stored = store_document(engine, batch_id, blank)
    with session_scope(engine) as session:
        (result,) = get_document(session, stored.document_id).results
        assert result.status == "rejected" and result.pages[0].reasons == ["blank_page"]
        assert result.fields == []
