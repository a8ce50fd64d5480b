"""Connected components of a field's ink and the measures the later steps are relative to.

Everything here is relative to the writing, not to pixels: specks are small against the pen's
stroke width, marks ("." "," "-") are small against the median digit height, and a component is
too wide for one digit against the median digit width. That keeps the rules the same from a
150-dpi phone photo to a 300-dpi scan.

>>> import numpy as np
>>> ink = np.zeros((50, 80), np.uint8); ink[10:40, 10:14] = 255; ink[10:40, 40:60] = 255
>>> comps = find_components(ink)
>>> [c.box for c in comps]
[(10, 10, 14, 40), (40, 10, 60, 40)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from hdr.preprocess.components import connected_components
from hdr.types import Box


@dataclass(frozen=True)
class Component:
    """A connected piece of ink; ``label`` indexes the label image it came from."""

    label: int
    box: Box
    area: int

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def cx(self) -> float:
        return (self.box[0] + self.box[2]) / 2.0

    @property
    def cy(self) -> float:
        return (self.box[1] + self.box[3]) / 2.0


@dataclass(frozen=True)
class Metrics:
    """Size of the writing in a field, in crop pixels."""

    digit_height: float  # median height of the full-size glyphs
    digit_width: float  # median width of one digit (clamped to a sane share of the height)
    stroke_width: float
    top: float  # median top of the full-size glyphs
    base: float  # median bottom (the baseline)

    def relative(self, box: Box) -> tuple[float, float, float]:
        """(height / digit height, width / digit height, vertical centre: 0 = top, 1 = base)."""
        body = max(1.0, self.base - self.top)
        h, w = box[3] - box[1], box[2] - box[0]
        cy = ((box[1] + box[3]) / 2.0 - self.top) / body
        dh = max(1.0, self.digit_height)
        return h / dh, w / dh, cy


def find_components(ink: np.ndarray) -> list[Component]:
    """8-connected components of an ink mask, left to right."""
    labels, comps = label_components(ink)
    del labels
    return comps


def label_components(ink: np.ndarray) -> tuple[np.ndarray, list[Component]]:
    """The label image and the components (label 0 is the background)."""
    if ink.size == 0:
        return np.zeros(ink.shape, np.int32), []
    n, labels, stats, _ = connected_components((ink > 0).astype(np.uint8))
    comps = [
        Component(
            i,
            (
                int(stats[i, 0]),
                int(stats[i, 1]),
                int(stats[i, 0] + stats[i, 2]),
                int(stats[i, 1] + stats[i, 3]),
            ),
            int(stats[i, 4]),
        )
        for i in range(1, n)
    ]
    comps.sort(key=lambda c: (c.box[0], c.box[1]))
    return labels, comps


def stroke_width(ink: np.ndarray) -> float:
    """Typical pen width: twice the median distance-to-background along the strokes' ridges."""
    mask = (ink > 0).astype(np.uint8)
    if not mask.any():
        return 1.0
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    ridge = (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8))) & (dist > 0)
    values = dist[ridge] if ridge.any() else dist[dist > 0]
    return max(1.0, 2.0 * float(np.median(values)))


def measure(boxes: Sequence[Box], stroke: float) -> Metrics:
    """Digit height/width, top and baseline from the boxes of the glyphs of one field."""
    if not boxes:
        return Metrics(1.0, 1.0, stroke, 0.0, 1.0)
    heights = np.array([b[3] - b[1] for b in boxes], np.float64)
    # "full size" against the upper quartile: one tall slash or stroke must not set the scale
    ref = float(np.percentile(heights, 75))
    tall = [b for b, h in zip(boxes, heights, strict=True) if h >= 0.6 * ref]
    dh = float(np.median([b[3] - b[1] for b in tall]))
    # a "1" is no measure of how wide digits are, nor are two touching digits
    widths = [b[2] - b[0] for b in tall if 0.35 * dh <= (b[2] - b[0]) <= 1.1 * dh]
    dw = float(np.median(widths)) if widths else 0.6 * dh
    dw = min(max(dw, 0.4 * dh), 0.85 * dh)
    top = float(np.median([b[1] for b in tall]))
    base = float(np.median([b[3] for b in tall]))
    return Metrics(dh, dw, stroke, top, base)


def is_flat(box: Box, metrics: Metrics) -> bool:
    """A dash-like glyph: low against the digits and much wider than high."""
    h, w = box[3] - box[1], box[2] - box[0]
    return h < 0.42 * metrics.digit_height and w >= 1.6 * h


def is_speck(comp: Component, metrics: Metrics) -> bool:
    """Too small to be any mark a person writes: thinner than the pen, or a few pixels."""
    sw = metrics.stroke_width
    return max(comp.width, comp.height) < max(2.0, 0.5 * sw) or comp.area < max(4.0, 0.2 * sw * sw)


def is_stray(comp: Component, metrics: Metrics) -> bool:
    """A small piece where no mark goes, or a remnant of a rule above or below the writing.

    Dots and commas sit on the baseline and dashes are wide, so a small blob high on the line
    (or a tiny one anywhere but the baseline) is noise; apostrophes go too, the value does not
    need them.
    """
    rel_h, rel_w, cy = metrics.relative(comp.box)
    size = max(rel_h, rel_w)
    if size < 0.35 and cy < 0.3:
        return True
    if size < 0.08 or (size < 0.12 and cy < 0.7):
        return True
    if rel_h < 0.3 and (cy < -0.4 or cy > 1.5):
        return True  # a thin piece well above or below the line: what is left of a rule
    return (cy < -0.9 or cy > 1.9) and rel_h < 0.6


STACKED_WIDTH = 1.25  # of the digit height: the widest union of two stacked pieces


def merge_groups(comps: Sequence[Component], metrics: Metrics) -> list[list[Component]]:
    """Group the pieces of one broken glyph: components stacked over each other.

    Two pieces join when they overlap horizontally by half the narrower one and the union is no
    larger than one glyph (pieces one above the other may span up to :data:`STACKED_WIDTH`
    digit heights). Dashes stay apart (``=`` and the ``-`` of ``/-``) unless they sit in
    the upper part of the line (the bar of a ``5``), inside another glyph's width (a crossed
    ``7``), or low under another glyph so that both make one glyph of a digit's height (the
    foot of a ``2``, the bottom stroke of a ``3`` written apart); a small mark below another
    glyph (a dot under a digit's foot) stays apart too.
    """
    n = len(comps)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    dh, dw = metrics.digit_height, metrics.digit_width
    body = max(1.0, metrics.base - metrics.top)
    for i in range(n):
        for j in range(i + 1, n):
            a, b = comps[i], comps[j]
            if b.box[0] >= a.box[2]:
                continue
            overlap = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
            narrow = min(a, b, key=lambda c: c.width)
            if overlap < 0.5 * max(1, narrow.width):
                continue
            union = (
                min(a.box[0], b.box[0]),
                min(a.box[1], b.box[1]),
                max(a.box[2], b.box[2]),
                max(a.box[3], b.box[3]),
            )
            # one piece over the other (the hook and the bowl of a slanted "3" written in two
            # strokes) may lean further apart than side by side pieces: up to a digit's height
            v_overlap = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
            stacked = v_overlap <= 0.25 * min(a.height, b.height)
            widest = max(1.25 * dw, a.width, b.width, STACKED_WIDTH * dh if stacked else 0.0)
            if union[3] - union[1] > 1.6 * dh or union[2] - union[0] > widest:
                continue
            flat = [c for c in (a, b) if is_flat(c.box, metrics)]
            if len(flat) == 2:
                continue
            if flat:
                f = flat[0]
                other = b if f is a else a
                level = (f.cy - metrics.top) / body
                upper = level < 0.3
                inside = overlap >= 0.8 * f.width and other.height >= 0.6 * dh
                # the foot of a "2", or the bottom stroke of a "3" or "5" written apart: low,
                # under a glyph, and together they make one glyph of a digit's height
                whole = other.height >= 0.6 * dh or (stacked and union[3] - union[1] >= 0.75 * dh)
                foot = level > 0.75 and overlap >= 0.5 * f.width and whole
                if not (upper or inside or foot):
                    continue
            small = min(a, b, key=lambda c: c.height)
            big = b if small is a else a
            dot = small.height < 0.35 * dh and small.width < 0.5 * big.width
            if dot and small.box[1] >= big.box[3] - 0.15 * dh:
                continue  # a dot or comma under a digit's foot
            parent[find(j)] = find(i)
    groups: dict[int, list[Component]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(comps[i])
    return sorted(groups.values(), key=lambda g: min(c.box[0] for c in g))


def union_box(comps: Sequence[Component]) -> Box:
    return (
        min(c.box[0] for c in comps),
        min(c.box[1] for c in comps),
        max(c.box[2] for c in comps),
        max(c.box[3] for c in comps),
    )


def nearest_each_side(
    box: Box, boxes: Sequence[Box], count: int = 2
) -> tuple[list[Box], list[Box]]:
    """Up to ``count`` of ``boxes`` wholly left of ``box``'s centre and as many wholly right of
    it, nearest first (``box`` itself left out)."""
    cx = (box[0] + box[2]) / 2.0
    others = [b for b in boxes if b != box]
    left = sorted((b for b in others if b[2] <= cx), key=lambda b: cx - b[2])[:count]
    right = sorted((b for b in others if b[0] >= cx), key=lambda b: b[0] - cx)[:count]
    return left, right


def neighbour_band(box: Box, boxes: Sequence[Box], metrics: Metrics) -> tuple[float, float] | None:
    """Top line and baseline of the writing around ``box``, from its full-size neighbours.

    A line of handwriting slopes and drifts: on a long amount the last digits may sit a third
    of a digit lower than the first. Up to two full-size glyphs on each side say where the line
    runs at this glyph. None when a side has none: a group comma stands between digits, so a
    glyph at either end of the writing is never judged a long comma.
    """
    full = [b for b in boxes if (b[3] - b[1]) >= 0.7 * metrics.digit_height]
    left, right = nearest_each_side(box, full)
    if not left or not right:
        return None
    near = left + right
    return float(np.median([b[1] for b in near])), float(np.median([b[3] for b in near]))


def local_metrics(box: Box, boxes: Sequence[Box], metrics: Metrics) -> Metrics:
    """The writing's size and baseline around ``box``, from the bigger glyphs next to it.

    People write some digits smaller (the zeros of "360,000") and the line drifts; a mark is
    judged against its neighbours, not the whole field.
    """
    h = box[3] - box[1]
    if h >= 0.5 * metrics.digit_height:
        return metrics  # a glyph of full size (if small) sets its own size
    left, right = nearest_each_side(box, [b for b in boxes if (b[3] - b[1]) > 1.5 * h])
    near = left + right
    if not near:
        return metrics
    dh = float(np.median([b[3] - b[1] for b in near]))
    top = float(np.median([b[1] for b in near]))
    base = float(np.median([b[3] for b in near]))
    return Metrics(dh, metrics.digit_width, metrics.stroke_width, top, base)
