"""Results database benchmark: document results written per second, review-queue latency.

    .venv/bin/python bench/db.py                       # both backends, prints a Markdown table
    .venv/bin/python bench/db.py --backends sqlite --docs 500 --queue-docs 10000   # quick

Writes go through ``db.store_document`` (one transaction per document) and
``db.store_documents`` (a group per transaction), from one or two writer processes; each
document has one page, two fields (amount, account), 12 glyphs and two PNG crops.
The queue latency is measured on ``--queue-docs`` documents bulk-inserted beforehand (70 %
accepted, 20 % in review, 7 % rejected, 3 % errors; 10 % of documents also carry an older,
superseded result), then ``db.review_queue(session, limit=20)`` is timed, warm.
PostgreSQL: ``HDR_TEST_PG_URL`` or the local server; the benchmark works in a schema of its
own, dropped at the end. SQLite: a file in a temporary directory.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# `python bench/db.py` puts bench/ first on sys.path, where this file would shadow the db
# package: look in the repository root instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from sqlalchemy import Engine, insert, text  # noqa: E402

from db import (  # noqa: E402
    batch_summaries,
    create_engine_from_url,
    list_documents,
    review_queue,
    session_scope,
    start_batch,
    store_document,
    store_documents,
    upgrade,
)
from db.models import Batch, BatchItem, Document, Field, ModelVersion, Page, Result, utcnow  # noqa: E402
from db.testing import crop_png, postgres_schema, require_postgres, sample_result  # noqa: E402
from hdr.types import Status  # noqa: E402

CHUNK = 5000


def _write(url: str, batch_id: int, seeds: range, group: int, start: Any, done: Any) -> None:
    """One writer: builds its results, waits for the start signal, stores them."""
    engine = create_engine_from_url(url)
    results = [
        sample_result(seed, status=Status.REVIEW if seed % 5 == 0 else Status.ACCEPTED)
        for seed in seeds
    ]
    start.wait()
    began = time.perf_counter()
    if group == 1:
        for result in results:
            store_document(engine, batch_id, result)
    else:
        for i in range(0, len(results), group):
            store_documents(engine, batch_id, results[i : i + group])
    done.put(time.perf_counter() - began)
    engine.dispose()


def bench_writes(url: str, n_docs: int, writers: int, group: int) -> dict[str, float]:
    """Documents stored per second by ``writers`` processes, ``group`` documents a transaction.

    Each writer gets its own share of new documents; the clock runs from a common start
    signal until the slowest writer is done (building the results is not timed).
    """
    engine = create_engine_from_url(url)
    with session_scope(engine, write=True) as session:
        batch_id = start_batch(session, "bench", "bench", "f" * 64)
        offset = session.execute(text("SELECT COUNT(*) FROM documents")).scalar_one()
    engine.dispose()
    ctx = multiprocessing.get_context("spawn")
    start, done = ctx.Event(), ctx.Queue()
    share = n_docs // writers
    procs = [
        ctx.Process(
            target=_write,
            args=(url, batch_id, range(offset + k * share, offset + (k + 1) * share), group,
                  start, done),
        )
        for k in range(writers)
    ]  # fmt: skip
    for proc in procs:
        proc.start()
    time.sleep(3 + writers)  # let every writer import and build its results
    start.set()
    elapsed = max(done.get(timeout=600) for _ in procs)
    for proc in procs:
        proc.join()
    return {"docs": share * writers, "seconds": elapsed, "per_s": share * writers / elapsed}


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def generate_rows(engine: Engine, n_docs: int) -> float:
    """Bulk-insert ``n_docs`` documents with results, pages and fields; returns seconds."""
    start = time.perf_counter()
    now = utcnow()
    crops = [crop_png(i) for i in range(16)]
    with session_scope(engine, write=True) as session:
        session.execute(insert(ModelVersion), [{"id": 1, "sha256": "1" * 64, "created_at": now}])
        session.execute(insert(ModelVersion), [{"id": 2, "sha256": "2" * 64, "created_at": now}])
        session.execute(
            insert(Batch),
            [{"id": 1, "source": "gen", "created_by": "bench", "model_version_id": 2,
              "started_at": now}],
        )  # fmt: skip

    def status_of(i: int) -> str:
        bucket = i % 100
        if bucket < 70:
            return "accepted"
        if bucket < 90:
            return "review"
        return "rejected" if bucket < 97 else "error"

    def results() -> Iterator[tuple[int, int, int, str]]:
        """(result id, document id, model, status); superseded results come first."""
        rid = 0
        for doc in range(1, n_docs + 1):
            if doc % 10 == 0:
                rid += 1
                yield rid, doc, 1, "review"
            rid += 1
            yield rid, doc, 2, status_of(doc)

    def tables() -> Iterator[tuple[Any, Iterator[dict[str, Any]]]]:
        yield Document, (
            {"id": d, "content_key": f"{d:064x}", "sha256": f"{d:064x}",
             "source_uri": f"inbox/{d:07d}.png", "media_type": "image/png", "n_pages": 1,
             "first_seen_at": now}
            for d in range(1, n_docs + 1)
        )  # fmt: skip
        yield Result, (
            {"id": r, "document_id": d, "model_version_id": m, "batch_id": 1,
             "is_current": m == 2, "status": s, "read_status": s, "source_uri": "inbox/x.png",
             "created_at": now}
            for r, d, m, s in results()
        )  # fmt: skip
        yield BatchItem, (
            {"batch_id": 1, "document_id": d, "result_id": r, "reused": False,
             "source_uri": "inbox/x.png", "created_at": now}
            for r, d, m, _ in results()
            if m == 2
        )  # fmt: skip
        yield Page, (
            {"id": r, "result_id": r, "page_index": 0, "status": s, "reasons": []}
            for r, _, _, s in results()
            if s != "error"
        )  # fmt: skip
        yield Field, (
            {"id": 2 * r + k, "result_id": r, "page_id": r, "name": name,
             "value": "1250.00" if k == 0 else "0012345678",
             "read_value": "1250.00" if k == 0 else "0012345678", "confidence": 0.9,
             "status": s if (k == 0 and s == "review") else "accepted",
             "read_status": s if (k == 0 and s == "review") else "accepted",
             "flags": [], "box": [0, 0, 10, 10], "raw_text": "", "crop_png": crops[r % 16]}
            for r, _, _, s in results()
            if s not in ("error", "rejected")
            for k, name in enumerate(("amount", "account"))
        )  # fmt: skip

    for model, rows in tables():
        for chunk in _chunks(rows):
            with session_scope(engine, write=True) as session:
                session.execute(insert(model), chunk)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("model_versions", "batches", "documents", "results", "pages", "fields"):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")
                )  # fmt: skip
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - start


def timed(call: Callable[[], Any], repeat: int = 50) -> dict[str, float]:
    """Milliseconds per call: median and 95th percentile over ``repeat`` warm calls."""
    call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(1000 * (time.perf_counter() - start))
    samples.sort()
    return {"median_ms": statistics.median(samples), "p95_ms": samples[int(0.95 * len(samples))]}


def bench_queries(engine: Engine, n_docs: int) -> dict[str, Any]:
    seconds = generate_rows(engine, n_docs)
    with session_scope(engine) as session:
        queue = review_queue(session, limit=20)
        assert len(queue) == 20, "the generated data should fill the queue"
        return {
            "generated_docs": n_docs,
            "generate_s": seconds,
            "review_queue": timed(lambda: review_queue(session, limit=20)),
            "review_queue_batch": timed(lambda: review_queue(session, limit=20, batch_id=1)),
            "list_review": timed(lambda: list_documents(session, status="review", limit=50)),
            "batch_summary": timed(lambda: batch_summaries(session, batch_id=1), repeat=5),
        }


WRITE_MODES = ((1, 1), (2, 1), (4, 1), (1, 50))  # (writer processes, documents per transaction)


def run_backend(backend: str, n_docs: int, queue_docs: int) -> dict[str, Any]:
    if backend == "postgresql":
        os.environ.setdefault("HDR_REQUIRE_PG", "1")
        base = require_postgres()
        with postgres_schema(base) as url:
            writes = _writes(url, n_docs)
        with postgres_schema(base) as url:
            return {"writes": writes, "queries": _queries(url, queue_docs)}
    with tempfile.TemporaryDirectory(prefix="hdr-bench-db-") as tmp:
        writes = _writes(f"sqlite:///{tmp}/writes.sqlite3", n_docs)
        return {"writes": writes, "queries": _queries(f"sqlite:///{tmp}/queue.sqlite3", queue_docs)}


def commit_latency_ms(url: str, repeat: int = 200) -> float:
    """Median milliseconds of a one-row INSERT + COMMIT: the floor under any transaction."""
    engine = create_engine_from_url(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_commit (x INTEGER)"))
        samples = []
        for i in range(repeat):
            start = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO bench_commit VALUES (:x)"), {"x": i})
            samples.append(1000 * (time.perf_counter() - start))
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE bench_commit"))
        return statistics.median(samples)
    finally:
        engine.dispose()


def _writes(url: str, n_docs: int) -> dict[Any, Any]:
    if not n_docs:
        return {}
    upgrade(url)
    out: dict[Any, Any] = {mode: bench_writes(url, n_docs, *mode) for mode in WRITE_MODES}
    out["commit_ms"] = commit_latency_ms(url)
    return out


def _queries(url: str, queue_docs: int) -> dict[str, Any]:
    if not queue_docs:
        return {}
    upgrade(url)
    engine = create_engine_from_url(url)
    try:
        return bench_queries(engine, queue_docs)
    finally:
        engine.dispose()


def markdown(report: dict[str, dict[str, Any]], command: str) -> str:
    lines = [
        f"Command: `{command}`",
        "",
        "| backend | writers | documents per transaction | results written / s"
        " | one-row commit (median) |",
        "|---|---:|---:|---:|---:|",
    ]
    for backend, data in report.items():
        writes = dict(data["writes"])
        commit = writes.pop("commit_ms", None)
        for (writers, group), w in writes.items():
            lines.append(
                f"| {backend} | {writers} | {group} | {w['per_s']:.0f} ({w['docs']} in"
                f" {w['seconds']:.1f} s) | {commit:.1f} ms |"
            )
    lines += [
        "",
        "| backend | documents | review queue, 20 oldest | same, one batch"
        " | results list --status review | batch summary (all rows) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for backend, data in report.items():
        q = data["queries"]
        if not q:
            continue

        def ms(key: str, q: dict[str, Any] = q) -> str:
            return f"{q[key]['median_ms']:.1f} / {q[key]['p95_ms']:.1f} ms"

        lines.append(
            f"| {backend} | {q['generated_docs']:,} | {ms('review_queue')}"
            f" | {ms('review_queue_batch')} | {ms('list_review')} | {ms('batch_summary')} |"
        )
    lines.append("")
    lines.append("Latencies are median / 95th percentile of warm calls.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--docs", type=int, default=2000, help="documents written per mode")
    parser.add_argument("--queue-docs", type=int, default=100_000, help="rows for the queue")
    args = parser.parse_args(argv)
    report = {
        backend: run_backend(backend, args.docs, args.queue_docs)
        for backend in args.backends.split(",")
    }
    command = "python bench/db.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(markdown(report, command.strip()))


if __name__ == "__main__":
    main()
