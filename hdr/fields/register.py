"""Match a page to a layout template by registering its printed structure on the anchors.

A template gives anchor boxes in fractions of its page, and the page size in millimetres. Pixels
are square, so the template maps onto the scan by one scale and an offset (``x_px = s * x_mm +
tx``, the same ``s`` for y): that covers any dpi and the white margins of a scan. Hypotheses come
from pairing a template rectangle (or cell row) with a detected one, and from the whole page; each
is scored by the share of anchor weight it explains (rectangles and cell rows weigh most, rules
less, text and code-line areas a little: only whether there is ink). The best is refined by
least squares over the matched anchors. A template is accepted only when its amount box and
account cells are both found at the registered place and the score reaches
:data:`MATCH_MIN_SCORE`.

>>> from hdr.fields.register import Transform
>>> Transform(2.0, 10.0, 5.0).box((1.0, 1.0, 3.0, 2.0))
(12, 7, 16, 9)
>>> Transform(2.0, 10.0, 5.0, k=0.1).box((1.0, 10.0, 3.0, 20.0))
(14, 25, 18, 45)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hdr.fields.evaluate import box_iou
from hdr.fields.lines import adjacent_runs, stacked_pairs, tiled_unions, union
from hdr.fields.structure import Structure
from hdr.fields.templates import Anchor, Template
from hdr.types import Box

MATCH_MIN_SCORE = 0.7
RECT_IOU = 0.55
CELL_IOU = 0.45
OUTLINE_IOU = 0.7  # a rectangle this close to a cells anchor is the row's outline
ROW_IOU = 0.4  # a detected row this close to a cells anchor, with as many cells, is it
SHEAR_PRIOR = 20.0  # weight (mm) of the "no shear" prior in the least-squares refinement
CELLS_MATCHED = 0.6  # share of a row's cells that must be found
WEIGHTS = {"rect": 2.0, "cells": 2.0, "line": 1.0, "text": 0.25, "micr": 0.25}
KEY_WEIGHT = 3.0  # amount_box and account_cells
REQUIRED = ("amount_box", "account_cells")
MAX_JOINED = 4  # at most this many neighbouring rectangles make one anchor rectangle


@dataclass(frozen=True)
class Transform:
    """Template millimetres -> page pixels: one scale, an offset, and the scan's shear.

    ``k`` moves x with y (a sheared scan: vertical rules lean); boxes stay axis-aligned, moved
    by the shear at their centre.
    """

    s: float
    tx: float
    ty: float
    k: float = 0.0

    def box(self, mm: tuple[float, float, float, float]) -> Box:
        x0, y0, x1, y1 = mm
        dx = self.k * (y0 + y1) / 2 + self.tx
        return (
            round(self.s * x0 + dx),
            round(self.s * y0 + self.ty),
            round(self.s * x1 + dx),
            round(self.s * y1 + self.ty),
        )


@dataclass(frozen=True)
class Match:
    template: Template
    transform: Transform
    score: float
    found: dict[str, Box] = field(default_factory=dict)  # anchor name -> detected box
    cells: dict[str, tuple[Box | None, ...]] = field(default_factory=dict)  # per-cell detections

    @property
    def accepted(self) -> bool:
        keys = [n for n in REQUIRED if self.template.anchor(n) is not None]
        return self.score >= MATCH_MIN_SCORE and all(n in self.found for n in keys)


def mm_box(
    template: Template, rel: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    w, h = template.page.width_mm, template.page.height_mm
    return (rel[0] * w, rel[1] * h, rel[2] * w, rel[3] * h)


def _rect_boxes(structure: Structure) -> list[Box]:
    """Detected rectangles, plus every run of neighbours joined (a box split by a divider or by
    a digit stroke that touches both borders)."""
    boxes = [r.box for r in structure.rects]
    joined = []
    for run in adjacent_runs(boxes):
        for i in range(len(run)):
            for j in range(i + 2, min(len(run), i + MAX_JOINED) + 1):
                joined.append(union(run[i:j]))
    joined += [union([a, b]) for a, b in stacked_pairs(boxes)]
    return boxes + joined + [u for u in tiled_unions(boxes) if u not in joined]


class BoxSet:
    """Boxes to match against, with a vectorised best-IoU lookup."""

    def __init__(self, boxes: list[Box]) -> None:
        self.boxes = boxes
        self.arr = np.array(boxes, dtype=np.float64).reshape(-1, 4)
        self.area = (self.arr[:, 2] - self.arr[:, 0]) * (self.arr[:, 3] - self.arr[:, 1])

    def best(self, target: Box) -> tuple[float, Box | None]:
        """The highest IoU with ``target`` and the box that has it."""
        if not self.boxes:
            return 0.0, None
        a = self.arr
        ix = np.clip(np.minimum(a[:, 2], target[2]) - np.maximum(a[:, 0], target[0]), 0, None)
        iy = np.clip(np.minimum(a[:, 3], target[3]) - np.maximum(a[:, 1], target[1]), 0, None)
        inter = ix * iy
        t_area = (target[2] - target[0]) * (target[3] - target[1])
        ious = inter / np.maximum(self.area + t_area - inter, 1e-9)
        i = int(np.argmax(ious))
        return float(ious[i]), self.boxes[i]


@dataclass(frozen=True)
class Targets:
    """What anchors are matched against, computed once per page."""

    rects: BoxSet  # rectangles and runs of neighbouring rectangles joined
    cells: BoxSet  # rectangles and the cells of every detected row

    @staticmethod
    def of(structure: Structure) -> Targets:
        cells = [r.box for r in structure.rects] + [c for row in structure.rows for c in row.cells]
        return Targets(BoxSet(_rect_boxes(structure)), BoxSet(cells))


def _ink_share(ink: np.ndarray, box: Box) -> float:
    h, w = ink.shape
    x0, y0, x1, y1 = max(0, box[0]), max(0, box[1]), min(w, box[2]), min(h, box[3])
    if x1 <= x0 or y1 <= y0:
        return 0.0
    return float(np.count_nonzero(ink[y0:y1, x0:x1])) / ((x1 - x0) * (y1 - y0))


def _line_found(structure: Structure, box: Box) -> Box | None:
    """A horizontal (or vertical) rule where a thin anchor box says one is."""
    x0, y0, x1, y1 = box
    horizontal = (x1 - x0) >= (y1 - y0)
    tol = max(4, round(0.015 * structure.height))
    rules = structure.h_rules if horizontal else structure.v_rules
    mid = (y0 + y1) / 2 if horizontal else (x0 + x1) / 2
    lo, hi = (x0, x1) if horizontal else (y0, y1)
    covered = 0
    hits = []
    for r in rules:
        if abs(r.pos - mid) <= tol:
            overlap = min(hi, r.end) - max(lo, r.start)
            if overlap > 0:
                covered += overlap
                hits.append(r)
    if hi > lo and covered >= 0.6 * (hi - lo):
        pos = round(float(np.median([r.pos for r in hits])))
        return (x0, pos, x1, pos + 1) if horizontal else (pos, y0, pos + 1, y1)
    return None


def _match_cells(
    anchor: Anchor, box: Box, structure: Structure, targets: Targets
) -> tuple[float, Box | None, tuple[Box | None, ...]]:
    """(share of cells found, the row's box, each cell's detected box) for a cells anchor.

    A detected row of the same length near the projected one is taken whole (registration
    may be off by part of a cell, a row is not); otherwise cells are matched one by one.
    """
    n = anchor.cells or 1
    best_v, best_row = 0.0, None
    for row in structure.rows:
        v = box_iou(box, row.box)
        if row.count == n and v > best_v:
            best_v, best_row = v, row
    if best_row is not None and best_v >= ROW_IOU:
        return 1.0, best_row.box, best_row.cells
    cw = (box[2] - box[0]) / n
    per_cell: list[Box | None] = []
    for i in range(n):
        cell = (round(box[0] + i * cw), box[1], round(box[0] + (i + 1) * cw), box[3])
        v, hit = targets.cells.best(cell)
        per_cell.append(hit if v >= CELL_IOU else None)
    hits = [c for c in per_cell if c is not None]
    if len(hits) < CELLS_MATCHED * n:
        # separators lost in the scan (a light grey line binarised away): the row's outline is
        # still a rectangle where the row should be; its cells are placed from the template
        v, outline = targets.rects.best(box)
        if outline is not None and v >= OUTLINE_IOU:
            return CELLS_MATCHED, outline, (None,) * n
    if not hits:
        return 0.0, None, tuple(per_cell)
    return len(hits) / n, union(hits), tuple(per_cell)


def _weight(anchor: Anchor) -> float:
    return KEY_WEIGHT if anchor.name in REQUIRED else WEIGHTS[anchor.kind]


def score_transform(
    template: Template,
    tf: Transform,
    structure: Structure,
    ink: np.ndarray,
    targets: Targets | None = None,
) -> Match:
    """How much of ``template`` is found on the page when placed by ``tf``."""
    targets = targets or Targets.of(structure)
    total = matched = 0.0
    found: dict[str, Box] = {}
    cells: dict[str, tuple[Box | None, ...]] = {}
    for anchor in template.anchors:
        weight = _weight(anchor)
        total += weight
        box = tf.box(mm_box(template, anchor.box))
        if anchor.kind == "rect":
            v, hit = targets.rects.best(box)
            if v >= RECT_IOU and hit is not None:
                matched += weight
                found[anchor.name] = hit
        elif anchor.kind == "cells":
            share, hit, per_cell = _match_cells(anchor, box, structure, targets)
            if share >= CELLS_MATCHED and hit is not None:
                matched += weight * share
                found[anchor.name] = hit
                cells[anchor.name] = per_cell
        elif anchor.kind == "line":
            line_hit = _line_found(structure, box)
            if line_hit is not None:
                matched += weight
                found[anchor.name] = line_hit
        elif 0.01 <= _ink_share(ink, box) <= 0.6:  # text, micr: printed matter is there
            matched += weight
    return Match(template, tf, round(matched / total, 4) if total else 0.0, found, cells)


def _hypotheses(template: Template, structure: Structure, rects: list[Box]) -> list[Transform]:
    """Transforms proposed by pairing anchors with detected structure, and by the whole page."""
    W, H = structure.width, structure.height
    out: list[Transform] = []
    page_s = W / template.page.width_mm
    if abs(page_s * template.page.height_mm - H) <= 0.12 * H:
        out.append(Transform(page_s, 0.0, 0.0))
    for anchor in template.anchors:
        if anchor.kind not in ("rect", "cells"):
            continue
        ax0, ay0, ax1, ay1 = mm_box(template, anchor.box)
        aw, ah = ax1 - ax0, ay1 - ay0
        if anchor.kind == "rect":
            targets = rects
        else:
            targets = [
                row.box for row in structure.rows if abs(row.count - (anchor.cells or 0)) <= 1
            ]
        for b in targets:
            sx, sy = (b[2] - b[0]) / aw, (b[3] - b[1]) / ah
            if not 0.8 <= sx / sy <= 1.25:
                continue
            s = float(np.sqrt(sx * sy))
            # the whole template page must fit the scan, give or take a little cropping
            if not 0.75 * W <= s * template.page.width_mm <= 1.1 * W:
                continue
            tx = (b[0] + b[2]) / 2 - s * (ax0 + ax1) / 2
            ty = (b[1] + b[3]) / 2 - s * (ay0 + ay1) / 2
            out.append(Transform(s, tx, ty))
    return out


def _refine(match: Match, structure: Structure, ink: np.ndarray, targets: Targets) -> Match:
    """Least squares over the matched rectangles, rows and rules (scale, offset, shear); the
    refined placement is kept when it explains the page at least as well."""
    template = match.template
    rows: list[list[float]] = []  # coefficients of (s, k, tx, ty)
    values: list[float] = []
    for anchor in template.anchors:
        hit = match.found.get(anchor.name)
        if hit is None or anchor.kind in ("text", "micr"):
            continue
        a = mm_box(template, anchor.box)
        cy = (a[1] + a[3]) / 2
        if anchor.kind in ("rect", "cells"):
            rows += [[a[0], cy, 1.0, 0.0], [a[2], cy, 1.0, 0.0]]
            values += [hit[0], hit[2]]
        if anchor.kind == "rect":
            rows += [[a[1], 0.0, 0.0, 1.0], [a[3], 0.0, 0.0, 1.0]]
            values += [hit[1], hit[3]]
        elif anchor.kind == "cells":  # a comb's top is a guess; its base line is printed
            rows.append([a[3], 0.0, 0.0, 1.0])
            values.append(hit[3])
        else:  # a rule: where it runs
            rows.append([cy, 0.0, 0.0, 1.0])
            values.append((hit[1] + hit[3]) / 2)
    if len(rows) < 4:
        return match
    rows.append([0.0, SHEAR_PRIOR, 0.0, 0.0])
    values.append(0.0)
    sol, *_ = np.linalg.lstsq(np.array(rows), np.array(values), rcond=None)
    s, k, tx, ty = (float(v) for v in sol)
    if s <= 0 or abs(k) > 0.05 * s:
        return match
    refined = score_transform(template, Transform(s, tx, ty, k), structure, ink, targets)
    return refined if refined.score >= match.score else match


def match_template(
    template: Template, structure: Structure, ink: np.ndarray, targets: Targets | None = None
) -> Match | None:
    """The best placement of ``template`` on the page, or None when nothing proposes one."""
    targets = targets or Targets.of(structure)
    best: Match | None = None
    seen: set[tuple[int, int, int]] = set()
    for tf in _hypotheses(template, structure, targets.rects.boxes):
        key = (round(tf.s * 20), round(tf.tx / 4), round(tf.ty / 4))
        if key in seen:
            continue
        seen.add(key)
        m = score_transform(template, tf, structure, ink, targets)
        if best is None or m.score > best.score:
            best = m
    return _refine(best, structure, ink, targets) if best is not None else None


def best_template(
    templates: list[Template] | tuple[Template, ...], structure: Structure, ink: np.ndarray
) -> tuple[Match | None, list[Match]]:
    """The accepted match with the highest score (or None), and every template's best match."""
    targets = Targets.of(structure)
    found = [match_template(t, structure, ink, targets) for t in templates]
    matches = [m for m in found if m is not None]
    matches.sort(key=lambda m: -m.score)
    accepted = [m for m in matches if m.accepted]
    return (accepted[0] if accepted else None), matches
