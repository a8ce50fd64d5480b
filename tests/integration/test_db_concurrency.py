"""Two processes ingesting overlapping batches at once: no duplicates, no lost rows."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import (
    create_engine_from_url,
    session_scope,
    start_batch,
    store_document,
    store_documents,
    upgrade,
)
from db.models import BatchItem, Document, Field, Glyph, Result
from db.testing import backend_params, sample_result, temporary_database

pytestmark = pytest.mark.integration

MODEL = "c" * 64
N_GLYPHS = 6


@pytest.fixture(params=backend_params())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with temporary_database(request.param, tmp_path) as url:
        upgrade(url)
        yield url


def _ingest(
    url: str, seeds: list[int], group: int, start: multiprocessing.synchronize.Event
) -> None:
    engine = create_engine_from_url(url)
    with session_scope(engine, write=True) as session:
        batch_id = start_batch(session, f"worker {seeds[0]}", "worker", MODEL)
    results = [sample_result(seed, n_glyphs=N_GLYPHS) for seed in seeds]
    start.wait(60)  # both workers write at the same moment
    if group == 1:
        for result in results:
            store_document(engine, batch_id, result)
    else:
        for i in range(0, len(results), group):
            store_documents(engine, batch_id, results[i : i + group])
    engine.dispose()


def test_two_processes_ingesting_overlapping_batches(db_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    first = list(range(0, 60))
    second = list(range(89, 29, -1))  # 30..89 backwards: the overlap 30..59 is hit from both ends
    # one worker stores a document per transaction, the other groups of 7
    workers = [
        ctx.Process(target=_ingest, args=(db_url, seeds, group, start))
        for seeds, group in ((first, 1), (second, 7))
    ]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0, 0]

    engine = create_engine_from_url(db_url)
    with session_scope(engine) as session:

        def count(model: type) -> int:
            return session.execute(select(func.count()).select_from(model)).scalar_one()

        expected = {sample_result(seed).sha256 for seed in range(90)}
        assert set(session.execute(select(Document.sha256)).scalars()) == expected
        assert count(Document) == 90  # no duplicates
        assert count(Result) == 90
        assert count(Field) == 90 * 2
        assert count(Glyph) == 90 * 2 * N_GLYPHS
        per_batch = session.execute(
            select(BatchItem.batch_id, func.count()).group_by(BatchItem.batch_id)
        ).all()
        assert sorted(n for _, n in per_batch) == [60, 60]  # every input of both batches
        reused = session.execute(
            select(func.count()).select_from(BatchItem).where(BatchItem.reused.is_(True))
        ).scalar_one()
        assert reused == 30  # each overlapping file was read once, and seen by the other batch
    engine.dispose()
