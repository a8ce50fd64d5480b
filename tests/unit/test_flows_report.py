"""The batch summary a person reads (Markdown artifact, `hdr batch` lines), the progress count."""

from __future__ import annotations

from types import SimpleNamespace

from flows.progress import ProgressCounter, ProgressEvent, emit, listening
from flows.report import BatchSummary, ChunkReport, DocumentOutcome, merge_chunks, review_table


def summary() -> BatchSummary:
    return BatchSummary(
        batch_id=7,
        source="/srv/inbox",
        database="postgresql+psycopg://ops:***@db/hdr",
        model_sha256="0fc55b5bcf57edc1" * 4,
        n_inputs=4,
        n_ignored_files=1,
        n_read=3,
        n_reused=1,
        n_documents=4,
        n_accepted=2,
        n_review=1,
        n_error=1,
        n_fields_in_review=2,
        errors=[("/srv/inbox/x.pdf", "truncated_file", "/srv/inbox/x.pdf: cut | short")],
        stage_seconds={"locate": 3.0, "recognize": 1.0, "store": 0.2},
        wall_seconds=5.5,
    )


def test_markdown_has_counts_rates_errors_and_the_slowest_stage() -> None:
    text = summary().to_markdown()
    assert text.startswith("# Batch 7")
    assert "| accepted | 2 | 50.0 % |" in text and "| error | 1 | 25.0 % |" in text
    assert "**Read rate** (accepted, no person needed): 50.0 %" in text
    assert "**Review rate**: 25.0 %; 2 field(s) wait for a person" in text
    assert "**Slowest stage**: `locate`" in text and "| locate | 3.00 | 71.4 % |" in text
    assert "| `/srv/inbox/x.pdf` | `truncated_file` | /srv/inbox/x.pdf: cut \\| short |" in text
    assert "***@db" in text  # the password never appears


def test_text_summary_counts_the_documents_read_ahead_in_its_time() -> None:
    """`hdr batch` reads its first documents before the flow's clock starts: the time it
    prints is the whole reading, not only the flow's bookkeeping afterwards."""
    s = summary()
    s.ahead_seconds = 3.2
    first = s.to_text().splitlines()[0]
    assert first.endswith("in 8.7 s (3.2 s of it reading ahead while Prefect started)")


def test_text_summary_is_short_and_says_where_time_went() -> None:
    lines = summary().to_text().splitlines()
    assert lines[0] == "batch 7: 4 documents (3 read now, 1 already stored) in 5.5 s"
    assert "slowest stage: locate" in lines[2]
    assert lines[3] == "  error truncated_file: /srv/inbox/x.pdf: cut | short"


def test_an_empty_batch_has_no_rates() -> None:
    empty = BatchSummary(batch_id=1, source="inbox", database="sqlite://", model_sha256="0" * 64)
    assert empty.read_rate is None and empty.slowest_stage is None
    assert "| accepted | 0 | - |" in empty.to_markdown()


def test_chunk_reports_merge_and_review_rows_become_a_table() -> None:
    a = ChunkReport([DocumentOutcome("a.png", "accepted")], {"locate": 1.0}, "h:1")
    b = ChunkReport([DocumentOutcome("b.png", "skipped")], {"locate": 0.5, "hash": 0.1}, "h:2")
    stages, outcomes = merge_chunks([a, b])
    assert stages == {"locate": 1.5, "hash": 0.1} and [o.source for o in outcomes] == [
        "a.png",
        "b.png",
    ]
    row = SimpleNamespace(
        field_id=3, document_id=1, page_index=0, field_name="amount", value=None,
        confidence=0.8123, flags=["low_confidence"], source_uri="a.png",
    )  # fmt: skip
    assert review_table([row]) == [
        {
            "field_id": 3, "document_id": 1, "page": 0, "field": "amount", "value": "",
            "confidence": 0.812, "flags": "low_confidence", "source": "a.png",
        }
    ]  # fmt: skip


def test_progress_counts_each_document_once_whoever_reports_it() -> None:
    seen: list[tuple[int, int]] = []
    counter = ProgressCounter(lambda done, total: seen.append((done, total)))

    def broken_listener(event: ProgressEvent) -> None:
        raise RuntimeError("a progress bar must not stop a batch")

    with listening(counter), listening(broken_listener):
        emit(ProgressEvent("start", total=3, batch_id=4))
        emit(ProgressEvent("document", sources=("a",), status="accepted"))
        emit(ProgressEvent("chunk", sources=("a", "b")))  # the chunk repeats what a task said
        emit(ProgressEvent("chunk", sources=("c",)))
    emit(ProgressEvent("document", sources=("d",)))  # after the block: not heard
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)] and counter.batch_id == 4
