"""Which way a page's printed text runs (hdr.preprocess.orient), on pages the generator draws."""

from __future__ import annotations

import numpy as np
import pytest

from hdr.config import load_pipeline_config
from hdr.preprocess import prepare_page
from hdr.preprocess.orient import text_lines, turn_image, turn_of
from hdr.synth.document import PageSpec, all_templates, render_page
from hdr.types import Page

CFG = load_pipeline_config()


def _ink(image: np.ndarray, dpi: int) -> np.ndarray:
    return prepare_page(Page(index=0, image=image, dpi=dpi), CFG).ink


@pytest.mark.parametrize("layout", sorted(all_templates()))
@pytest.mark.parametrize("dpi", [150, 300])
def test_every_layout_is_found_upright_and_turned_either_way(layout: str, dpi: int) -> None:
    seed = sum(map(ord, layout)) + dpi
    page = render_page(PageSpec(layout=layout, dpi=dpi), np.random.default_rng(seed))
    upright = text_lines(_ink(page.image, dpi), dpi)
    assert not upright.turned and upright.along > 3 * upright.across, upright
    for degrees in (90, 270):
        turned = text_lines(_ink(turn_image(page.image, degrees), dpi), dpi)
        assert turned.turned, (degrees, turned)


def test_a_blank_page_and_a_page_without_print_are_not_turned() -> None:
    assert not text_lines(np.zeros((800, 1800), np.uint8), 200).turned
    rng = np.random.default_rng(3)
    speckle = (rng.random((800, 1800)) > 0.999).astype(np.uint8) * 255  # dust, no text
    assert text_lines(speckle, 200) == text_lines(speckle, 200)
    assert not text_lines(speckle, 200).turned
    assert not text_lines(np.ascontiguousarray(speckle.T), 200).turned


def test_quarter_turns_only_and_the_turn_read_back_from_reasons() -> None:
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert np.array_equal(turn_image(turn_image(image, 90), 270), image)
    assert np.array_equal(turn_image(image, 180), image[::-1, ::-1])
    with pytest.raises(ValueError, match="quarter turns"):
        turn_image(image, 45)
    assert turn_of(("page_turned_90",)) == 90
    assert turn_of(("amount:low_confidence", "turn_unsure")) == 0


def test_the_part_of_a_sheet_that_holds_ink() -> None:
    from hdr.preprocess.extent import content_box, crop_reason, cropped_of

    sheet = np.zeros((3500, 2480), np.uint8)  # A4 at 300 dpi
    assert content_box(sheet, 300) is None  # nothing on it
    sheet[200:1200, 100:2300:40] = 255  # a cheque's worth of strokes at the top
    sheet[3000:3002, 1000:1002] = 255  # and a speck of dust below it
    box = content_box(sheet, 300)
    assert box is not None and box[3] < 1300  # the speck does not stretch it
    assert cropped_of((crop_reason(box), "page_turned_90")) == box
    full = np.zeros((1100, 2400), np.uint8)
    full[50:1050, 50:2350:40] = 255  # a cheque filling its own scan: nothing to cut
    assert content_box(full, 300) is None
    stamp = np.zeros((3500, 2480), np.uint8)
    stamp[500:700, 500:700] = 255  # 17 mm: a stamp, not a document
    assert content_box(stamp, 300) is None
