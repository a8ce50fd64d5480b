"""Locate the amount and account fields on a prepared page: by template, else by layout analysis.

The page's printed structure (rules, rectangles, cell rows: :mod:`hdr.fields.lines`) is matched
against every template (:mod:`hdr.fields.register`); a match above the score crops the fields
from the registered boxes, each snapped to the printed rectangle or cells actually found there.
Otherwise the generic locator (:mod:`hdr.fields.generic`) picks the amount box and the account
cell row by score and flags ``layout_generic`` (plus ``layout_unsure`` when unsure and
``field_not_found:<name>`` for a field it could not find). A page without cheque-like structure
(blank, a photograph, plain text) gets ``is_document=False``, which the pipeline turns into
status ``rejected``. So does a page that does not look like paper at all, whatever its layout:
a scan of a form is mostly bare paper (:func:`paper_fraction`) and smooth at the scale of a
pixel, its ink in strokes several pixels wide (:func:`neighbour_correlation`); a picture has
little bare paper, and noise (speckle) has no pixel-to-pixel coherence.

Crops are padded so strokes that cross the printed border are kept, without reaching into a
printed currency mark, and an amount crop is widened over a written glyph its side would cut
(:func:`widen_over_cut_ink`). For account rows, ``FieldCrop.cells`` holds each cell relative to
the crop.

>>> from hdr.config import PipelineConfig
>>> from hdr.fields.templates import load_templates
>>> layout = locate_fields(page, load_templates(), PipelineConfig())   # doctest: +SKIP
>>> layout.name, layout.crops["amount"].box                              # doctest: +SKIP
('template:in_cts2010', (1180, 250, 1560, 372))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from hdr.config import PipelineConfig
from hdr.errors import ReasonCode
from hdr.fields.generic import (
    AMOUNT_SURE_SCORE,
    find_account,
    find_amount,
    looks_like_document,
)
from hdr.fields.lines import Rule
from hdr.fields.register import Match, best_template, mm_box
from hdr.fields.structure import Structure, find_structure
from hdr.fields.templates import Template
from hdr.types import Box, FieldCrop

BLANK_INK_FRACTION = 0.002  # less ink than this: a blank page
MAX_INK_FRACTION = 0.4  # more: a photograph or noise, not a printed form
# Paper is ~255 after illumination correction; a pixel at 200 or more is bare paper (or a faint
# security tint). Measured (issue 9) on 305 pages of forms: synthetic cheques and slips, some
# dark and noisy, 0.77 and up; the 38 real colour cheques with guilloche backgrounds 0.90 and
# up. Not paper: a photograph 0.48, blobby noise 0.28-0.47; fine noise 0.37-0.72 (and 0.90
# for sparse speckle), which is why the second measure is there.
PAPER_LEVEL = 200
MIN_PAPER_FRACTION = 0.55
# Pixel-to-neighbour correlation of the page: forms 0.70 and up (0.70 for drawn forms at 72
# dpi), the real cheques 0.85 and up; noise and speckle -0.02 to 0.22, JPEG-compressed too.
MIN_NEIGHBOUR_CORRELATION = 0.45
PAD_Y = 0.2  # crop padding, in box heights, above and below
PAD_X = 0.12  # ... and left and right
# Past the end of an account row (see writing_past_row): how far, in cell pitches; the middle
# of the cells' height looked at (the rules above and below left out); a written piece's least
# height there, and a printed rule's least height, in shares of that band; a rule's greatest
# width, in pitches
PAST_ROW_REACH = 2.0
PAST_ROW_INSET = 0.2
PAST_ROW_WRITTEN = 0.5
PAST_ROW_RULE = 0.95
PAST_ROW_RULE_WIDTH = 0.12
PAST_ROW_SOLID = 0.7  # share of its box a bar or block across the band fills (a frame, a border)


class PageLike(Protocol):
    """What the locator reads from :class:`hdr.preprocess.PreparedPage`."""

    @property
    def gray(self) -> np.ndarray: ...

    @property
    def ink(self) -> np.ndarray: ...

    @property
    def dpi(self) -> int | None: ...


@dataclass(frozen=True)
class Layout:
    """Where the fields are on one page, and how sure the locator is."""

    name: str  # "template:<name>" | "generic" | "none"
    crops: dict[str, FieldCrop]  # "amount" / "account"
    is_document: bool  # False: not a bank document -> the page is rejected
    flags: tuple[str, ...] = ()
    score: float = 0.0  # template match score, or the generic amount score


def paper_fraction(gray: np.ndarray) -> float:
    """Share of an illumination-corrected page at paper brightness (``>= PAPER_LEVEL``).

    >>> paper_fraction(np.full((4, 4), 250, np.uint8))
    1.0
    """
    return float(np.count_nonzero(gray >= PAPER_LEVEL)) / max(gray.size, 1)


def neighbour_correlation(gray: np.ndarray) -> float:
    """Correlation of pixels with their right and lower neighbours (the smaller of the two).

    Near 1 for a scan (optics blur, strokes several pixels wide), near 0 for noise. Measured
    on every other row (column), which is plenty.

    >>> neighbour_correlation(np.random.default_rng(0).integers(0, 256, (64, 64))) < 0.2
    True
    """
    # Exact sums from OpenCV (sum, sum of squares, and the product's sum from the squared
    # difference): no float copies of the page. Vertical pairs from a copy of every other
    # column, so each pair is two row-contiguous views.
    g = gray if gray.dtype == np.uint8 else np.asarray(gray, np.float32)
    cols = np.ascontiguousarray(g[:, ::2])
    out = 1.0
    for a, b in ((g[::2, :-1], g[::2, 1:]), (cols[:-1], cols[1:])):
        n = a.size
        if n == 0:
            continue
        sa, sb = cv2.sumElems(a)[0], cv2.sumElems(b)[0]
        saa, sbb = cv2.norm(a, cv2.NORM_L2SQR), cv2.norm(b, cv2.NORM_L2SQR)
        sab = (saa + sbb - cv2.norm(a, b, cv2.NORM_L2SQR)) / 2
        var_a, var_b = saa - sa * sa / n, sbb - sb * sb / n
        denom = float(np.sqrt(max(var_a, 0.0) * max(var_b, 0.0)))
        if denom > 0:  # a flat page has nothing to correlate: no verdict from this measure
            out = min(out, (sab - sa * sb / n) / denom)
    return out


def looks_like_paper(gray: np.ndarray) -> bool:
    """Mostly bare paper, and coherent from pixel to pixel (module docstring)."""
    return (
        paper_fraction(gray) >= MIN_PAPER_FRACTION
        and neighbour_correlation(gray) >= MIN_NEIGHBOUR_CORRELATION
    )


def _clip(box: Box, width: int, height: int) -> Box:
    return (max(0, box[0]), max(0, box[1]), min(width, box[2]), min(height, box[3]))


def pad_box(box: Box, width: int, height: int, stop_left: int | None = None) -> Box:
    """``box`` grown by PAD_Y/PAD_X box heights; on the left not before ``stop_left`` (just
    after a printed mark, or a printed divider)."""
    h = box[3] - box[1]
    py, px = round(PAD_Y * h), round(PAD_X * h)
    x0 = box[0] - px
    if stop_left is not None:
        x0 = max(x0, min(stop_left, box[2] - h))
    return _clip((x0, box[1] - py, box[2] + px, box[3] + py), width, height)


def widen_over_cut_ink(ink: np.ndarray, box: Box, stop_left: int | None = None) -> Box:
    """``box`` widened so that handwriting cut by its left or right side is whole inside it.

    A writer who starts left of the amount box (or the account row), or runs past its right
    end, leaves a glyph that the crop's side would cut: the sliver left inside reads as
    nothing, or as a ``1``, and ``11475`` becomes ``1475``. Ink pieces the size of a written
    character that cross a side pull that side out to their far end, by at most one box
    height, and never on the left past ``stop_left`` (a printed mark or divider). Printed
    rules crossing the side do not count: long horizontal ones are taken out first, and a
    straight upright stroke no wider than the pen is taken for the box's side.
    """
    x0, y0, x1, y1 = box
    h, w = y1 - y0, ink.shape[1]
    reach = max(1, h)
    lo, hi = max(0, x0 - reach), min(w, x1 + reach)
    if stop_left is not None:
        lo = max(lo, min(stop_left, x0))
    band = (np.ascontiguousarray(ink[y0:y1, lo:hi]) > 0).astype(np.uint8)
    if band.size == 0 or not band.any():
        return box
    # the box's own rules, which the writing often touches, are not part of any glyph
    rules = np.asarray(cv2.morphologyEx(band, cv2.MORPH_OPEN, np.ones((1, reach), np.uint8)))
    band[rules > 0] = 0
    n, _, stats, _ = cv2.connectedComponentsWithStats(band, connectivity=8)
    new0, new1 = x0, x1
    for i in range(1, n):
        cx, _, cw, ch, _ = (int(v) for v in stats[i])
        left, right = lo + cx, lo + cx + cw
        if cw > h or ch < 0.25 * h or cw <= max(3, 0.05 * h):
            continue  # a rule (a box side is as thin as the pen), or a speck
        if left < x0 < right - 1:
            new0 = min(new0, left)
        if left + 1 < x1 < right:
            new1 = max(new1, right)
    if new0 < x0:
        new0 = max(lo, new0 - 2)  # a little paper beyond the glyph
    if new1 > x1:
        new1 = min(hi, new1 + 2)
    return (new0, y0, new1, y1)


def writing_past_row(
    ink: np.ndarray,
    cells: Sequence[Box],
    start: int,
    others: Sequence[Box] = (),
    rules: Sequence[Rule] = (),
) -> bool:
    """Whether handwriting stands just past the right end of an account row (page px): from
    ``start`` (where the crop ends) over two cell pitches, or up to the first of the page's
    ``others`` crops (the amount's), or of its printed upright ``rules`` crossing the row's
    height (another box's side), that lies that way.

    The row found may stop short of the one printed (a faint or dashed separator the locator
    lost: a 14-cell row found as 9 cells, read ``123594896`` for ``12359489617709`` with
    confidence 0.995 and the line reader agreeing, since it reads the same crop), or the writer
    wrote past the last cell; either way the digits there are not read, and a person looks
    (``writing_past_row``). Looked at in the middle of the cells' height, so the row's rules are
    not: a piece of ink at least half that band tall counts, unless it crosses the whole band as
    a thin line (a separator of cells that go on empty) or a solid bar or block (the page's
    printed frame, the dark scanner bed past the paper's edge).
    Strokes from the last cell are inside the crop, which is widened over cut writing first
    (:func:`widen_over_cut_ink`). The amount's writing, in its box beside the row on some
    slips, is not the account's: the search stops at the amount's crop, or at a box's side
    (the locator makes no search where it did not find the amount).
    """
    if not cells:
        return False
    top = float(np.median([c[1] for c in cells]))
    bottom = float(np.median([c[3] for c in cells]))
    steps = np.diff(sorted(c[0] for c in cells))
    pitch = float(np.median(steps)) if steps.size else float(cells[0][2] - cells[0][0])
    h = bottom - top
    if h <= 0 or pitch <= 0:
        return False
    y0, y1 = max(0, round(top + PAST_ROW_INSET * h)), round(bottom - PAST_ROW_INSET * h)
    x0, x1 = max(0, start), min(ink.shape[1], start + round(PAST_ROW_REACH * pitch))
    for box in others:  # another field beside the row: its writing is not the account's
        if box[0] >= x0 and box[1] < y1 and box[3] > y0:
            x1 = min(x1, box[0])
    for rule in rules:  # another box's side; a separator of the row's own cells, which
        # stand between the digits, does not hide them
        if not rule.horizontal and rule.pos > x0 and rule.start <= y0 and rule.end >= y1:
            x1 = min(x1, rule.pos - rule.thickness)
    band = (np.ascontiguousarray(ink[y0:y1, x0:x1]) > 0).astype(np.uint8)
    if band.size == 0 or not band.any():
        return False
    span = band.shape[0]
    n, _, stats, _ = cv2.connectedComponentsWithStats(band, connectivity=8)
    for i in range(1, n):
        w, bh, area = (int(v) for v in stats[i, 2:5])
        if bh < PAST_ROW_WRITTEN * span:
            continue  # a speck, a dash of a dashed rule, the foot of a letter
        if bh >= PAST_ROW_RULE * span and (
            w <= max(3.0, PAST_ROW_RULE_WIDTH * pitch) or area >= PAST_ROW_SOLID * w * bh
        ):
            continue  # a printed upright rule (cells that go on empty), a frame, the scanner bed
        return True
    return False


def _crop(
    page: PageLike,
    name: str,
    box: Box,
    located_by: str,
    cells: Sequence[Box] = (),
    flags: Sequence[str] = (),
) -> FieldCrop:
    x0, y0, x1, y1 = box
    rel = tuple((c[0] - x0, c[1] - y0, c[2] - x0, c[3] - y0) for c in cells)
    image = np.ascontiguousarray(page.gray[y0:y1, x0:x1])
    return FieldCrop(name, image, box, located_by, rel, tuple(flags))


def _template_crops(page: PageLike, match: Match, structure: Structure) -> dict[str, FieldCrop]:
    template, tf = match.template, match.transform
    H, W = page.gray.shape[:2]
    by = f"template:{template.name}"
    crops: dict[str, FieldCrop] = {}
    # amount: the field box moved with the printed rectangle actually found
    field_box = tf.box(mm_box(template, template.fields.amount.box))
    rect_anchor = template.anchor("amount_box")
    found = match.found.get("amount_box")
    if rect_anchor is not None and found is not None:
        a = tf.box(mm_box(template, rect_anchor.box))
        sx = (found[2] - found[0]) / max(a[2] - a[0], 1)
        sy = (found[3] - found[1]) / max(a[3] - a[1], 1)
        field_box = (
            round(found[0] + (field_box[0] - a[0]) * sx),
            round(found[1] + (field_box[1] - a[1]) * sy),
            round(found[0] + (field_box[2] - a[0]) * sx),
            round(found[1] + (field_box[3] - a[1]) * sy),
        )
        field_box = _clip(field_box, found[2], found[3])
        field_box = (max(field_box[0], found[0]), max(field_box[1], found[1]), *field_box[2:])
    mark = template.anchor("amount_mark")
    stop = None
    if mark is not None:
        m = tf.box(mm_box(template, mark.box))
        if m[2] <= field_box[0] + 2 and m[1] < field_box[3] and field_box[1] < m[3]:
            stop = m[2] + 1
    amount_box = widen_over_cut_ink(page.ink, pad_box(field_box, W, H, stop), stop)
    crops["amount"] = _crop(page, "amount", amount_box, by)
    # account: the cells found, the missing ones placed from their neighbours
    spec = template.fields.account
    anchor = template.anchor("account_cells")
    projected = [tf.box(mm_box(template, c)) for c in spec.cell_boxes()]
    detected = match.cells.get("account_cells", ()) if anchor is not None else ()
    flags: list[str] = []
    if len(detected) == len(projected) and any(c is not None for c in detected):
        hits = [(i, c) for i, c in enumerate(detected) if c is not None]
        dx = float(np.median([c[0] - projected[i][0] for i, c in hits]))
        top = round(float(np.median([c[1] for _, c in hits])))
        bottom = round(float(np.median([c[3] for _, c in hits])))
        p_top, p_bottom = projected[0][1], projected[0][3]
        if abs((bottom - top) - (p_bottom - p_top)) > 0.25 * (p_bottom - p_top):
            # a comb: its open top was guessed; the template knows the cell height
            top, bottom = p_top, p_bottom
            dy = float(np.median([c[3] for _, c in hits])) - p_bottom
            if abs(dy) <= 0.3 * (p_bottom - p_top):  # but the base line was found
                top, bottom = round(p_top + dy), round(p_bottom + dy)
            detected = tuple(None if c is None else (c[0], top, c[2], bottom) for c in detected)
        cells = [
            c if c is not None else (p[0] + round(dx), top, p[2] + round(dx), bottom)
            for c, p in zip(detected, projected, strict=True)
        ]
        if len(hits) < len(cells):
            flags.append("cells_estimated")
    else:
        cells = projected
        flags.append("cells_estimated")
    row = (cells[0][0], min(c[1] for c in cells), cells[-1][2], max(c[3] for c in cells))
    box = widen_over_cut_ink(page.ink, pad_box(row, W, H))
    if writing_past_row(page.ink, cells, box[2], [crops["amount"].box], structure.v_rules):
        flags.append("writing_past_row")
    crops["account"] = _crop(page, "account", box, by, cells, flags)
    return crops


def _generic(page: PageLike, structure: Structure, cfg: PipelineConfig) -> Layout:
    H, W = page.gray.shape[:2]
    amount = find_amount(structure, page.ink)
    account = find_account(structure, cfg.account_length, avoid=amount.box if amount else None)
    if not looks_like_document(structure, amount, account):
        return Layout("none", {}, False, (ReasonCode.NOT_A_DOCUMENT.value,))
    flags = ["layout_generic"]
    crops: dict[str, FieldCrop] = {}
    if amount is None:
        flags.append("field_not_found:amount")
    else:
        stop = None
        if amount.mark_box is not None:
            # a mark in its own cell or outside the box: the crop starts at the box, whose
            # border (the cell's divider) would read as a "1"; a mark inside: just after it
            outside = amount.mark_box[2] <= amount.box[0]
            border = max(2, round(0.05 * (amount.box[3] - amount.box[1])))  # the divider's ink
            stop = amount.box[0] + border if outside else amount.mark_box[2] + 1
        crop_flags = [] if amount.boxed else ["amount_unboxed"]
        if amount.contested or amount.score < AMOUNT_SURE_SCORE:
            crop_flags.append("layout_unsure")
        box = widen_over_cut_ink(page.ink, pad_box(amount.box, W, H, stop), stop)
        crops["amount"] = _crop(page, "amount", box, "generic", flags=crop_flags)
    if account is None:
        flags.append("field_not_found:account")
    else:
        row = account.row
        box = widen_over_cut_ink(page.ink, pad_box(row.box, W, H))
        others = [c.box for c in crops.values()]
        # where the amount was not found, its writing may be what stands past the row
        past = bool(others) and writing_past_row(
            page.ink, row.cells, box[2], others, structure.v_rules
        )
        account_flags = ["writing_past_row"] if past else []
        crops["account"] = _crop(page, "account", box, "generic", row.cells, flags=account_flags)
    unsure = amount is None or any("layout_unsure" in c.flags for c in crops.values())
    if unsure:
        flags.append("layout_unsure")
    return Layout("generic", crops, True, tuple(flags), amount.score if amount else 0.0)


def locate_fields(page: PageLike, templates: Sequence[Template], cfg: PipelineConfig) -> Layout:
    """Find the amount and account crops of one page.

    >>> import numpy as np
    >>> from hdr.config import PipelineConfig
    >>> from hdr.preprocess import PreparedPage
    >>> blank = np.full((700, 1600), 255, np.uint8)
    >>> page = PreparedPage(0, blank, np.zeros_like(blank), 200, 0.0, ())
    >>> layout = locate_fields(page, [], PipelineConfig())
    >>> layout.is_document, layout.flags
    (False, ('blank_page',))
    """
    ink = page.ink
    fraction = float(np.count_nonzero(ink)) / max(ink.size, 1)
    if fraction < BLANK_INK_FRACTION:
        return Layout("none", {}, False, (ReasonCode.BLANK_PAGE.value,))
    if fraction > MAX_INK_FRACTION or not looks_like_paper(page.gray):
        return Layout("none", {}, False, (ReasonCode.NOT_A_DOCUMENT.value,))
    structure = find_structure(ink, page.gray, page.dpi)
    match, _ = best_template(list(templates), structure, ink)
    if match is not None:
        crops = _template_crops(page, match, structure)
        return Layout(f"template:{match.template.name}", crops, True, (), match.score)
    return _generic(page, structure, cfg)


__all__ = [
    "Layout",
    "PageLike",
    "locate_fields",
    "looks_like_paper",
    "neighbour_correlation",
    "pad_box",
    "paper_fraction",
    "writing_past_row",
]
