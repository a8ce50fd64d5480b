"""Field location on pages drawn here: template match, generic layouts, non-documents.

Pages are drawn with OpenCV and Pillow (rules, boxes, cell rows, a printed currency mark, text
lines, handwriting-font digits), then go through the real :func:`hdr.preprocess.prepare_page`
(binarisation, deskew) before :func:`hdr.fields.locate.locate_fields`. A located crop "holds"
a field when it covers at least 95 % of the printed field box and its IoU with it is at least
0.5 (crops are padded around the box, so IoU near 1 is not expected).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from hdr.config import PipelineConfig
from hdr.datasets.fonts import handwriting_fonts, render_text
from hdr.fields.evaluate import box_iou, coverage
from hdr.fields.lines import Rule
from hdr.fields.locate import (
    Layout,
    locate_fields,
    neighbour_correlation,
    paper_fraction,
    writing_past_row,
)
from hdr.fields.marks import MARK_MIN_SCORE, classify_mark, render_mark
from hdr.fields.templates import Template, load_templates
from hdr.preprocess import PreparedPage, prepare_page
from hdr.types import Box, Page

CFG = PipelineConfig()
TEMPLATES = {t.name: t for t in load_templates()}
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
MIN_COVER, MIN_IOU = 0.95, 0.5


@dataclass
class Drawing:
    """A page being drawn: gray canvas plus the boxes the test will check."""

    image: np.ndarray
    truth: dict[str, Box] = field(default_factory=dict)
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    @property
    def px_per_mm(self) -> float:
        return self.image.shape[1] / self._width_mm

    _width_mm: float = 200.0

    def rect(self, box: Box, width: int) -> None:
        cv2.rectangle(self.image, box[:2], (box[2], box[3]), 40, width)

    def cells(self, box: Box, n: int, width: int, separator: int | None = 40) -> None:
        """A row of ``n`` cells; ``separator`` is the grey of the lines between them (None:
        not printed, or lost in the scan)."""
        self.rect(box, width)
        for i in range(1, n if separator is not None else 1):
            x = round(box[0] + (box[2] - box[0]) * i / n)
            cv2.line(self.image, (x, box[1]), (x, box[3]), separator, max(1, width - 1))

    def line(self, x0: int, x1: int, y: int, width: int) -> None:
        cv2.line(self.image, (x0, y), (x1, y), 40, width)

    def text(self, x: int, y: int, height: int, words: str, width: int | None = None) -> None:
        """Printed text with its baseline at ``y``, at most ``height`` tall (and ``width``)."""
        font = cv2.FONT_HERSHEY_SIMPLEX
        (tw, th), _ = cv2.getTextSize(words, font, 1.0, 1)
        scale = 0.8 * height / th if width is None else min(0.8 * height / th, width / tw)
        thick = max(1, round(scale * 1.5))
        cv2.putText(self.image, words, (x, y), font, scale, 30, thick, cv2.LINE_AA)

    def mark(self, mark: str, box: Box) -> None:
        font = ImageFont.truetype(DEJAVU, max(8, round(0.8 * (box[3] - box[1]))))
        img = Image.fromarray(self.image)
        ImageDraw.Draw(img).text((box[0], box[1]), mark, fill=25, font=font)
        self.image[:] = np.asarray(img)

    def handwriting(self, text: str, box: Box) -> None:
        """Digits in a handwriting font, fitted into ``box`` (dark ink)."""
        ink = render_text(text, handwriting_fonts()[1], size=64)
        h, w = box[3] - box[1], box[2] - box[0]
        scale = min(0.7 * h / ink.shape[0], 0.9 * w / ink.shape[1])
        ink = cv2.resize(ink, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        y = box[1] + (h - ink.shape[0]) // 2
        x = box[0] + max(2, (w - ink.shape[1]) // 10)
        region = self.image[y : y + ink.shape[0], x : x + ink.shape[1]]
        np.minimum(region, 255 - ink, out=region)


def new_drawing(width_mm: float, height_mm: float, dpi: int) -> Drawing:
    w, h = round(width_mm / 25.4 * dpi), round(height_mm / 25.4 * dpi)
    d = Drawing(np.full((h, w), 250, np.uint8))
    d._width_mm = width_mm
    return d


def scan(d: Drawing, angle: float, margin: int) -> np.ndarray:
    """Rotate a little and put the page on a white scanner bed; truth boxes are moved along."""
    h, w = d.image.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m[:, 2] += margin
    out = cv2.warpAffine(d.image, m, (w + 2 * margin, h + 2 * margin), borderValue=255)
    return out


def prepared(image: np.ndarray, dpi: int | None) -> PreparedPage:
    return prepare_page(Page(0, image, dpi), CFG)


def holds(layout: Layout, name: str, truth: Box, page: PreparedPage) -> bool:
    """The crop covers the field (truth is in drawn-page px, mapped to the prepared page)."""
    crop = layout.crops.get(name)
    if crop is None:
        return False
    return coverage(truth, crop.box) >= MIN_COVER and box_iou(truth, crop.box) >= MIN_IOU


def _px(t: Template, rel: tuple[float, float, float, float], d: Drawing) -> Box:
    h, w = d.image.shape
    return Template.to_pixels(rel, w, h)


def draw_template(t: Template, dpi: int, seed: int, separator: int | None = 40) -> Drawing:
    """Every printed anchor of ``t``, handwriting in the amount box and the account cells.

    ``separator``: the grey of the lines between account cells (None: none printed).
    """
    d = new_drawing(t.page.width_mm, t.page.height_mm, dpi)
    d.rng = np.random.default_rng(seed)
    lw = max(2, round(dpi / 25.4 * 0.3))
    for a in t.anchors:
        box = _px(t, a.box, d)
        if a.kind == "rect":
            d.rect(box, lw)
        elif a.kind == "cells":
            d.cells(box, a.cells or 1, lw, separator)
        elif a.kind == "line":
            d.line(box[0], box[2], (box[1] + box[3]) // 2, lw)
        elif a.name == "amount_mark" and t.currency:
            d.mark(t.currency, box)
        elif a.kind in ("text", "micr"):
            words = (a.text or "").strip("{}").upper() or "TEXT"
            d.text(box[0], box[3], box[3] - box[1], words, box[2] - box[0])
    d.handwriting("1250.00", _px(t, t.fields.amount.box, d))
    for i, cell in enumerate(t.fields.account.cell_boxes()[: t.fields.account.length[0]]):
        d.handwriting(str((i * 7 + seed) % 10), _px(t, cell, d))
    d.truth["amount"] = _px(t, t.fields.amount.box, d)
    d.truth["account"] = _px(t, t.fields.account.box, d)
    return d


# --------------------------------------------------------------------------- template path


@pytest.mark.parametrize("name", ["in_cts2010", "us_personal", "eu_deposit_slip"])
@pytest.mark.parametrize(("dpi", "angle"), [(150, 0.0), (300, 0.8)])
def test_template_page_is_matched_and_cropped(name: str, dpi: int, angle: float) -> None:
    t = TEMPLATES[name]
    d = draw_template(t, dpi, seed=dpi)
    margin = dpi // 10
    page = prepared(scan(d, angle, margin), dpi)
    layout = locate_fields(page, list(TEMPLATES.values()), CFG)
    assert layout.is_document
    assert layout.name == f"template:{name}", layout
    # the page was deskewed back: truth boxes are just offset by the margin
    for field_name in ("amount", "account"):
        x0, y0, x1, y1 = d.truth[field_name]
        truth = (x0 + margin, y0 + margin, x1 + margin, y1 + margin)
        assert holds(layout, field_name, truth, page), (field_name, layout.crops[field_name].box)
    account = layout.crops["account"]
    assert len(account.cells) == t.fields.account.cells
    # each cell lies inside the crop, left to right
    assert all(0 <= c[0] < c[2] <= account.image.shape[1] for c in account.cells)
    assert [c[0] for c in account.cells] == sorted(c[0] for c in account.cells)
    assert layout.crops["amount"].located_by == f"template:{name}"


@pytest.mark.parametrize("name", ["in_deposit_slip", "us_personal"])
def test_account_cells_with_light_grey_separators_are_found(name: str) -> None:
    """Separators printed lighter than the box (a third of the way from paper to the box's
    grey) vanish from the ink mask; the gray page still shows them."""
    t = TEMPLATES[name]
    d = draw_template(t, 200, seed=5, separator=195)
    page = prepared(d.image, 200)
    layout = locate_fields(page, list(TEMPLATES.values()), CFG)
    assert layout.name == f"template:{name}", layout
    assert holds(layout, "account", d.truth["account"], page)
    assert "cells_estimated" not in layout.crops["account"].flags
    assert len(layout.crops["account"].cells) == t.fields.account.cells


def test_account_cells_without_separators_are_placed_from_the_template() -> None:
    """A low-dpi bilevel scan can lose the cell separators entirely: the row's outline is
    still where the template puts the row."""
    t = TEMPLATES["in_cts2010"]
    d = draw_template(t, 150, seed=7, separator=None)
    page = prepared(d.image, 150)
    layout = locate_fields(page, list(TEMPLATES.values()), CFG)
    assert layout.name == "template:in_cts2010", layout
    account = layout.crops["account"]
    assert holds(layout, "account", d.truth["account"], page), account.box
    assert "cells_estimated" in account.flags
    assert len(account.cells) == t.fields.account.cells


def test_a_long_cell_row_with_a_fractional_pitch_is_found_whole() -> None:
    """Fourteen cells 54.46 px apart, as a scan placed their separators: the gaps between
    neighbours are 53 to 56 px, and a whole-pixel pitch guess drifts off the lattice after five
    or six cells, so the fit is refined on the ticks it reaches."""
    from hdr.fields.cells import lattice_row
    from hdr.fields.lines import Rule

    xs = [66, 119, 173, 227, 283, 337, 391, 445, 501, 555, 609, 663, 719, 773, 827]
    base = Rule(True, xs[0], xs[-1], 350, 2)
    ticks = [Rule(False, 268, 350, x, 2) for x in xs]
    row = lattice_row(base, ticks, [Rule(True, xs[0], xs[-1], 268, 2)], 715)
    assert row is not None and row.count == 14
    assert abs(row.cells[-1][2] - xs[-1]) <= 2


def test_a_template_page_is_not_taken_for_another_template() -> None:
    d = draw_template(TEMPLATES["eu_cheque"], 200, seed=3)
    page = prepared(d.image, 200)
    others = [t for n, t in TEMPLATES.items() if n != "eu_cheque"]
    layout = locate_fields(page, others, CFG)
    assert not layout.name.startswith("template:")
    assert "layout_generic" in layout.flags


# --------------------------------------------------------------------------- generic path


def draw_unseen(dpi: int, with_account: bool = True, mark: str = "₹") -> Drawing:
    """A layout no template describes: amount box bottom left with a printed mark, a 12-cell
    account row top right, a payee line and a signature line."""
    d = new_drawing(190, 85, dpi)
    px = d.px_per_mm
    lw = max(2, round(px * 0.3))

    def mm(x0: float, y0: float, x1: float, y1: float) -> Box:
        return (round(x0 * px), round(y0 * px), round(x1 * px), round(y1 * px))

    d.text(*mm(8, 12, 0, 0)[:2], round(6 * px), "NORTHERN TRUST")
    if with_account:
        row = mm(95, 6, 182, 15)
        d.cells(row, 12, lw)
        for i in range(10):
            cell = mm(95 + i * 87 / 12, 6, 95 + (i + 1) * 87 / 12, 15)
            d.handwriting(str((3 * i + 1) % 10), cell)
        d.truth["account"] = row
        d.text(*mm(70, 13, 0, 0)[:2], round(4 * px), "A/C NO")
    d.text(*mm(8, 33, 0, 0)[:2], round(4 * px), "PAY")
    d.line(*mm(20, 0, 182, 0)[::2], round(33 * px), lw)
    d.line(*mm(8, 0, 182, 0)[::2], round(45 * px), lw)
    box = mm(10, 52, 80, 66)
    d.rect(box, lw)
    inner = (box[0] + lw, box[1] + lw, box[2] - lw, box[3] - lw)
    if mark:
        d.mark(mark, mm(12, 54, 17, 64))
    d.handwriting("7300.50", mm(19, 54, 78, 65))
    d.truth["amount"] = mm(18, 52, 80, 66) if mark else inner
    d.line(*mm(110, 0, 182, 0)[::2], round(70 * px), lw)
    return d


@pytest.mark.parametrize("dpi", [150, 300])
def test_generic_layout_finds_amount_box_and_cell_row(dpi: int) -> None:
    d = draw_unseen(dpi)
    page = prepared(scan(d, 0.5, 0), dpi)
    layout = locate_fields(page, list(TEMPLATES.values()), CFG)
    assert layout.is_document
    assert layout.name == "generic"
    assert "layout_generic" in layout.flags
    assert "layout_unsure" not in layout.flags, layout.flags
    assert holds(layout, "amount", d.truth["amount"], page), layout.crops["amount"].box
    assert holds(layout, "account", d.truth["account"], page), layout.crops["account"].box
    assert len(layout.crops["account"].cells) == 12
    assert layout.crops["amount"].located_by == "generic"
    # the printed rupee sign is left out of the amount crop
    assert layout.crops["amount"].box[0] >= d.truth["amount"][0] - 0.2 * dpi / 25.4 * 14


def test_generic_layout_without_account_row_says_so() -> None:
    d = draw_unseen(200, with_account=False)
    layout = locate_fields(prepared(d.image, 200), list(TEMPLATES.values()), CFG)
    assert layout.is_document
    assert "field_not_found:account" in layout.flags
    assert "account" not in layout.crops
    assert "amount" in layout.crops


def test_unknown_dpi_is_handled() -> None:
    d = draw_unseen(240)
    page = prepared(d.image, None)
    layout = locate_fields(page, [], CFG)
    assert holds(layout, "amount", d.truth["amount"], page)
    assert len(layout.crops["account"].cells) == 12


def test_a_cheque_whose_rules_the_scan_lost_is_sent_to_a_person_not_turned_away() -> None:
    """Forms printed in a dropout colour lose their rules in a bitonal scan (and a coarse one
    breaks light rules into dots): no box, no cell row, no long rule is left to find. Shaped
    like a cheque, with print and writing on it, the page is a document whose fields were not
    found (review), not "not a document" (rejected, which no person would see)."""
    d = draw_unseen(150, with_account=False, mark="")
    image = d.image.copy()
    dark = (image < 128).astype(np.uint8)
    for kernel in ((1, 40), (40, 1)):  # every long straight printed rule, gone
        rule = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones(kernel, np.uint8))
        image[cv2.dilate(rule, np.ones((3, 3), np.uint8)) > 0] = 250
    page = prepared(image, 150)
    layout = locate_fields(page, list(TEMPLATES.values()), CFG)
    assert layout.is_document, layout.flags
    assert "not_a_document" not in layout.flags
    assert "layout_unsure" in layout.flags
    for name in ("amount", "account"):
        assert name in layout.crops or f"field_not_found:{name}" in layout.flags
    # the same page cut to the proportions of a letter is still turned away
    tall = np.full((round(1.3 * image.shape[1]), image.shape[1]), 250, np.uint8)
    tall[: image.shape[0]] = image
    assert not locate_fields(prepared(tall, 150), list(TEMPLATES.values()), CFG).is_document


# --------------------------------------------------------------------------- not documents


def test_blank_page_is_not_a_document() -> None:
    page = prepared(np.full((700, 1600), 245, np.uint8), 200)
    layout = locate_fields(page, list(TEMPLATES.values()), CFG)
    assert not layout.is_document
    assert layout.crops == {}
    assert "blank_page" in layout.flags


def test_noise_photo_is_not_a_document() -> None:
    rng = np.random.default_rng(5)
    noise = rng.integers(0, 256, (800, 1200), dtype=np.uint8)
    photo = cv2.GaussianBlur(noise, (0, 0), 3)
    photo = cv2.normalize(photo, None, 0, 255, cv2.NORM_MINMAX)
    layout = locate_fields(prepared(photo, 150), list(TEMPLATES.values()), CFG)
    assert not layout.is_document
    assert "not_a_document" in layout.flags


def _noise(kind: str) -> tuple[np.ndarray, int | None]:
    rng = np.random.default_rng(9107)
    if kind == "uniform-small":  # tests/resources/bad/noise.png
        return rng.integers(0, 256, (200, 400), dtype=np.uint8), None
    if kind == "uniform-light":
        return rng.integers(120, 256, (700, 1600), dtype=np.uint8), 150
    if kind == "gaussian":
        return rng.normal(128, 40, (700, 1600)).clip(0, 255).astype(np.uint8), 150
    if kind == "speckle":  # 10 % black dots on white: as much ink as a form, no strokes
        return np.where(rng.random((700, 1600)) < 0.1, 0, 255).astype(np.uint8), 150
    if kind == "blobs":  # coarse noise, smooth from pixel to pixel: no bare paper
        small = rng.integers(0, 256, (175, 400), dtype=np.uint8)
        return cv2.resize(small, (1600, 700), interpolation=cv2.INTER_LINEAR), 150
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["uniform-small", "uniform-light", "gaussian", "speckle", "blobs"])
def test_a_page_of_noise_is_not_a_document(kind: str) -> None:
    image, dpi = _noise(kind)
    layout = locate_fields(prepared(image, dpi), list(TEMPLATES.values()), CFG)
    assert not layout.is_document
    assert layout.flags == ("not_a_document",)
    assert layout.crops == {}


def test_a_form_on_a_dark_security_background_is_still_a_document() -> None:
    """A tinted guilloche over the whole cheque, sensor noise and uneven light: still mostly
    paper once the light is corrected, so the layout decides, not the paper check."""
    d = draw_unseen(200)
    h, w = d.image.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    guilloche = 18 * (np.sin(xx / 7.0 + 3 * np.sin(yy / 23.0)) > 0.6)
    light = 0.75 + 0.25 * xx / w  # a shadow on the left
    rng = np.random.default_rng(2)
    image = (d.image.astype(np.float32) - guilloche) * light + rng.normal(0, 6, (h, w))
    page = prepared(np.clip(image, 0, 255).astype(np.uint8), 200)
    assert paper_fraction(page.gray) > 0.7  # the measures the check uses, well clear of it
    assert neighbour_correlation(page.gray) > 0.6
    layout = locate_fields(page, list(TEMPLATES.values()), CFG)
    assert layout.is_document, layout.flags
    assert "amount" in layout.crops


def test_page_of_text_is_not_a_document() -> None:
    d = new_drawing(210, 297, 150)
    rng = np.random.default_rng(1)
    words = ["payment", "terms", "invoice", "we", "thank", "you", "for", "your", "order"]
    for i in range(40):
        line = " ".join(rng.choice(words, 7))
        d.text(100, 150 + i * 40, 18, line)
    layout = locate_fields(prepared(d.image, 150), list(TEMPLATES.values()), CFG)
    assert not layout.is_document


def test_page_with_a_table_is_not_a_document() -> None:
    """An invoice: a ruled table whose right column holds amounts, one box per line."""
    d = new_drawing(297, 210, 150)  # landscape, so only the table can make it look like one
    px = d.px_per_mm
    x = [round(v * px) for v in (20, 150, 200, 270)]
    rows = [round((30 + 12 * i) * px) for i in range(11)]
    for y in rows:
        d.line(x[0], x[-1], y, 2)
    for xv in x:
        cv2.line(d.image, (xv, rows[0]), (xv, rows[-1]), 40, 2)
    for i, (top, bottom) in enumerate(pairwise(rows)):
        d.text(x[0] + 10, bottom - 8, bottom - top - 14, f"ITEM {i}")
        d.handwriting(f"{(i * 37) % 100}.{i}0", (x[2] + 5, top + 3, x[3] - 5, bottom - 3))
    layout = locate_fields(prepared(d.image, 150), list(TEMPLATES.values()), CFG)
    assert not layout.is_document, layout


# --------------------------------------------------------------------------- pieces


def test_currency_marks_are_told_from_digits() -> None:
    for mark in ("₹", "$", "€"):
        glyph = render_mark(mark, 1) > 0
        found, score = classify_mark(glyph)
        assert found == mark and score >= MARK_MIN_SCORE
    one = render_text("1", handwriting_fonts()[0], size=64) > 0
    assert classify_mark(one)[1] < MARK_MIN_SCORE


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_neighbour_correlation_is_the_pearson_correlation_of_neighbours(dtype: type) -> None:
    """The fast sums give numpy's correlation of each pixel with its right (lower) neighbour,
    on every other row (column), the smaller of the two; smooth and noisy pages alike."""
    rng = np.random.default_rng(5)
    smooth = cv2.GaussianBlur(rng.integers(0, 256, (181, 240)).astype(np.uint8), (9, 9), 0)
    striped = np.tile((np.arange(240) % 7 < 3) * 200, (181, 1)) + rng.integers(0, 40, (181, 240))
    for image in (smooth, striped, rng.integers(0, 256, (181, 240))):
        g = image.astype(dtype)
        right = np.corrcoef(g[::2, :-1].ravel(), g[::2, 1:].ravel())[0, 1]
        down = np.corrcoef(g[:-1, ::2].ravel(), g[1:, ::2].ravel())[0, 1]
        assert neighbour_correlation(g) == pytest.approx(min(right, down), abs=1e-6)
    assert neighbour_correlation(np.full((50, 60), 240, np.uint8)) == 1.0  # flat: no verdict


def _box_ink(first_x: int, side: bool = False) -> np.ndarray:
    """Page ink: an amount box (rules at y 100 and 200 from x 300 to 700), a tall stroke from
    ``first_x`` (a written ``1``, or the box's left side when ``side``)."""
    ink = np.zeros((400, 900), np.uint8)
    ink[100:103, 300:700] = 255
    ink[198:201, 300:700] = 255
    if side:
        ink[100:201, first_x : first_x + 3] = 255
    else:
        cv2.line(ink, (first_x + 10, 120), (first_x, 190), 255, 6)
    return ink


def test_a_crop_side_that_cuts_a_written_glyph_is_moved_past_it() -> None:
    from hdr.fields.locate import widen_over_cut_ink

    box = (310, 80, 720, 220)
    assert widen_over_cut_ink(_box_ink(302), box)[0] < 302  # the "1" is whole now
    assert widen_over_cut_ink(_box_ink(302), box, stop_left=305)[0] == 305  # not into a mark
    assert widen_over_cut_ink(_box_ink(309, side=True), box) == box  # a box side is no glyph
    assert widen_over_cut_ink(_box_ink(400), box) == box  # nothing cut: nothing moves
    right = widen_over_cut_ink(_box_ink(712), box)  # a stroke cut by the right side
    assert right[0] == 310 and right[2] > 722 and right[1:4:2] == (80, 220)


def _stroke_left_of(d: Drawing, row: Box, dpi: int) -> int:
    """A written ``0`` begun left of the account row's first cell and crossing its side (a
    writer who started early), as the generator's straying hands do; returns its left end."""
    h = row[3] - row[1]
    cx, cy = row[0] + round(0.05 * h), (row[1] + row[3]) // 2
    rx = round(0.3 * h)
    cv2.ellipse(d.image, (cx, cy), (rx, round(0.35 * h)), 0, 0, 360, 30, max(2, dpi // 60))
    return cx - rx


@pytest.mark.parametrize("path", ["template", "generic"])
def test_a_written_digit_cut_by_the_account_rows_side_is_kept_whole(path: str) -> None:
    """Without it, the sliver left in the first cell read as another digit (``68313283296``
    as ``08313283296``): the account crop is widened over cut handwriting, as the amount's is."""
    dpi = 200
    if path == "template":
        d = draw_template(TEMPLATES["in_cts2010"], dpi, seed=3)
    else:
        d = draw_unseen(dpi)
    left = _stroke_left_of(d, d.truth["account"], dpi)
    layout = locate_fields(prepared(d.image, dpi), list(TEMPLATES.values()), CFG)
    assert layout.name == ("template:in_cts2010" if path == "template" else "generic")
    crop = layout.crops["account"]
    assert crop.box[0] < left - 1 < d.truth["account"][0], (crop.box, left)
    assert crop.cells and all(0 <= c[0] < c[2] <= crop.image.shape[1] for c in crop.cells)
    # nothing stands past the row's end: no writing_past_row
    assert "writing_past_row" not in crop.flags


# --------------------------------------------------------------------------- past the row's end

PITCH_MM, ROW_MM = 7.0, (10.0, 10.0, 20.0)  # cell pitch; the row's left, top and bottom


def _row(
    written: int, box_after: str | None = None, dpi: int = 200
) -> tuple[np.ndarray, list[Box], Box | None]:
    """A prepared page's ink with a 12-cell account row, digits written in the first
    ``written`` cells, and (``box_after``: "solid" | "dashed") an amount box a pitch after the
    row with digits in it, or ("frame" | "bed") a thick printed frame or the dark scanner bed
    past the paper's edge, 3 mm after it; returns the ink, the cells (page px) and the box."""
    d = new_drawing(150, 30, dpi)
    px = d.px_per_mm
    lw = max(2, round(px * 0.3))
    x0, y0, y1 = ROW_MM

    def mm(a: float) -> int:
        return round(a * px)

    cells = [
        (mm(x0 + i * PITCH_MM), mm(y0), mm(x0 + (i + 1) * PITCH_MM), mm(y1)) for i in range(12)
    ]
    d.cells((cells[0][0], cells[0][1], cells[-1][2], cells[-1][3]), 12, lw)
    for i in range(written):
        d.handwriting(str((7 * i + 3) % 10), cells[i])
    box = None
    if box_after in ("frame", "bed"):  # the page's printed frame, or the scanner bed past it
        left = mm(x0 + 12 * PITCH_MM + 3)
        right = left + (lw * 4 if box_after == "frame" else d.image.shape[1])
        cv2.rectangle(d.image, (left, 0), (right, d.image.shape[0]), 20, -1)
    elif box_after is not None:
        left = x0 + 13 * PITCH_MM
        box = (mm(left), mm(y0 - 1), mm(left + 30), mm(y1 + 1))
        if box_after == "solid":
            d.rect(box, lw)
        else:  # a bitonal scan of a light box: its sides broken into dashes
            for y in range(box[1], box[3], mm(1.6)):
                cv2.line(d.image, (box[0], y), (box[0], min(box[3], y + mm(0.8))), 40, lw)
            d.line(box[0], box[2], box[1], lw)
            d.line(box[0], box[2], box[3], lw)
        d.handwriting("4038", (box[0] + lw, box[1] + lw, box[2] - lw, box[3] - lw))
    page = prepared(d.image, dpi)
    return page.ink, cells, box


def _end(cells: list[Box]) -> int:
    """Where the crop of a row of these cells ends (pad_box's padding)."""
    return cells[-1][2] + round(0.12 * (cells[-1][3] - cells[-1][1]))


def test_writing_past_a_row_found_short_is_seen() -> None:
    """A 12-cell row found as 8 cells (a separator lost): the digits in the cells after it
    would not be read, and the shorter number would be read with confidence."""
    ink, cells, _ = _row(written=12)
    assert writing_past_row(ink, cells[:8], _end(cells[:8]))
    assert not writing_past_row(ink, cells, _end(cells))  # the whole row: nothing after it


@pytest.mark.parametrize("side", ["solid", "dashed"])
def test_the_writing_of_the_amount_beside_the_row_is_not_past_it(side: str) -> None:
    """An amount box printed a pitch after the row (as on some deposit slips): the search
    stops at the amount's crop, or at the box's side; without either, the amount's digits
    would count (the locator makes no search where it found no amount)."""
    ink, cells, box = _row(written=12, box_after=side)
    assert box is not None
    assert not writing_past_row(ink, cells, _end(cells), [box])
    assert writing_past_row(ink, cells, _end(cells))
    # nor does it count where the box's side was found among the printed rules
    side = Rule(False, box[1], box[3], box[0], 2)
    assert not writing_past_row(ink, cells, _end(cells), rules=[side])
    # a rule crossing only part of the row's height (a tick, a short stroke) is not a side
    tick = Rule(False, box[1], (box[1] + box[3]) // 2 - 20, box[0], 2)
    assert writing_past_row(ink, cells, _end(cells), rules=[tick])
    # the row found short still says so, the box beside it notwithstanding
    assert writing_past_row(ink, cells[:10], _end(cells[:10]), [box])


def test_separators_of_empty_cells_after_the_row_say_nothing() -> None:
    """The cells of a row found short go on empty: their separators are printed rules."""
    ink, cells, _ = _row(written=9)
    assert not writing_past_row(ink, cells[:9], _end(cells[:9]))
    assert writing_past_row(ink, cells[:7], _end(cells[:7]))


@pytest.mark.parametrize("edge", ["frame", "bed"])
def test_the_page_edge_past_the_row_is_not_writing(edge: str) -> None:
    """A row printed near the edge of the paper: the frame drawn round the form, or the dark
    scanner bed beyond the paper, crosses the whole band as a solid bar or block."""
    ink, cells, _ = _row(written=12, box_after=edge)
    assert not writing_past_row(ink, cells, _end(cells))
    assert writing_past_row(ink, cells[:10], _end(cells[:10]))


@pytest.mark.parametrize("path", ["template", "generic"])
def test_digits_written_past_the_last_cell_send_the_account_to_a_person(path: str) -> None:
    """A writer who runs past the row's last cell (or a row found shorter than the printed
    one): the digits there are not in the crop, so the locator flags the field."""
    dpi = 200
    d = (
        draw_template(TEMPLATES["in_cts2010"], dpi, seed=3)
        if path == "template"
        else draw_unseen(dpi)
    )
    row = d.truth["account"]
    h = row[3] - row[1]
    past = (row[2] + round(0.2 * h), row[1], row[2] + round(0.7 * h), row[3])
    d.handwriting("4", past)  # (the generic page's row ends near the paper's edge)
    layout = locate_fields(prepared(d.image, dpi), list(TEMPLATES.values()), CFG)
    assert layout.name == ("template:in_cts2010" if path == "template" else "generic")
    assert "writing_past_row" in layout.crops["account"].flags
