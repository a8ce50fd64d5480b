"""What a batch did, as data (chunk reports, the batch summary) and as the artifacts' Markdown.

Prefect-free, so that `hdr batch` prints the same numbers the UI shows.

>>> s = BatchSummary(batch_id=3, source="inbox/", database="sqlite:///r.sqlite3",
...                  model_sha256="0fc55b5b" * 8, n_inputs=2, n_documents=2, n_accepted=1,
...                  n_review=1, stage_seconds={"locate": 1.5, "recognize": 0.4})
>>> s.slowest_stage
'locate'
>>> "| review | 1 | 50.0 % |" in s.to_markdown()
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_ERRORS_LISTED = 50
MAX_REVIEW_ROWS = 500


@dataclass(frozen=True)
class DocumentOutcome:
    """One input of a chunk: stored now (``created``), or found already stored (``skipped``)."""

    source: str
    status: str  # accepted | review | rejected | error | skipped
    reason_code: str | None = None
    message: str | None = None
    seconds: float = 0.0  # reading, for this document
    created: bool = False


@dataclass
class ChunkReport:
    """What one chunk task did; the flow merges them."""

    outcomes: list[DocumentOutcome] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    worker: str = ""  # host:pid that ran it (Dask shows the spread)

    def add_time(self, stage: str, seconds: float) -> None:
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(o.source for o in self.outcomes)


@dataclass
class BatchSummary:
    """The numbers of a finished batch (counts from the database, times from the chunks)."""

    batch_id: int
    source: str
    database: str  # the URL, password hidden
    model_sha256: str
    model_origin: str = "pinned"
    n_inputs: int = 0  # files found
    n_ignored_files: int = 0  # in folders, but not PNG/JPEG/TIFF/PDF
    n_read: int = 0  # read by this run
    n_reused: int = 0  # already stored with this model version: not read again
    n_documents: int = 0
    n_accepted: int = 0
    n_review: int = 0
    n_rejected: int = 0
    n_error: int = 0
    n_fields_in_review: int = 0  # fields waiting for a person
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # source, code, message
    stage_seconds: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0  # inside the flow
    # `hdr batch` reads its first documents while Prefect's API starts, before the flow runs
    ahead_seconds: float = 0.0
    chunks: int = 0
    workers: int = 0
    archived: int = 0
    archive_failures: list[str] = field(default_factory=list)
    flow_run_id: str | None = None  # the Prefect flow run that read this batch

    def rate(self, n: int) -> float | None:
        return n / self.n_documents if self.n_documents else None

    @property
    def read_rate(self) -> float | None:
        """Share of documents accepted without a person (the `v_batch_summary` definition)."""
        return self.rate(self.n_accepted)

    @property
    def review_rate(self) -> float | None:
        return self.rate(self.n_review)

    @property
    def slowest_stage(self) -> str | None:
        if not self.stage_seconds:
            return None
        return max(self.stage_seconds, key=lambda k: self.stage_seconds[k])

    def to_markdown(self) -> str:
        """The batch's Markdown artifact: counts, rates, errors, where the time went."""

        def pct(n: int) -> str:
            r = self.rate(n)
            return "-" if r is None else f"{100 * r:.1f} %"

        lines = [
            f"# Batch {self.batch_id}",
            "",
            f"Source `{self.source}`; model `{self.model_sha256[:16]}` ({self.model_origin}); "
            f"results in `{self.database}`.",
            "",
            f"{self.n_inputs} files found ({self.n_ignored_files} other files ignored): "
            f"{self.n_read} read now, {self.n_reused} already stored with this model "
            f"(not read again). {self.chunks} chunks on {self.workers} worker(s), "
            f"{self.wall_seconds:.1f} s.",
            "",
            "| status | documents | share |",
            "|---|---:|---:|",
            f"| accepted | {self.n_accepted} | {pct(self.n_accepted)} |",
            f"| review | {self.n_review} | {pct(self.n_review)} |",
            f"| rejected | {self.n_rejected} | {pct(self.n_rejected)} |",
            f"| error | {self.n_error} | {pct(self.n_error)} |",
            f"| **total** | **{self.n_documents}** | |",
            "",
            f"**Read rate** (accepted, no person needed): {pct(self.n_accepted)}. "
            f"**Review rate**: {pct(self.n_review)}; "
            f"{self.n_fields_in_review} field(s) wait for a person.",
            "",
        ]
        if self.stage_seconds:
            total = sum(self.stage_seconds.values()) or 1.0
            lines += [
                f"**Slowest stage**: `{self.slowest_stage}`.",
                "",
                "| stage | seconds (summed over documents) | share |",
                "|---|---:|---:|",
            ]
            for stage, secs in sorted(self.stage_seconds.items(), key=lambda kv: -kv[1]):
                lines.append(f"| {stage} | {secs:.2f} | {100 * secs / total:.1f} % |")
            lines.append("")
        if self.errors:
            lines += [f"## Errors ({self.n_error})", "", "| file | reason | message |"]
            lines.append("|---|---|---|")
            for source, code, message in self.errors[:MAX_ERRORS_LISTED]:
                lines.append(f"| `{source}` | `{code}` | {_cell(message)} |")
            if len(self.errors) > MAX_ERRORS_LISTED:
                lines.append(f"| ... | | {len(self.errors) - MAX_ERRORS_LISTED} more |")
            lines.append("")
        if self.archived or self.archive_failures:
            lines.append(f"{self.archived} file(s) moved to the archive.")
            for failure in self.archive_failures[:MAX_ERRORS_LISTED]:
                lines.append(f"- not moved: {_cell(failure)}")
            lines.append("")
        return "\n".join(lines)

    def to_text(self, max_errors: int = 10) -> str:
        """The few lines `hdr batch` prints at the end."""

        def pct(n: int) -> str:
            r = self.rate(n)
            return "-" if r is None else f"{100 * r:.1f} %"

        lines = [
            f"batch {self.batch_id}: {self.n_documents} documents ({self.n_read} read now, "
            f"{self.n_reused} already stored) in {self.wall_seconds + self.ahead_seconds:.1f} s"
            + (
                f" ({self.ahead_seconds:.1f} s of it reading ahead while Prefect started)"
                if self.ahead_seconds >= 0.05
                else ""
            ),
            f"  accepted {self.n_accepted} ({pct(self.n_accepted)}), review {self.n_review} "
            f"({pct(self.n_review)}), rejected {self.n_rejected}, error {self.n_error}",
            f"  read rate {pct(self.n_accepted)}, review rate {pct(self.n_review)}; "
            f"{self.n_fields_in_review} field(s) wait for review"
            + (f"; slowest stage: {self.slowest_stage}" if self.slowest_stage else ""),
        ]
        for source, code, message in self.errors[:max_errors]:
            text = message if message.startswith(source) else f"{source}: {message}"
            lines.append(f"  error {code}: {text}")
        if len(self.errors) > max_errors:
            lines.append(f"  ... {len(self.errors) - max_errors} more errors")
        if self.archived or self.archive_failures:
            lines.append(f"  {self.archived} file(s) moved to the archive")
            lines += [f"  not moved: {f}" for f in self.archive_failures[:max_errors]]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items()}
        out.update(
            read_rate=self.read_rate, review_rate=self.review_rate, slowest_stage=self.slowest_stage
        )
        return out


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def merge_chunks(reports: Iterable[ChunkReport]) -> tuple[dict[str, float], list[DocumentOutcome]]:
    """Stage seconds summed over chunks, and every document outcome."""
    stages: dict[str, float] = {}
    outcomes: list[DocumentOutcome] = []
    for report in reports:
        for stage, secs in report.stage_seconds.items():
            stages[stage] = stages.get(stage, 0.0) + secs
        outcomes.extend(report.outcomes)
    return {k: round(v, 3) for k, v in stages.items()}, outcomes


def review_table(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows of the review queue as the table artifact shows them."""
    table = []
    for row in rows[:MAX_REVIEW_ROWS]:
        flags = row.flags if isinstance(row.flags, list) else []
        table.append(
            {
                "field_id": row.field_id,
                "document_id": row.document_id,
                "page": row.page_index,
                "field": row.field_name,
                "value": row.value or "",
                "confidence": round(float(row.confidence), 3),
                "flags": ", ".join(str(f) for f in flags),
                "source": row.source_uri,
            }
        )
    return table
