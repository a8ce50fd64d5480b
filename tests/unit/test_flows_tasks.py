"""The tasks of `process-batch`, called as plain functions (``task.fn``) on a real SQLite file.

No Prefect server is involved: these are the behaviours of each step, checked in the rows
they write. The flow itself, under Prefect, is tested in tests/integration/flows/.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import create_engine_from_url, session_scope, upgrade
from db.models import BatchItem, Document, Field, Result
from hdr.config import config_hash, load_pipeline_config
from hdr.errors import ReasonCode, StorageError, UsageError

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
    for name in ("doc_0002.png", "doc_0004.tif"):
        shutil.copy(SAMPLE / name, folder / name)
    (folder / "empty.png").write_bytes(b"")
    return sorted(str(p) for p in folder.iterdir())


def new_batch(db_url: str) -> tuple[int, object]:
    from flows.models import pinned_model
    from flows.tasks import open_batch

    cfg = load_pipeline_config()
    model = pinned_model(cfg)
    return open_batch.fn(db_url, "in/", "tester", model, config_hash(cfg)), model


def job_for(db_url: str, batch_id: int, model: object) -> object:
    from flows.tasks import ChunkJob

    return ChunkJob(batch_id, db_url, model, load_pipeline_config(), 0, 0.0)  # type: ignore[arg-type]


def count(db_url: str, column: object, *where: object) -> int:
    engine = create_engine_from_url(db_url)
    with session_scope(engine) as s:
        n = s.scalar(select(func.count(column)).where(*where))  # type: ignore[arg-type]
    engine.dispose()
    return int(n or 0)


def test_list_inputs_walks_the_folder_and_leaves_other_files_out(files: list[str]) -> None:
    from flows.tasks import list_inputs

    folder = Path(files[0]).parent
    (folder / "truth.jsonl").write_text("{}\n")
    found = list_inputs.fn(str(folder))
    assert found.paths == files and found.skipped == [str(folder / "truth.jsonl")]


def test_a_chunk_stores_every_document_with_its_status(db_url: str, files: list[str]) -> None:
    from flows import progress
    from flows.tasks import read_and_store_chunk

    batch_id, model = new_batch(db_url)
    events: list[progress.ProgressEvent] = []
    with progress.listening(events.append):
        report = read_and_store_chunk.fn(files, job_for(db_url, batch_id, model))
    by_name = {Path(o.source).name: o for o in report.outcomes}
    assert by_name["empty.png"].status == "error"
    assert by_name["empty.png"].reason_code == ReasonCode.EMPTY_FILE.value
    assert {by_name[n].status for n in ("doc_0002.png", "doc_0004.tif")} <= {"accepted", "review"}
    assert all(o.created for o in report.outcomes)
    assert count(db_url, Document.id) == count(db_url, Result.id) == 3
    assert count(db_url, Field.id) >= 4  # amount and account of both cheques
    assert {"hash", "skip_check", "store", "locate", "recognize"} <= set(report.stage_seconds)
    assert sorted(s for e in events for s in e.sources) == files


def test_a_chunk_run_again_reads_nothing_and_records_the_batch_saw_them(
    db_url: str, files: list[str]
) -> None:
    from flows.tasks import read_and_store_chunk

    batch_id, model = new_batch(db_url)
    read_and_store_chunk.fn(files, job_for(db_url, batch_id, model))
    second, _ = new_batch(db_url)
    report = read_and_store_chunk.fn(files, job_for(db_url, second, model))
    assert [o.status for o in report.outcomes] == ["skipped"] * 3
    assert "model_load" not in report.stage_seconds  # not even the model was needed
    assert count(db_url, Result.id) == 3
    assert count(db_url, BatchItem.id, BatchItem.batch_id == second) == 3
    assert count(db_url, BatchItem.id, BatchItem.reused.is_(True)) == 3


def test_close_batch_counts_and_lists_the_fields_waiting_for_review(
    db_url: str, files: list[str]
) -> None:
    from flows.tasks import close_batch, read_and_store_chunk

    batch_id, model = new_batch(db_url)
    report = read_and_store_chunk.fn(files, job_for(db_url, batch_id, model))
    closed = close_batch.fn(db_url, batch_id, n_inputs=3)
    statuses = [o.status for o in report.outcomes]
    assert closed.counts.n_documents == 3 and closed.counts.n_error == statuses.count("error")
    assert closed.counts.n_review == statuses.count("review")
    assert len(closed.review_rows) == count(db_url, Field.id, Field.status == "review")
    assert all(row.field_name in ("amount", "account") for row in closed.review_rows)


def test_resuming_a_batch_needs_the_same_model(db_url: str) -> None:
    import dataclasses

    from flows.tasks import open_batch

    batch_id, model = new_batch(db_url)
    cfg_hash = config_hash(load_pipeline_config())
    assert open_batch.fn(db_url, "in/", "t", model, cfg_hash, resume_batch=batch_id) == batch_id
    other = dataclasses.replace(model, sha256="f" * 64)  # type: ignore[type-var]
    with pytest.raises(UsageError, match="was read with model"):
        open_batch.fn(db_url, "in/", "t", other, cfg_hash, resume_batch=batch_id)
    with pytest.raises(UsageError) as err:
        open_batch.fn(db_url, "in/", "t", model, cfg_hash, resume_batch=999)
    assert err.value.code is ReasonCode.NOT_FOUND


def test_archive_files_moves_what_it_can_and_says_what_it_cannot(tmp_path: Path) -> None:
    from flows.tasks import archive_files

    inbox = tmp_path / "inbox"
    (inbox / "day1").mkdir(parents=True)
    (inbox / "day1" / "a.png").write_bytes(b"a")
    (inbox / "b.png").write_bytes(b"b")
    archive = tmp_path / "archive"
    (archive / "b.png").mkdir(parents=True)  # a folder where b.png should go: cannot be replaced
    moved, failures = archive_files.fn(
        [str(inbox / "day1" / "a.png"), str(inbox / "b.png"), str(inbox / "gone.png")],
        [str(inbox)],
        str(archive),
    )
    assert (archive / "day1" / "a.png").read_bytes() == b"a"
    assert moved == 2 and failures == []
    assert (archive / "b-1.png").read_bytes() == b"b"  # the name taken: a suffix, nothing lost

    (inbox / "c.png").write_bytes(b"c")
    not_a_folder = tmp_path / "archive.txt"
    not_a_folder.write_text("a file, not a folder")
    moved, failures = archive_files.fn([str(inbox / "c.png")], [str(inbox)], str(not_a_folder))
    assert moved == 0 and len(failures) == 1 and failures[0].startswith(str(inbox / "c.png"))
    assert (inbox / "c.png").exists()  # left where it was, and said so


def test_retries_are_for_an_unreachable_database_and_a_blinking_share_only() -> None:
    from prefect.states import Failed

    from flows.tasks import retry_if_transient

    def retried(exc: BaseException) -> bool:
        return retry_if_transient(None, None, Failed(data=exc))

    assert retried(StorageError(ReasonCode.DB_UNAVAILABLE, "cannot reach"))
    assert retried(OSError(errno.EIO, "Input/output error"))
    assert retried(OSError(errno.ESTALE, "Stale file handle"))
    assert not retried(StorageError(ReasonCode.DB_ERROR, "no schema"))
    assert not retried(OSError(errno.ENOENT, "No such file"))
    assert not retried(UsageError(ReasonCode.NOT_FOUND, "no batch"))
    assert not retried(ValueError("a bug"))
