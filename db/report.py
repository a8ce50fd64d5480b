"""Plain-text pictures of query results, for the `hdr results` and `hdr review` commands.

>>> print(documents_table(list_documents(session, status="review")))
   id  status  amount    account     batch  read at           source
    7  review  1250.00   0012345678      3  2026-05-02 10:14  inbox/c7.png
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from db.models import Document
from hdr.errors import ReasonCode, UsageError


def parse_since(text: str | None) -> datetime | None:
    """``--since``: a date (``2026-05-01``) or an ISO datetime; naive means UTC."""
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as err:
        raise UsageError(
            ReasonCode.USAGE,
            f"--since {text!r} is not a date",
            hint="use YYYY-MM-DD or YYYY-MM-DDTHH:MM",
        ) from err
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


def _text(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        out = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def documents_table(rows: Sequence[Any]) -> str:
    """Rows of ``v_document_results`` as an aligned table."""
    if not rows:
        return "no documents match"
    body = [
        (
            str(r.document_id),
            r.status,
            _text(r.amount),
            _text(r.account),
            str(r.batch_id),
            _when(r.read_at),
            r.source_uri + (f"  [{r.reason_code}]" if r.reason_code else ""),
        )
        for r in rows
    ]
    headers = ("id", "status", "amount", "account", "batch", "read at", "source")
    return _table(headers, body, right={0, 4})


def summary_table(rows: Sequence[Any]) -> str:
    """Rows of ``v_batch_summary``: counts and rates per batch."""
    if not rows:
        return "no batches yet"

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * float(value):.1f}%"

    body = [
        (
            str(r.batch_id),
            _when(r.started_at),
            r.created_by,
            str(r.n_documents),
            str(r.n_accepted),
            str(r.n_review),
            str(r.n_rejected),
            str(r.n_error),
            pct(r.read_rate),
            pct(r.review_rate),
            pct(r.error_rate),
            str(r.n_pending_review),
            r.source,
        )
        for r in rows
    ]
    headers = (
        "batch",
        "started",
        "by",
        "docs",
        "accepted",
        "review",
        "rejected",
        "error",
        "read rate",
        "review rate",
        "error rate",
        "to review",
        "source",
    )
    return _table(headers, body, right=set(range(3, 12)) | {0})


def document_text(doc: Document) -> str:
    """A document, every result it has (newest model last) and each field's history."""
    lines = [
        f"document {doc.id}  {doc.source_uri}",
        f"  sha256      {_text(doc.sha256)}",
        f"  media type  {_text(doc.media_type)}   pages {_text(doc.n_pages)}"
        f"   first seen {_when(doc.first_seen_at)}",
    ]
    for res in doc.results:
        mark = "current" if res.is_current else "superseded"
        lines.append(
            f"result {res.id} ({mark})  status {res.status} (read: {res.read_status})"
            f"  model {res.model_version.sha256[:12]}  batch {res.batch_id}"
            f"  read {_when(res.created_at)}"
        )
        if res.reason_code:
            lines.append(f"  reason      {res.reason_code}: {_text(res.reason_message)}")
        for page in res.pages:
            reasons = ", ".join(str(x) for x in page.reasons) or "-"
            lines.append(f"  page {page.page_index}: {page.status}  ({reasons})")
        for fld in res.fields:
            glyphs = " ".join(f"{g.label}:{g.prob:.2f}" for g in fld.glyphs)
            lines.append(
                f"  field {fld.id} {fld.name:<8} {_text(fld.value):<14} {fld.status:<9}"
                f" conf {fld.confidence:.3f}  flags {','.join(fld.flags) or '-'}"
            )
            if fld.read_value != fld.value or fld.reviewed_by:
                lines.append(f"      read as {_text(fld.read_value)} ({fld.read_status})")
            if glyphs:
                lines.append(f"      glyphs {glyphs}")
            for rv in fld.reviews:
                note = f"  note: {rv.note}" if rv.note else ""
                lines.append(
                    f"      reviewed {_when(rv.created_at)} by {rv.reviewer}:"
                    f" {_text(rv.old_value)} -> {_text(rv.new_value)}{note}"
                )
    return "\n".join(lines)


def queue_item_text(item: Any, crop_path: str | None = None) -> str:
    """One row of ``v_review_queue``, with what to type to settle it."""
    flags = ", ".join(str(f) for f in item.flags or []) or "-"
    lines = [
        f"field {item.field_id}: {item.field_name} = {_text(item.value)}"
        f"  (confidence {item.confidence:.3f}, flags {flags})",
        f"  document {item.document_id}  page {item.page_index}  batch {item.batch_id}"
        f"  {item.source_uri}",
        f"  raw glyphs {_text(item.raw_text)}",
    ]
    if crop_path:
        lines.append(f"  crop written to {crop_path}")
    lines.append(f'  settle with: hdr review set {item.field_id} VALUE --by NAME [--note "..."]')
    return "\n".join(lines)
