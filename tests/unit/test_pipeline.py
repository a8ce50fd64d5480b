"""read_document / read_documents: a result with a status for every input, whatever goes wrong.

Documents come from the synthetic generator (clean mode, fixed seed); the classifier is the
shipped model, loaded once for the module. Faults are injected through the pipeline's own
plug points (the classifier object, the sources), never by patching internals.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from hdr.classify.predictor import load_classifier
from hdr.config import LimitsConfig, PipelineConfig, load_pipeline_config
from hdr.errors import ReasonCode
from hdr.pipeline import read_document, read_documents, result_records
from hdr.synth import SynthOptions, generate
from hdr.synth.truth import TruthRecord
from hdr.types import Status

CFG = load_pipeline_config()


@pytest.fixture(scope="module")
def classifier() -> Any:
    return load_classifier(CFG.resolve(CFG.model.path), CFG.model.sha256, CFG.model.backend)


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[TruthRecord]]:
    out = tmp_path_factory.mktemp("synth")
    records = generate(out, SynthOptions(n=3, seed=5151, formats=("png",), clean=True, workers=1))
    return out, records


class _FailingClassifier:
    """The real classifier behind a fault: raises on the first ``failures`` calls."""

    def __init__(self, real: Any, failures: int) -> None:
        self.real, self.failures, self.sha256 = real, failures, real.sha256

    def predict_proba(self, glyphs: np.ndarray) -> np.ndarray:
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("injected classifier fault")
        return self.real.predict_proba(glyphs)


def _png_path(docs: tuple[Path, list[TruthRecord]], i: int) -> Path:
    return docs[0] / docs[1][i].file


def test_document_result_carries_hash_type_timings_and_pages(docs, classifier) -> None:
    path = _png_path(docs, 0)
    result = read_document(path, CFG, classifier=classifier)
    assert result.source == str(path)
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.media_type == "image/png"
    assert result.model_sha256 == classifier.sha256
    assert result.status in (Status.ACCEPTED, Status.REVIEW)
    assert {"triage", "load", "preprocess", "locate", "recognize"} <= set(result.timings)
    (page,) = result.pages
    assert page.index == 0 and page.layout is not None
    assert page.layout == "generic" or page.layout.startswith("template:")
    assert (page.width, page.height) == Image.open(path).size
    assert set(page.fields) == {"amount", "account"}
    assert result.status is page.status


def test_bytes_give_the_same_result_as_the_path(docs, classifier) -> None:
    path = _png_path(docs, 1)
    by_path = read_document(path, CFG, classifier=classifier)
    by_bytes = read_document(path.read_bytes(), CFG, classifier=classifier)
    assert by_bytes.source == "<bytes>" and by_bytes.sha256 == by_path.sha256
    assert [f.value for f in by_bytes.pages[0].fields.values()] == [
        f.value for f in by_path.pages[0].fields.values()
    ]


def test_bad_inputs_never_raise_and_the_batch_goes_on(docs, classifier, tmp_path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    sources: list[Any] = [_png_path(docs, 0), text, 12345, tmp_path / "missing.tif"]
    sources.append(_png_path(docs, 1))
    results = list(read_documents(sources, CFG, classifier=classifier, batch_documents=2))
    assert [r.reason_code for r in results] == [
        None,
        ReasonCode.UNSUPPORTED_FORMAT.value,
        ReasonCode.INTERNAL.value,
        ReasonCode.FILE_NOT_FOUND.value,
        None,
    ]
    assert [r.status for r in results][1:4] == [Status.ERROR] * 3
    assert "TypeError" in (results[2].reason_message or "")  # the exception's text is kept
    assert results[0].pages and results[4].pages


def test_a_failed_batch_call_is_retried_document_by_document(docs, classifier) -> None:
    paths = [_png_path(docs, i) for i in range(3)]
    expected = [
        [f.value for f in r.pages[0].fields.values()]
        for r in read_documents(paths, CFG, classifier=classifier)
    ]
    flaky = _FailingClassifier(classifier, failures=1)
    results = list(read_documents(paths, CFG, classifier=flaky))
    assert [[f.value for f in r.pages[0].fields.values()] for r in results] == expected


def test_a_broken_classifier_fails_documents_not_the_batch(docs, classifier, tmp_path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    broken = _FailingClassifier(classifier, failures=10**6)
    results = list(read_documents([_png_path(docs, 0), empty], CFG, classifier=broken))
    assert results[0].status is Status.ERROR
    assert results[0].reason_code == ReasonCode.INTERNAL.value
    assert "injected classifier fault" in (results[0].reason_message or "")
    assert results[1].reason_code == ReasonCode.EMPTY_FILE.value


def test_time_budget_exceeded(docs, classifier) -> None:
    cfg = CFG.model_copy(update={"limits": LimitsConfig(time_budget_s=0.0)})
    result = read_document(_png_path(docs, 0), cfg, classifier=classifier)
    assert result.status is Status.ERROR
    assert result.reason_code == ReasonCode.TIME_BUDGET_EXCEEDED.value


def test_one_bad_page_fails_its_page_and_the_others_are_read(docs, classifier) -> None:
    good = Image.open(_png_path(docs, 0))
    huge = Image.new("L", (3000, 3000), 255)
    buf = io.BytesIO()
    good.save(buf, "TIFF", save_all=True, append_images=[huge])
    cfg = CFG.model_copy(update={"limits": LimitsConfig(max_pixels=5_000_000)})
    result = read_document(buf.getvalue(), cfg, classifier=classifier)
    assert [p.status for p in result.pages][1] is Status.ERROR
    assert result.pages[1].reasons == (ReasonCode.IMAGE_TOO_LARGE.value,)
    assert result.pages[0].status in (Status.ACCEPTED, Status.REVIEW)
    assert result.status is Status.ERROR and result.reason_code == ReasonCode.IMAGE_TOO_LARGE.value
    records = result_records(result)
    assert [r["page"] for r in records] == [0, 1]
    assert records[1]["fields"] == {} and records[1]["status"] == "error"


def test_field_mode_reads_a_given_crop(docs, classifier) -> None:
    path, record = _png_path(docs, 0), docs[1][0]
    x0, y0, x1, y1 = record.boxes["amount"]
    crop = Image.open(path).crop((x0, y0, x1, y1))
    buf = io.BytesIO()
    crop.save(buf, "PNG")
    result = read_document(buf.getvalue(), CFG, classifier=classifier, field="amount")
    (page,) = result.pages
    assert set(page.fields) == {"amount"}
    assert page.fields["amount"].located_by == "given"
    assert page.layout == "given"
    assert list(result_records(result, "amount")[0]["fields"]) == ["amount"]


def test_debug_output_and_a_full_disk(docs, classifier, tmp_path) -> None:
    path = _png_path(docs, 0)
    result = read_document(path, CFG, classifier=classifier, debug_dir=tmp_path / "dbg")
    (folder,) = (tmp_path / "dbg").iterdir()
    page_dir = folder / "page-0"
    names = {p.name for p in page_dir.iterdir()}
    assert {"page.png", "amount.png", "account.png", "glyphs.png", "glyphs.json"} <= names
    assert "debug_write_failed" not in result.pages[0].reasons
    # The same page again, with page.png pointing at /dev/full: every write there is ENOSPC.
    full = tmp_path / "full"
    (full / folder.name / "page-0").mkdir(parents=True)
    (full / folder.name / "page-0" / "page.png").symlink_to("/dev/full")
    again = read_document(path, CFG, classifier=classifier, debug_dir=full)
    assert "debug_write_failed" in again.pages[0].reasons
    assert again.status is result.status  # the values and the status do not change
    assert [f.value for f in again.pages[0].fields.values()] == [
        f.value for f in result.pages[0].fields.values()
    ]


def test_unknown_field_is_a_usage_error(classifier) -> None:
    from hdr.errors import UsageError

    with pytest.raises(UsageError):
        read_document(b"", PipelineConfig(), classifier=classifier, field="date")


def test_a_debug_glyph_tile_shows_what_the_classifier_was_given() -> None:
    from hdr.io.debug import _CELL, _glyph_tile

    crop = np.full((40, 40), 235, np.uint8)
    crop[:, 20:22] = 30  # a cell line through the box, removed before reading
    seen = np.zeros((28, 28), np.float32)
    seen[4:24, 6:9] = 1.0  # the "1" the classifier read, at its left
    tile = _glyph_tile(crop, (0, 0, 40, 40), ["1 1.00"], seen)
    top, below = tile[4 : _CELL - 4, 4 : _CELL - 4], tile[_CELL + 4 : 2 * _CELL - 4, 4 : _CELL - 4]
    # the box as cut from the crop still shows the line in its middle ...
    assert top[:, top.shape[1] // 2 - 3 : top.shape[1] // 2 + 3].min() < 100
    # ... the classifier's input does not: its ink is the stroke at the left only
    dark = np.nonzero(below.min(axis=0) < 100)[0]
    assert dark.size and dark.max() < below.shape[1] // 2
    # without the input (a glyph not classified) the tile still draws the box
    assert _glyph_tile(crop, (0, 0, 40, 40), ["?"]).shape == tile.shape


def _turned_png(path: Path, degrees: int) -> bytes:
    """The page at ``path`` turned clockwise, as PNG bytes that keep its dpi."""
    from hdr.preprocess.orient import turn_image

    with Image.open(path) as img:
        dpi = img.info["dpi"]
        turned = Image.fromarray(np.ascontiguousarray(turn_image(np.asarray(img), degrees)))
    buf = io.BytesIO()
    turned.save(buf, format="PNG", dpi=dpi)
    return buf.getvalue()


def _reading(result: Any) -> tuple:
    page = result.pages[0]
    return page.status, {k: f.value for k, f in page.fields.items()}


def test_a_page_turned_a_quarter_or_half_turn_is_read_as_upright(docs, classifier) -> None:
    path = _png_path(docs, 0)
    upright = read_document(path, CFG, classifier=classifier)
    assert upright.pages[0].fields["amount"].value is not None
    assert not any(r.startswith("page_turned") for r in upright.pages[0].reasons)
    for degrees, back in ((90, 270), (270, 90), (180, 180)):
        turned = read_document(_turned_png(path, degrees), CFG, classifier=classifier)
        assert _reading(turned) == _reading(upright), degrees
        assert f"page_turned_{back}" in turned.pages[0].reasons
        assert "turn_unsure" not in turned.pages[0].reasons
        # the boxes are the turned-back page's: the same as upright
        for name, fld in turned.pages[0].fields.items():
            assert fld.box == upright.pages[0].fields[name].box
    # without looking for turns, the same page is taken for no document
    still = CFG.preprocess.model_copy(update={"turn_pages": False})
    off = CFG.model_copy(update={"preprocess": still})
    kept = read_document(_turned_png(path, 90), off, classifier=classifier)
    assert kept.status is Status.REJECTED
    assert not any(r.startswith("page_turned") for r in kept.pages[0].reasons)


def test_a_page_that_is_no_document_stays_rejected_however_it_lies(classifier) -> None:
    from hdr.preprocess import prepare_page
    from hdr.preprocess.orient import text_lines, turn_image
    from hdr.synth.document import PageSpec, render_page
    from hdr.types import Page

    for seed in (11, 21):  # pages of print that are no bank document (a letter, a form)
        page = render_page(PageSpec(layout="not_a_document", dpi=200), np.random.default_rng(seed))
        for degrees in (0, 90, 180):
            turned = np.ascontiguousarray(turn_image(page.image, degrees))
            ink = prepare_page(Page(index=0, image=turned, dpi=200), CFG).ink
            assert text_lines(ink, 200).turned == (degrees == 90)  # so both quarter turns are read
            buf = io.BytesIO()
            Image.fromarray(turned).save(buf, format="PNG", dpi=(200, 200))
            result = read_document(buf.getvalue(), CFG, classifier=classifier)
            assert result.status is Status.REJECTED, (seed, degrees)
            assert not any(r.startswith("page_turned") for r in result.pages[0].reasons)


def test_an_upside_down_page_whose_wrong_amount_box_reads_poorly_is_looked_at_again(
    classifier, tmp_path: Path
) -> None:
    """Upside down, this page shows the locator an amount box (another box); its reading is
    rejects and doubt, so the page is read again a half turn round (second look)."""
    (record,) = generate(
        tmp_path, SynthOptions(n=1, seed=5167, formats=("png",), clean=True, workers=1)
    )
    path = tmp_path / record.file
    upright = read_document(path, CFG, classifier=classifier)
    turned = read_document(_turned_png(path, 180), CFG, classifier=classifier)
    assert "second_look" in turned.timings  # the amount box was found as the page lay
    assert "second_look" not in upright.timings  # a page read well is not looked at again
    assert _reading(turned) == _reading(upright)
    assert "page_turned_180" in turned.pages[0].reasons


def _on_a4(path: Path, degrees: int = 0) -> bytes:
    """The page at ``path`` laid at the top left of a white A4 sheet of its dpi (a flatbed
    scan), turned clockwise by ``degrees``, as PNG bytes."""
    from hdr.preprocess.orient import turn_image

    with Image.open(path) as img:
        dpi = img.info["dpi"]
        page = np.asarray(img.convert("RGB"))
    sheet = np.full((round(11.69 * dpi[1]), round(8.27 * dpi[0]), 3), 255, np.uint8)
    top, left = round(0.3 * dpi[1]), round(0.1 * dpi[0])
    sheet[top : top + page.shape[0], left : left + page.shape[1]] = page
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(turn_image(sheet, degrees))).save(
        buf, format="PNG", dpi=dpi
    )
    return buf.getvalue()


def test_a_document_on_a_larger_sheet_is_read_on_its_part_of_it(classifier, tmp_path) -> None:
    """A layout no template describes, laid on an A4 sheet: the generic locator looks for the
    amount box where a cheque has it, and finds no cheque on the sheet; cut to its ink, the
    page reads as the document alone does."""
    from hdr.preprocess.extent import cropped_of

    options = SynthOptions(
        n=1, seed=5181, formats=("png",), clean=True, hard_share=0.0, unseen_share=1.0, workers=1
    )
    (record,) = generate(tmp_path, options)
    assert record.layout.startswith("unseen_")
    path = tmp_path / record.file
    upright = read_document(path, CFG, classifier=classifier)
    sheet = read_document(_on_a4(path), CFG, classifier=classifier)
    assert _reading(sheet) == _reading(upright)
    cut = cropped_of(sheet.pages[0].reasons)
    assert cut is not None and (cut[2] - cut[0]) > 2 * (cut[3] - cut[1])  # the cheque's part
    assert (sheet.pages[0].width, sheet.pages[0].height) == (cut[2] - cut[0], cut[3] - cut[1])
    # the same sheet lying sideways: cut first, then turned
    sideways = read_document(_on_a4(path, 90), CFG, classifier=classifier)
    assert _reading(sideways) == _reading(upright)
    assert cropped_of(sideways.pages[0].reasons) is not None
    assert "page_turned_270" in sideways.pages[0].reasons
    # without cutting, the sheet shows no cheque where a cheque's fields would be
    still = CFG.preprocess.model_copy(update={"crop_to_content": False})
    whole = read_document(
        _on_a4(path), CFG.model_copy(update={"preprocess": still}), classifier=classifier
    )
    assert cropped_of(whole.pages[0].reasons) is None
    assert whole.status is Status.REJECTED
