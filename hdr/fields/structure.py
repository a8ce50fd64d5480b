"""A page's printed structure in one value: rules, rectangles and cell rows.

>>> import numpy as np
>>> ink = np.zeros((400, 900), np.uint8); ink[100:103, 100:700] = 255; ink[200:203, 100:700] = 255
>>> ink[100:203, 100:103] = 255; ink[100:203, 697:700] = 255
>>> [r.box for r in find_structure(ink).rects]
[(104, 103, 696, 200)]
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from hdr.fields.cells import find_lattice_rows, merge_rows
from hdr.fields.lines import (
    MAX_RULE_THICKNESS,
    CellRow,
    Rect,
    Rule,
    group_cell_rows,
    holes,
    join_collinear,
    rule_mask,
    scale_rule,
    shrink_mask,
    thin_components,
    thin_rules,
    working_scale,
)
from hdr.types import Box

MAX_RULE_MM = 1.0  # a rule is thinner than this (blurred scans included)
FAINT_LEVEL = 205  # gray level (paper ~255 after illumination correction) of a faint rule
FAINT_CLEARANCE = 4  # a faint line is at most twice this thick, in working px
FAINT_MAX_DENSITY = 0.25  # share of faint pixels around one above which it is a background
FAINT_MAX_AREA_DENSITY = 0.1  # ... and over a wider area (a watermark's hatching)
# Faint pixels make only long rules (background patterns, a watermark's letters, guilloche,
# have short straight stretches), and faint vertical ones only close boxes
LONG_RULE = (0.08, 0.04)  # of the page width (horizontal rules), of its height (vertical)
BACKGROUND_SPAN = 0.9  # of the page width
CORNER_GAP = 0.012  # of the page width: a box corner broken by less is closed
DASH_GAP = (0.035, 0.04)  # the gaps of a dashed rule, same units


@dataclass(frozen=True)
class Structure:
    """What is printed on a page, in page pixels."""

    width: int
    height: int
    h_rules: tuple[Rule, ...] = ()
    v_rules: tuple[Rule, ...] = ()
    rects: tuple[Rect, ...] = ()
    rows: tuple[CellRow, ...] = ()
    ink_fraction: float = 0.0
    scale: float = 1.0  # working px per page px


def _neighbours(mask: np.ndarray, side: int) -> np.ndarray:
    """How many pixels of a 0/255 mask each side x side window holds (int32; the share is
    this over side * side, compared in integers so no rounding can move a pixel)."""
    return cv2.boxFilter(mask // 255, cv2.CV_32S, (side, side), normalize=False)


def _faint_lines(
    gray: np.ndarray, small_ink: np.ndarray, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of thin lines clearly darker than paper but missing from the ink mask, at the
    working scale: (along horizontal lines, along vertical ones), the ink added back.

    Thin printed rules binarise badly (a 1 px grey line is lighter than the ink ceiling).
    Security backgrounds are just as dark, but busy: a faint pixel counts for a horizontal
    line only when its column of faint pixels there is short (likewise sideways for vertical
    lines), and none counts where faint pixels crowd the neighbourhood. The ink is
    added back so that a rule half in the ink mask and half faint stays whole; only long
    straight runs of the result become rules.
    """
    _, below = cv2.threshold(gray, FAINT_LEVEL - 1, 255, cv2.THRESH_BINARY_INV)  # < FAINT_LEVEL
    faint = cv2.bitwise_and(shrink_mask(below, scale), cv2.bitwise_not(small_ink))
    side = max(5, round(0.012 * max(faint.shape))) | 1
    faint[_neighbours(faint, side) > FAINT_MAX_DENSITY * side * side] = 0
    # and none where a busy security pattern covers a wider area
    wide = max(9, round(0.06 * max(faint.shape))) | 1
    faint[_neighbours(faint, wide) > FAINT_MAX_AREA_DENSITY * wide * wide] = 0
    mask = faint
    # a line is thin across: runs of faint pixels longer than that across it are not lines
    k = 2 * FAINT_CLEARANCE + 1
    thick_v = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((k, 1), np.uint8))
    thick_h = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, k), np.uint8))
    along_h = cv2.bitwise_and(mask, cv2.bitwise_not(thick_v))
    along_v = cv2.bitwise_and(mask, cv2.bitwise_not(thick_h))
    return cv2.bitwise_or(along_h, small_ink), cv2.bitwise_or(along_v, small_ink)


def _duplicate(rule: Rule, rules: list[Rule]) -> bool:
    """A rule already known: on the same line, overlapping most of its length."""
    return any(
        abs(r.pos - rule.pos) <= 3
        and min(r.end, rule.end) - max(r.start, rule.start) > 0.5 * rule.length
        for r in rules
    )


def _close_corners(grid: np.ndarray, h_rules: list[Rule], sides: list[Rule], gap: int) -> None:
    """Draw the bit of a horizontal rule missing before the box side it runs up to (a corner
    broken by the scan, or eaten by what touches it there), in working px."""
    for h in h_rules:
        for v in sides:
            if not v.start - gap <= h.pos <= v.end + gap:
                continue
            if 0 < v.pos - h.end <= gap:
                cv2.line(grid, (h.end, h.pos), (v.pos, h.pos), 255, max(1, h.thickness))
            elif 0 < h.start - v.pos <= gap:
                cv2.line(grid, (v.pos, h.pos), (h.start, h.pos), 255, max(1, h.thickness))


def _bridging(v_rules: list[Rule], h_rules: list[Rule], tol: int) -> list[Rule]:
    """Vertical rules that run from one horizontal rule to another (a box's side or divider),
    cut to the span between them; a side may overshoot a corner where it touches a stroke."""
    out = []
    for v in v_rules:
        crossed = [
            h.pos
            for h in h_rules
            if h.start - tol <= v.pos <= h.end + tol and v.start - tol <= h.pos <= v.end + tol
        ]
        if len(crossed) < 2:
            continue
        top, bottom = min(crossed), max(crossed)
        # the rules must sit at the ends: a long stroke crossing a line midway is not a side
        at_ends = top - v.start <= 0.3 * v.length and v.end - bottom <= 0.3 * v.length
        if at_ends and bottom - top >= 0.6 * v.length:
            # a little past both rules, which may tilt or sag a pixel or two at the corner
            out.append(Rule(False, top - 3, bottom + 4, v.pos, v.thickness))
    return out


def _covered(x: int, y0: int, y1: int, sides: np.ndarray, tol: int) -> float:
    """Share of the segment x, y0..y1 that vertical rules (rows: pos, start, end) run along."""
    near = sides[np.abs(sides[:, 0] - x) <= tol]
    if near.size == 0 or y1 <= y0:
        return 0.0
    hit = np.zeros(y1 - y0, bool)
    for _, start, end in near:
        hit[max(0, start - y0) : max(0, min(y1, end) - y0)] = True
    return float(hit.mean())


def _span_covered(rule: Rule, x0: int, x1: int) -> float:
    return max(0, min(rule.end, x1) - max(rule.start, x0)) / max(1, x1 - x0)


def _ruled_boxes(
    h_rules: list[Rule], v_rules: list[Rule], holes_found: list[Box], width: int, height: int
) -> list[Box]:
    """Boxes drawn as two horizontal rules with sides, even dashed or broken ones, that the
    holes of the rule grid missed (page px, inside the border).

    The box spans the top or the bottom rule (a dash lost at one end shortens the other),
    where both rules cover most of the span and stop at its corners, and side rules run along
    half of each end.
    """
    tol = max(6, round(0.008 * width))
    sides = np.array([(v.pos, v.start, v.end) for v in v_rules], dtype=np.int64).reshape(-1, 3)
    boxes: list[Box] = []
    for top in h_rules:
        if top.length < 0.05 * width:
            continue
        for bottom in h_rules:
            d = bottom.pos - top.pos
            if not 0.03 * height <= d <= 0.35 * height:
                continue
            for x0, x1 in {(top.start, top.end), (bottom.start, bottom.end)}:
                if min(_span_covered(top, x0, x1), _span_covered(bottom, x0, x1)) < 0.75:
                    continue
                if min(top.start, bottom.start) < x0 - tol or max(top.end, bottom.end) > x1 + tol:
                    continue  # a rule running on past the corner is not this box's side
                left = _covered(x0, top.pos, bottom.pos, sides, tol)
                right = _covered(x1, top.pos, bottom.pos, sides, tol)
                if min(left, right) < 0.5:
                    continue
                t = max(top.thickness, bottom.thickness)
                box = (x0 + t, top.pos + t, x1 - t, bottom.pos - t)
                inside = sum(
                    (h[2] - h[0]) * (h[3] - h[1])
                    for h in holes_found
                    if h[0] >= box[0] - tol
                    and h[2] <= box[2] + tol
                    and h[1] >= box[1] - tol
                    and h[3] <= box[3] + tol
                )
                if inside < 0.7 * (box[2] - box[0]) * (box[3] - box[1]):
                    boxes.append(box)
                    break
    return boxes


def find_structure(
    ink: np.ndarray, gray: np.ndarray | None = None, dpi: int | None = None
) -> Structure:
    """Rules, rectangles and cell rows printed on a page.

    ``ink``: HxW uint8, 255 = ink; ``gray``: the same page in gray, which lets faint rules and
    cell separators be found (see :func:`hdr.fields.cells.find_lattice_rows`); ``dpi``, when
    known, sets how thick a rule may be.
    """
    height, width = ink.shape[:2]
    scale = working_scale(height, width)
    small = shrink_mask(ink, scale)
    sh, sw = small.shape
    inv = 1.0 / scale
    h_mask = rule_mask(small, horizontal=True)
    v_mask = rule_mask(small, horizontal=False)
    source_h, source_v = _faint_lines(gray, small, scale) if gray is not None else (small, small)
    # long rules: faint ones (only long straight runs of faint pixels are trusted), and dashed
    # ones (a bitonal scan of a light rule), whose gaps the short closing above cannot bridge
    long_h_mask = rule_mask(source_h, True, LONG_RULE[0])
    dashed_h_mask = rule_mask(source_h, True, LONG_RULE[0], DASH_GAP[0])
    long_v_mask = rule_mask(source_v, False, LONG_RULE[1], DASH_GAP[1])
    # thinner than the x-height of small print: 1 mm when the dpi is known, else a fraction
    # of the page (0.8 mm on a cheque-sized page)
    if dpi:
        max_thick = max(3.0, MAX_RULE_MM * dpi / 25.4 * scale)
    else:
        max_thick = max(3.0, MAX_RULE_THICKNESS * max(sh, sw))
    h_rules, h_kept = thin_components(h_mask, True, max_thick)
    # Thinness is judged on each pass alone (the wide closing merges a rule with the digits
    # that touch it); dashes of a bitonal scan are thin, text lines merged by it are not.
    # A faint line running (almost) edge to edge is a security background's, not a form's.
    extra: list[Rule] = []
    long_h = thin_rules(long_h_mask, True, max_thick)
    for r in long_h + thin_rules(dashed_h_mask, True, max(3.0, max_thick / 2)):
        if r.length < BACKGROUND_SPAN * sw and not _duplicate(r, h_rules + extra):
            extra.append(r)
            cv2.line(h_kept, (r.start, r.pos), (r.end - 1, r.pos), 255, r.thickness)
    h_rules += extra
    v_rules = thin_rules(v_mask, False, max_thick)
    # faint or dashed box sides only count where they close a box (_ruled_boxes)
    sides = v_rules + thin_rules(long_v_mask, False, max(3.0, max_thick / 2))
    # boxes are closed by vertical rules that run from one horizontal rule to another; a
    # digit's straight stroke inside a box rarely does, and would split it in two
    grid = h_kept.copy()
    box_sides = _bridging(
        join_collinear(v_rules, max(4, round(0.03 * sh))), h_rules, max(3, round(0.012 * sh))
    )
    for v in box_sides:
        cv2.line(grid, (v.pos, v.start), (v.pos, v.end - 1), 255, max(1, v.thickness))
    _close_corners(grid, h_rules, box_sides, max(4, round(CORNER_GAP * sw)))
    # a small dilation closes corners where a rule stops a pixel short of the one it meets
    grid = cv2.dilate(grid, np.ones((3, 3), np.uint8))
    found = holes(grid, max(6, round(0.008 * sw)), max(6, round(0.02 * sh)))
    page_holes = [
        (round(b[0] * inv), round(b[1] * inv), round(b[2] * inv), round(b[3] * inv)) for b in found
    ]
    page_h = [scale_rule(r, inv) for r in h_rules]
    page_v = [scale_rule(r, inv) for r in v_rules]
    page_sides = [scale_rule(r, inv) for r in sides]
    # rules broken into pieces (dashes, a background pattern crossing them) joined first
    joined_h = join_collinear(page_h, round(0.03 * width))
    page_holes += _ruled_boxes(joined_h, page_sides, page_holes, width, height)
    lattice = find_lattice_rows(page_h, page_v, width, height, gray, ink)
    rows = merge_rows(lattice, group_cell_rows(page_holes))
    return Structure(
        width=width,
        height=height,
        h_rules=tuple(page_h),
        v_rules=tuple(page_v),
        rects=tuple(Rect(b) for b in page_holes),
        rows=tuple(rows),
        ink_fraction=float(np.count_nonzero(small)) / small.size,
        scale=scale,
    )
