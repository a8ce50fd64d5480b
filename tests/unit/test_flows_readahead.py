"""Reading ahead (flows.readahead): what `hdr batch` reads while its Prefect API starts.

The chunk task is called as a plain function (``task.fn``) on a real SQLite file, with a
real read-ahead thread: a result is taken only when made by the same model and configuration
from the very bytes the task hashes, and the task stores it like the ones it reads.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from db import create_engine_from_url, session_scope, upgrade
from db.models import Document
from hdr.config import config_hash, load_pipeline_config

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "sample"


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{(tmp_path / 'results.sqlite3').as_posix()}"
    upgrade(url)
    yield url
    from flows.runtime import dispose_all

    dispose_all()


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("doc_0002.png", "doc_0006.pdf", "doc_0008.png"):
        shutil.copy(SAMPLE / name, folder / name)
    return sorted(str(p) for p in folder.iterdir())


def _job(db_url: str) -> object:
    from flows.models import pinned_model
    from flows.tasks import ChunkJob, open_batch

    cfg = load_pipeline_config()
    model = pinned_model(cfg)
    batch_id = open_batch.fn(db_url, "in/", "tester", model, config_hash(cfg))
    return ChunkJob(batch_id, db_url, model, cfg, 0, 0.0)


def _stored_keys(db_url: str) -> set[str]:
    engine = create_engine_from_url(db_url)
    with session_scope(engine) as session:
        keys = set(session.scalars(select(Document.content_key)))
    engine.dispose()
    return keys


def test_results_read_ahead_are_the_pipelines_and_only_for_their_model(
    db_url: str, files: list[str]
) -> None:
    from flows.models import pinned_model
    from flows.readahead import ReadAhead
    from flows.runtime import reader_for
    from hdr.pipeline import read_documents

    cfg = load_pipeline_config()
    model = pinned_model(cfg)
    ahead = ReadAhead(files, model, cfg, db_url)
    ahead._thread.join()  # let it read all three (a task would stop it sooner)
    assert ahead.take(files, ("other.onnx", model.sha256, config_hash(cfg))) == {}

    again = ReadAhead(files, model, cfg, db_url)
    again._thread.join()
    taken = again.take(files, again.key)
    classifier, templates = reader_for(model.path, model.sha256, model.backend, cfg)
    direct = list(read_documents(files, cfg, classifier=classifier, templates=templates))
    assert sorted(taken) == files
    for result in direct:
        mine = taken[result.source]
        assert (mine.sha256, mine.status) == (result.sha256, result.status)
        assert mine.pages == result.pages
    assert again.take(files, again.key) == {}  # handed over once


def test_the_chunk_task_stores_what_was_read_ahead_and_rereads_a_changed_file(
    db_url: str, files: list[str]
) -> None:
    from flows.readahead import reading_ahead
    from flows.tasks import read_and_store_chunk

    job = _job(db_url)
    with reading_ahead(files, job.model, job.pipeline, db_url) as ahead:  # type: ignore[attr-defined]
        ahead._thread.join()
        # fault: a file replaced after it was read ahead (a scanner rewrote it)
        shutil.copy(SAMPLE / "doc_0014.png", files[1])
        report = read_and_store_chunk.fn(files, job)
    assert [o.status != "skipped" for o in report.outcomes] == [True, True, True]
    new_bytes = hashlib.sha256(Path(files[1]).read_bytes()).hexdigest()
    old_bytes = hashlib.sha256((SAMPLE / "doc_0006.pdf").read_bytes()).hexdigest()
    keys = _stored_keys(db_url)
    assert new_bytes in keys and old_bytes not in keys  # what is on disk now was read and stored
    assert len(keys) == 3


def test_a_database_it_cannot_open_stops_reading_ahead_quietly(
    db_url: str, files: list[str], tmp_path: Path
) -> None:
    from flows.models import pinned_model
    from flows.readahead import ReadAhead

    cfg = load_pipeline_config()
    # fault: the "database file" is a folder, so the check for stored documents fails
    ahead = ReadAhead(files, pinned_model(cfg), cfg, f"sqlite:///{tmp_path}")
    ahead._thread.join()
    assert ahead.take(files, ahead.key) == {}  # the chunk task reads them all itself
