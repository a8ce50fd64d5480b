"""Printed structure of a page: rules, closed rectangles and rows of equal cells.

Everything here works on the ink mask (255 = ink) at a *working scale*: the page is shrunk so its
longer side is at most :data:`WORK_LONG_SIDE` pixels, which makes every length below a fraction
of the page instead of a pixel count, so 150 and 300 dpi scans look alike. Boxes in the returned
:class:`Structure` are in page pixels again.

Rules come from a morphological opening with a long thin kernel (after a short closing that joins
dotted lines); a component counts as a rule only when it is thin along most of its length, which
drops words merged by the closing and keeps rules that handwriting or a label touches.
Rectangles are the holes of the rule grid; cell rows are runs of adjacent rectangles of equal
size. :func:`hdr.fields.structure.find_structure` puts it all together.

>>> import numpy as np
>>> ink = np.zeros((300, 900), np.uint8); ink[100:103, 100:700] = 255
>>> [(r.start, r.end, r.pos) for r in thin_components(rule_mask(ink, True), True, 4.0)[0]]
[(100, 700, 101)]
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from hdr.preprocess.components import connected_components
from hdr.types import Box

WORK_LONG_SIDE = 1400  # px: pages are analysed at most this large (about 170 dpi on a cheque)
MIN_RULE_FRACTION = 0.025  # a horizontal rule is at least this fraction of the page width
MIN_TICK_FRACTION = 0.018  # a vertical one (a comb tick is short), of the page height
DOT_GAP_FRACTION = 0.004  # gaps up to this fraction of the width are bridged (dotted rules)
V_GAP_FRACTION = 0.015  # ... and of the height, along vertical rules
MAX_RULE_THICKNESS = 0.004  # fraction of the page's longer side: thinner than any x-height


@dataclass(frozen=True)
class Rule:
    """A printed line segment. ``pos`` is its y (horizontal rule) or x (vertical rule)."""

    horizontal: bool
    start: int  # x0 (horizontal) or y0 (vertical), page px
    end: int
    pos: int
    thickness: int

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def box(self) -> Box:
        half = max(1, self.thickness // 2)
        if self.horizontal:
            return (self.start, self.pos - half, self.end, self.pos + half + 1)
        return (self.pos - half, self.start, self.pos + half + 1, self.end)


@dataclass(frozen=True)
class Rect:
    """The inside of a closed printed rectangle (the border excluded), page px."""

    box: Box

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class CellRow:
    """Adjacent rectangles of equal size, left to right (an account number or date row)."""

    cells: tuple[Box, ...]

    @property
    def box(self) -> Box:
        return (
            min(c[0] for c in self.cells),
            min(c[1] for c in self.cells),
            max(c[2] for c in self.cells),
            max(c[3] for c in self.cells),
        )

    @property
    def count(self) -> int:
        return len(self.cells)


def working_scale(height: int, width: int) -> float:
    """Factor that brings a page to the working size (never enlarges)."""
    return min(1.0, WORK_LONG_SIDE / max(height, width))


def shrink_mask(mask: np.ndarray, scale: float) -> np.ndarray:
    """Downscale a binary mask keeping thin lines (a pixel is ink when a quarter of it was)."""
    if scale >= 1.0:
        return (mask > 0).astype(np.uint8) * 255
    small = cv2.resize(mask, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return (small >= 64).astype(np.uint8) * 255


def rule_mask(
    ink: np.ndarray,
    horizontal: bool,
    min_fraction: float | None = None,
    gap_fraction: float | None = None,
) -> np.ndarray:
    """Ink that belongs to long straight runs along one direction (dotted runs joined).

    Runs are at least ``min_fraction`` of the page side they run along (default: a rule's or a
    tick's minimum); gaps up to ``gap_fraction`` of it are bridged first (default: dots).
    """
    h, w = ink.shape
    side = w if horizontal else h
    if min_fraction is None:
        min_fraction = MIN_RULE_FRACTION if horizontal else MIN_TICK_FRACTION
    if gap_fraction is None:
        # faint separators binarise as dashes: vertical gaps are bridged more generously
        gap_fraction = DOT_GAP_FRACTION * w / side if horizontal else V_GAP_FRACTION
    # odd kernels: an even one shifts the result by half a pixel each pass
    gap = max(3, round(gap_fraction * side)) | 1
    length = max(9, round(min_fraction * side)) | 1
    if horizontal:
        closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((1, gap), np.uint8))
        return cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((gap, 1), np.uint8))
    return cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))


def _middle(values: np.ndarray) -> float:
    """The (upper) median, without np.median's overhead: called for every component."""
    k = len(values) // 2
    return float(np.partition(values, k)[k])


def thin_components(
    mask: np.ndarray, horizontal: bool, max_thick: float
) -> tuple[list[Rule], np.ndarray]:
    """Components of a rule mask that are thin along most of their length, and their mask."""
    rules, kept, labels = _thin(mask, horizontal, max_thick)
    lut = kept.astype(np.uint8) * 255
    return rules, lut[labels]


def thin_rules(mask: np.ndarray, horizontal: bool, max_thick: float) -> list[Rule]:
    """The rules of :func:`thin_components`, without their mask."""
    return _thin(mask, horizontal, max_thick)[0]


def _thin(
    mask: np.ndarray, horizontal: bool, max_thick: float
) -> tuple[list[Rule], np.ndarray, np.ndarray]:
    """Rules, which labels are rules (bool per label), and the label image."""
    n, labels, stats, _ = connected_components(mask)
    rules: list[Rule] = []
    kept = np.zeros(n, bool)
    for i in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[i, :5])
        across = bh if horizontal else bw
        if across <= max(2.0, max_thick / 2):  # thin everywhere: no need to look closer
            along = bw if horizontal else bh
            pos = (y + bh / 2) if horizontal else (x + bw / 2)
            start, end = (x, x + bw) if horizontal else (y, y + bh)
            thickness = max(1, round(area / along))
            rules.append(Rule(horizontal, start, end, round(pos - 0.5), thickness))
            kept[i] = True
            continue
        comp = labels[y : y + bh, x : x + bw] == i
        thick = comp.sum(axis=0 if horizontal else 1)
        covered = thick > 0
        if covered.sum() < 0.6 * (bw if horizontal else bh):
            continue
        median = _middle(thick[covered])
        if median > max_thick:
            continue
        # a rule keeps its width; a line of small text merged by the closing does not
        steady = np.abs(thick[covered] - median) <= max(1.0, 0.4 * median)
        if steady.mean() < 0.6:
            continue
        # where the rule runs: the median centre of its thin stretches (robust to touching ink)
        idx = np.arange(bh if horizontal else bw, dtype=np.float64)
        profile = comp.T if horizontal else comp  # rows = positions along the rule
        thin = covered & (thick <= max_thick)
        centres = (profile[thin] * idx).sum(axis=1) / np.maximum(profile[thin].sum(axis=1), 1)
        pos = (y if horizontal else x) + _middle(centres)
        start, end = (x, x + bw) if horizontal else (y, y + bh)
        rules.append(Rule(horizontal, start, end, round(pos), max(1, round(median))))
        kept[i] = True
    return rules, kept, labels


def join_collinear(rules: list[Rule], max_gap: int, max_offset: int = 2) -> list[Rule]:
    """Pieces of one broken rule (dashes, a faint line, a digit crossing it) joined.

    Rules on the same line (``pos`` within ``max_offset``) whose ends are at most ``max_gap``
    apart become one.
    """
    out: list[Rule] = []
    for r in sorted(rules, key=lambda r: (r.pos, r.start)):
        for i, o in enumerate(out):
            if (
                abs(o.pos - r.pos) <= max_offset
                and r.start - o.end <= max_gap
                and o.start - r.end <= max_gap
            ):
                out[i] = Rule(
                    o.horizontal,
                    min(o.start, r.start),
                    max(o.end, r.end),
                    round((o.pos * o.length + r.pos * r.length) / max(o.length + r.length, 1)),
                    max(o.thickness, r.thickness),
                )
                break
        else:
            out.append(r)
    return out


def scale_rule(rule: Rule, inv: float) -> Rule:
    return Rule(
        rule.horizontal,
        round(rule.start * inv),
        round(rule.end * inv),
        round(rule.pos * inv),
        max(1, round(rule.thickness * inv)),
    )


def holes(grid: np.ndarray, min_w: int, min_h: int) -> list[Box]:
    """Bounding boxes of the rectangular holes of a rule grid (working px)."""
    contours, hierarchy = cv2.findContours(grid, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    boxes: list[Box] = []
    gh, gw = grid.shape
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True):
        if parent < 0:  # an outer contour, not a hole
            continue
        x, y, bw, bh = cv2.boundingRect(contour)
        if bw < min_w or bh < min_h or bw * bh > 0.6 * gw * gh:
            continue
        # rectangular, or framed by rules on all four sides with a stray line poking in
        if cv2.contourArea(contour) < 0.8 * bw * bh and _framed(grid, x, y, bw, bh) < 0.9:
            continue
        boxes.append((x, y, x + bw, y + bh))
    return boxes


def _framed(grid: np.ndarray, x: int, y: int, w: int, h: int) -> float:
    """Share of the one-pixel frame just outside a hole's bounding box that is rule."""
    gh, gw = grid.shape
    x0, y0, x1, y1 = max(0, x - 1), max(0, y - 1), min(gw - 1, x + w), min(gh - 1, y + h)
    frame = np.concatenate(
        [grid[y0, x0 : x1 + 1], grid[y1, x0 : x1 + 1], grid[y0 : y1 + 1, x0], grid[y0 : y1 + 1, x1]]
    )
    return float(np.count_nonzero(frame)) / max(frame.size, 1)


def same_band(a: Box, b: Box, tol: float = 0.2) -> bool:
    """Boxes whose tops and bottoms agree within ``tol`` of the first one's height."""
    h = max(a[3] - a[1], 1)
    return abs(a[1] - b[1]) <= tol * h and abs(a[3] - b[3]) <= tol * h


def adjacent_runs(boxes: list[Box]) -> list[list[Box]]:
    """Chains of boxes side by side in one band (a box split by dividers, a row of cells)."""
    order = sorted(boxes, key=lambda b: (b[0], b[1]))
    runs: list[list[Box]] = []
    used: set[Box] = set()
    for first in order:
        if first in used:
            continue
        run = [first]
        used.add(first)
        while True:
            last = run[-1]
            h = last[3] - last[1]
            nxt = next(
                (
                    b
                    for b in order
                    if b not in used
                    # a slanted digit stroke splitting a box leaves overlapping halves
                    and -max(2, 0.15 * h) <= b[0] - last[2] <= max(6, 0.15 * h)
                    and same_band(last, b)
                ),
                None,
            )
            if nxt is None:
                break
            run.append(nxt)
            used.add(nxt)
        runs.append(run)
    return runs


def union(boxes: list[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def tiled_unions(boxes: list[Box], min_tiling: float = 0.85) -> list[Box]:
    """Unions of groups of touching boxes that tile a rectangle (a printed box cut in pieces
    by digit strokes that touch its borders, across or along)."""
    n = len(boxes)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(boxes):
        for j in range(i + 1, n):
            b = boxes[j]
            tol = max(6.0, 0.15 * min(a[3] - a[1], b[3] - b[1]))
            side = abs(a[2] - b[0]) <= tol or abs(b[2] - a[0]) <= tol
            ends = abs(a[3] - b[1]) <= tol or abs(b[3] - a[1]) <= tol
            x_overlap = min(a[2], b[2]) - max(a[0], b[0]) > 0
            y_overlap = min(a[3], b[3]) - max(a[1], b[1]) > 0
            if (side and y_overlap) or (ends and x_overlap):
                parent[find(i)] = find(j)
    groups: dict[int, list[Box]] = {}
    for i, b in enumerate(boxes):
        groups.setdefault(find(i), []).append(b)
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        u = union(members)
        area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in members)
        if area >= min_tiling * (u[2] - u[0]) * (u[3] - u[1]):
            out.append(u)
    return out


def stacked_pairs(boxes: list[Box]) -> list[tuple[Box, Box]]:
    """Boxes with the same left and right sides, one just above the other (a box cut across
    by a stroke: a strike-through, a long dash)."""
    pairs = []
    for a in boxes:
        for b in boxes:
            w = a[2] - a[0]
            gap = b[1] - a[3]
            same_sides = abs(a[0] - b[0]) <= 0.03 * w and abs(a[2] - b[2]) <= 0.03 * w
            if same_sides and 0 <= gap <= 0.35 * (b[3] - a[1]):
                pairs.append((a, b))
    return pairs


def group_cell_rows(boxes: list[Box], min_cells: int = 4) -> list[CellRow]:
    """Runs of adjacent boxes of about equal size on one line, left to right."""
    rows: list[CellRow] = []
    used: set[int] = set()
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i][0], boxes[i][1]))
    for start in order:
        if start in used:
            continue
        chain = [start]
        while True:
            last = boxes[chain[-1]]
            lw, lh = last[2] - last[0], last[3] - last[1]
            widths = [boxes[i][2] - boxes[i][0] for i in chain]
            ref_w = float(np.median(widths))
            nxt = None
            for j in order:
                if j in used or j in chain:
                    continue
                b = boxes[j]
                bw, bh = b[2] - b[0], b[3] - b[1]
                gap = b[0] - last[2]
                if not -2 <= gap <= max(6, 0.35 * lw):
                    continue
                if abs(b[1] - last[1]) > 0.25 * lh or abs(b[3] - last[3]) > 0.25 * lh:
                    continue
                if not 0.75 * ref_w <= bw <= 1.33 * ref_w or not 0.8 * lh <= bh <= 1.25 * lh:
                    continue
                nxt = j
                break
            if nxt is None:
                break
            chain.append(nxt)
        if len(chain) >= min_cells:
            used.update(chain)
            rows.append(CellRow(tuple(boxes[i] for i in chain)))
    return rows
