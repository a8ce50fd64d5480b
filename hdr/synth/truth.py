"""Ground truth of generated documents: one JSON line per file and page in ``truth.jsonl``.

Fields of a line (pixel boxes are ``[x0, y0, x1, y1]`` in the page as stored in the file; a
PDF page's pixels are those you get rasterising it at ``dpi``, which is always 200 for PDFs):

- ``file``: file name inside the output folder; ``page``: 0-based page number.
- ``layout``: template name (``configs/templates/<layout>.yaml``), an ``unseen_*`` layout the
  pipeline has no template for (``unseen`` is then true), or ``not_a_document``.
- ``kind``: ``cheque`` | ``deposit_slip`` | ``other``.
- ``amount``: canonical two-decimal string (``"1250.00"``), or null when no valid amount is
  written (blank, crossed out, letter among the digits, not a document).
- ``account``: the account digits (``"00123456789"``), or null likewise.
- ``expected_status``: ``accepted`` (clean), ``review`` (a blank field, a crossed-out amount, a
  letter among the digits), ``rejected`` (not a bank document).
- ``hard_case``: null, or one of :data:`HARD_CASES`.
- ``amount_text`` / ``account_text``: the glyph string actually written (``"₹1,250/-"``,
  ``"12K5"``), or null when the field was left blank.
- ``boxes``: ``{"amount": box, "account": box}``: the fields as printed (the amount box interior,
  the account cell row), mapped through the scan's rotation and skew; empty for other pages.
- ``cells``: the account cells' boxes, left to right.
- ``glyphs``: ``{"amount": [...], "account": [...]}``, each glyph ``{"label", "box", "source",
  "cell"}``; ``source`` is ``mnist-test:<index>`` (an MNIST *test* image), ``font:<file>`` or
  ``pen`` (strokes drawn directly: dots, dashes). Letters stand for the reject class.
- ``dpi``, ``size`` (``[width, height]``), ``rotation`` (degrees), ``mode`` (``RGB`` | ``L`` |
  ``1``), ``format`` (``png`` | ``jpg`` | ``tif`` | ``pdf``), ``pages`` (pages in the file).

>>> from hdr.synth.truth import read_truth
>>> records = read_truth("tests/resources/sample/truth.jsonl")
>>> sorted({r.expected_status for r in records})
['accepted', 'rejected', 'review']
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from hdr.errors import DataError, ReasonCode

if TYPE_CHECKING:
    from hdr.config import PipelineConfig
    from hdr.types import PageResult

HARD_CASES = (
    "blank_amount",
    "blank_account",
    "crossed_out",
    "letter_in_amount",
    "letter_in_account",
    "not_a_document",
)
REVIEW_CASES = frozenset(HARD_CASES) - {"not_a_document"}
NOT_A_DOCUMENT = "not_a_document"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GlyphTruth(_Strict):
    label: str
    box: tuple[int, int, int, int]
    source: str
    cell: int | None = None


class TruthRecord(_Strict):
    """One page of one generated file."""

    file: str
    page: int
    pages: int
    format: Literal["png", "jpg", "tif", "pdf"]
    layout: str
    unseen: bool
    kind: Literal["cheque", "deposit_slip", "other"]
    amount: str | None
    account: str | None
    expected_status: Literal["accepted", "review", "rejected"]
    hard_case: str | None
    amount_text: str | None
    account_text: str | None
    boxes: dict[str, tuple[int, int, int, int]]
    cells: tuple[tuple[int, int, int, int], ...]
    glyphs: dict[str, tuple[GlyphTruth, ...]]
    dpi: int
    size: tuple[int, int]
    rotation: float
    mode: Literal["RGB", "L", "1"]


def expected_status(hard_case: str | None) -> str:
    """The status a perfect reader gives a page with this hard case."""
    if hard_case == NOT_A_DOCUMENT:
        return "rejected"
    return "review" if hard_case in REVIEW_CASES else "accepted"


def truth_line(record: TruthRecord) -> str:
    return json.dumps(record.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))


def write_truth(path: Path, records: list[TruthRecord]) -> None:
    """Write records as JSON lines (UTF-8, fixed key order, so equal runs give equal bytes)."""
    path.write_text("".join(truth_line(r) + "\n" for r in records), encoding="utf-8")


def read_truth(path: Path | str) -> list[TruthRecord]:
    """Read and validate ``truth.jsonl``; DataError naming the line when one is malformed."""
    records = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(TruthRecord.model_validate_json(line))
        except ValidationError as exc:
            raise DataError(ReasonCode.DATA_MISSING, f"{path}:{n}: bad truth line: {exc}") from exc
    return records


def read_with_truth(
    folder: Path, cfg: PipelineConfig, classifier: Any
) -> Iterator[tuple[str, TruthRecord, PageResult]]:
    """Read every file of an ``hdr synth`` folder with the pipeline; for each page that has a
    truth line: ``file#page``, its truth record and what the pipeline read."""
    from hdr.pipeline import read_documents

    truth = {(r.file, r.page): r for r in read_truth(folder / "truth.jsonl")}
    files = sorted({f for f, _ in truth})
    for result in read_documents([folder / f for f in files], cfg, classifier=classifier):
        name = Path(result.source).name
        for page in result.pages:
            record = truth.get((name, page.index))
            if record is not None:
                yield f"{name}#{page.index}", record, page
