"""Located boxes against truth: the committed synthetic sample, and the real cheques.

Sample pages go through the real file reading (hdr.io) and preprocessing (hdr.preprocess);
truth boxes are mapped onto the prepared page (:func:`hdr.fields.evaluate.truth_on_prepared`).
A field is "located" when its crop covers at least 85 % of the truth box and the IoU is at least
0.5 (crops are padded, so IoU stays well under 1). Both template layouts and layouts the
pipeline has no template for (``unseen_*``) are checked.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

from hdr.config import PipelineConfig
from hdr.fields.evaluate import box_iou, coverage, truth_on_prepared
from hdr.fields.locate import Layout, locate_fields, looks_like_paper
from hdr.fields.templates import load_templates
from hdr.io import PageError, iter_pages, triage
from hdr.preprocess import PreparedPage, prepare_page
from hdr.synth.truth import TruthRecord, read_truth
from tests.conftest import REAL_CHEQUES, RESOURCES

CFG = PipelineConfig()
SAMPLE = RESOURCES / "sample"
MIN_COVER, MIN_IOU = 0.85, 0.5


@lru_cache(maxsize=32)
def _pages(path: Path) -> tuple[PreparedPage, ...]:
    out = []
    for page in iter_pages(triage(path, CFG.limits), CFG):
        assert not isinstance(page, PageError), page
        out.append(prepare_page(page, CFG))
    return tuple(out)


@lru_cache(maxsize=64)
def _located(path: Path, index: int) -> tuple[PreparedPage, Layout]:
    page = _pages(path)[index]
    return page, locate_fields(page, load_templates(), CFG)


RECORDS = read_truth(SAMPLE / "truth.jsonl") if (SAMPLE / "truth.jsonl").exists() else []


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: f"{r.file}:{r.page}:{r.layout}")
def test_sample_page_fields_are_located(record: TruthRecord) -> None:
    page, layout = _located(SAMPLE / record.file, record.page)
    if record.layout == "not_a_document":
        assert not layout.is_document
        return
    assert layout.is_document
    if record.unseen:
        assert layout.name == "generic"
    else:
        assert layout.name == f"template:{record.layout}"
    for name in ("amount", "account"):
        truth = truth_on_prepared(record.boxes[name], page.gray.shape, page.skew_deg)
        crop = layout.crops.get(name)
        assert crop is not None, (name, layout.flags)
        assert coverage(truth, crop.box) >= MIN_COVER, (name, truth, crop.box)
        assert box_iou(truth, crop.box) >= MIN_IOU, (name, truth, crop.box)
    assert len(layout.crops["account"].cells) == len(record.cells)


@pytest.mark.parametrize("path", sorted({SAMPLE / r.file for r in RECORDS}), ids=lambda p: p.name)
def test_sample_pages_pass_the_paper_check(path: Path) -> None:
    """The not-a-document check for noise must never reject a scanned form."""
    for page in _pages(path):
        assert looks_like_paper(page.gray)


# --------------------------------------------------------------------------- real cheques

# The real cheques carry no box truth. What is checked: an amount crop is found, lies where
# Indian CTS cheques print the amount box (right of the middle, between the top fifth and the
# middle of the page), and the page is a document. Measured 38/38 when written; the floor
# below leaves room for a few misses without hiding a broken locator.
REAL_FLOOR = 0.9


def _real_files() -> list[Path]:
    labels = REAL_CHEQUES / "labels.jsonl"
    lines = labels.read_text(encoding="utf-8").splitlines() if labels.exists() else []
    return [REAL_CHEQUES / json.loads(line)["file"] for line in lines if line.strip()]


@pytest.mark.realdata
@pytest.mark.slow
def test_real_cheques_amount_box_is_found() -> None:
    files = _real_files()
    if not files:
        pytest.skip(f"real cheques not found at {REAL_CHEQUES} (research data, not in the repo)")
    found = 0
    for path in files:
        page = _pages(path)[0]
        layout = locate_fields(page, load_templates(), CFG)
        crop = layout.crops.get("amount")
        if not layout.is_document or crop is None:
            continue
        h, w = page.gray.shape
        x0, y0, x1, y1 = crop.box
        if (x0 + x1) / 2 > 0.6 * w and 0.2 * h < (y0 + y1) / 2 < 0.6 * h:
            found += 1
    assert found >= REAL_FLOOR * len(files), f"amount box found on {found}/{len(files)}"


@pytest.mark.realdata
@pytest.mark.slow
def test_real_cheques_all_pass_the_paper_check() -> None:
    """Colour scans with guilloche security backgrounds are paper too: none may be rejected
    as not a document for it."""
    files = _real_files()
    if not files:
        pytest.skip(f"real cheques not found at {REAL_CHEQUES} (research data, not in the repo)")
    failing = [p.name for p in files if not all(looks_like_paper(pg.gray) for pg in _pages(p))]
    assert not failing
