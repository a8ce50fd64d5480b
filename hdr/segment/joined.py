"""A decimal point written against a digit: one blob with it, so no piece of its own.

Hands often put the point so close that it touches the digit beside it (``245.50`` with the dot
against the second ``5``); binarization, which lets faint pixels join sure ink, then makes them
one piece. The classifier reads the digit (it was never shown a digit that carries a dot), the
point is lost and the field reads ``24550.00``, confidently, and both readers agree on it.

The ink still tells: the dot is a dark blob of its own, joined to the digit only through paler
pixels. Raising the darkness threshold step by step, it comes apart from the digit and stays
apart over a good range of thresholds (a stroke's end that merely fades does not), low on the
line, at the piece's left or right end, no bigger than a dot. The recognizer sends the field to
a person where a decimal mark there would give another value (``mark_joined``); it neither cuts
the dot off nor guesses. A bilevel scan has no paler ink: there the dot must hang on the digit
by a neck thinner than itself; so must a dot pressed against the digit in ink as dark as the
digit's, which no threshold sets apart either (``32.00`` read ``3200.00``). A comma written
against a digit in solid ink is told by where it hangs: below the line the digits around it
stand on, narrow, at one end of the piece (:func:`joined_comma`).

>>> import numpy as np
>>> from hdr.segment.components import Metrics, neighbour_band
>>> m = Metrics(digit_height=40, digit_width=25, stroke_width=4, top=0, base=40)
>>> level = np.zeros((40, 18), np.uint8); level[:, 13:17] = 250   # a "1", 4 px wide
>>> joined_dot(level, (100, 0, 118, 40), m) is None
True
>>> _ = cv2.circle(level, (5, 35), 4, 230, -1)                    # a dot beside its foot,
>>> level[33:38, 9:13] = 90                                        # joined by pale pixels
>>> joined_dot(level, (100, 0, 118, 40), m)
(101, 31, 109, 40)
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from hdr.segment.components import Metrics, neighbour_band
from hdr.types import Box

STEPS = tuple(range(48, 256, 16))  # darkness thresholds tried (0 paper .. 255 typical ink)
PERSIST = 32  # darkness levels over which the dot must stay apart from the rest of the glyph
LOW = 0.7  # vertical centre (0 top of the digits, 1 their baseline): a dot sits below this
END = 0.3  # share of the piece's width at either end where a joined dot may be
MAX_SIZE = 0.35  # digit heights: a dot is no taller nor wider than this
MIN_SIZE = 0.08  # ... and no smaller than this (a speck, a pixel of noise)
MAX_ELONGATION = 2.2  # a dot is about as wide as tall; a stroke's end is long
BILEVEL_SHADES = 0.02  # at most this share of a bilevel piece's ink is neither paper nor ink


def _parts(level: np.ndarray, threshold: int) -> list[tuple[int, int, int, int, int]]:
    """Components of the pixels at least ``threshold`` dark: (x, y, w, h, area) each."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(
        (level >= threshold).astype(np.uint8), connectivity=8
    )
    return [tuple(int(v) for v in stats[k, :5]) for k in range(1, count)]  # type: ignore[misc]


def _is_bilevel(level: np.ndarray) -> bool:
    """Whether the piece has no shades between paper and ink (a bilevel scan)."""
    ink = level > 0
    mid = (level > 30) & (level < 225) & (level != 128)  # 128: the mask's own floor
    return int(mid.sum()) < BILEVEL_SHADES * max(1, int(ink.sum()))


def joined_dot(level: np.ndarray, box: Box, metrics: Metrics) -> Box | None:
    """The box (field coordinates) of a dot joined to the glyph whose darkness is ``level``
    (a shaded piece: 0 paper, 255 typical ink; covering ``box``), or None. Only pieces at
    least half a digit tall are looked at. A dot joined through paler ink comes apart as the
    darkness threshold rises (:func:`_apart_in_darker_ink`). On a bilevel scan there is no
    paler ink, and a dot pressed against the glyph in ink as dark as its own comes apart at no
    threshold: either way the dot must hang on the glyph by a neck thinner than itself
    (:func:`_necked_dot`)."""
    h, w = level.shape[:2]
    if h < 0.5 * max(1.0, metrics.digit_height) or w < 3:
        return None
    if not _is_bilevel(level):
        found = _apart_in_darker_ink(level, box, metrics)
        if found is not None:
            return found
    return _necked_dot((level > 0).astype(np.uint8), box, metrics)


def _apart_in_darker_ink(level: np.ndarray, box: Box, metrics: Metrics) -> Box | None:
    """A dot that stays apart from the glyph over :data:`PERSIST` darkness levels as the
    threshold rises, low at one end of the piece (see the module docstring), or None."""
    w = level.shape[1]
    dh = max(1.0, metrics.digit_height)
    found: dict[tuple[int, bool], list[int]] = {}  # (rough x, left end) -> thresholds seen apart
    boxes: dict[tuple[int, bool], Box] = {}
    for threshold in STEPS:
        parts = _parts(level, threshold)
        if len(parts) < 2:
            continue
        biggest = max(parts, key=lambda p: p[4])
        if biggest[3] < 0.5 * dh:  # the glyph itself has fallen apart: no reference left
            break
        for x, y, pw, ph, _ in parts:
            if (x, y, pw, ph) == biggest[:4] or max(pw, ph) > MAX_SIZE * dh:
                continue
            part = (x, y, x + pw, y + ph)
            place = _end_place(part, w, metrics, box)
            if place is None:
                continue
            left, centre = place
            key = (round(centre / max(2.0, 0.1 * dh)), left)
            # first seen apart, it must look like a dot (as the threshold rises, it shrinks)
            if key not in found and not _dot_shaped(part, dh):
                continue
            # beside the glyph, not under it: the rest of the glyph's ink lies further in
            inner = biggest[0] >= centre if left else biggest[0] + biggest[2] <= centre
            if not inner:
                continue
            found.setdefault(key, []).append(threshold)
            boxes.setdefault(key, _shifted(part, box))
    for key, seen in found.items():
        if max(seen) - min(seen) >= PERSIST:
            return boxes[key]
    return None


def _shifted(part: Box, box: Box) -> Box:
    """``part`` (piece coordinates) in the field's coordinates (the piece covers ``box``)."""
    return (part[0] + box[0], part[1] + box[1], part[2] + box[0], part[3] + box[1])


def _dot_shaped(part: Box, dh: float) -> bool:
    """Whether ``part`` has a dot's size (in digit heights ``dh``) and is about round."""
    bw, bh = part[2] - part[0], part[3] - part[1]
    return MIN_SIZE * dh <= max(bw, bh) <= MAX_SIZE * dh and max(bw, bh) <= MAX_ELONGATION * min(
        bw, bh
    )


def _end_place(part: Box, w: int, metrics: Metrics, box: Box) -> tuple[bool, float] | None:
    """(whether at the left end, centre x) when ``part`` (piece coordinates; the piece is
    ``w`` wide and covers ``box``) lies at either end of the piece, low on the line; else
    None."""
    centre = (part[0] + part[2]) / 2.0
    left = centre < END * w
    if not (left or centre > (1 - END) * w):
        return None
    if metrics.relative(_shifted(part, box))[2] < LOW:
        return None
    return left, centre


def _necked_dot(ink: np.ndarray, box: Box, metrics: Metrics) -> Box | None:
    """A dot on a bilevel piece: eroded step by step (the distance to the background), a
    round core low at one end comes apart from the rest where a neck thinner than the dot
    joins them; grown back, it holds no more than one arm of ink leading to the glyph (a
    stroke's corner has two), and the glyph lies beside it, still half a digit tall. It
    must stay apart over two steps."""
    dh = max(1.0, metrics.digit_height)
    dist = cv2.distanceTransform(np.pad(ink, 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    seen: dict[tuple[int, bool], int] = {}
    for t in np.arange(1.0, float(dist.max()), 0.5):
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            (dist >= t).astype(np.uint8), connectivity=8
        )
        if count < 3:
            continue
        r = int(np.ceil(t)) + 1
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        for k in range(1, count):
            x, y, cw, ch = (int(v) for v in stats[k, :4])
            core_x = x + cw / 2.0
            at_end = core_x < (END + 0.05) * ink.shape[1] or core_x > (0.95 - END) * ink.shape[1]
            if max(cw, ch) > MAX_SIZE * dh or not at_end or y + ch < ink.shape[0] / 2:
                continue
            blob = cv2.dilate((labels == k).astype(np.uint8), disk) & ink
            ys, xs = np.nonzero(blob)
            bounds = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
            place = _end_place(bounds, ink.shape[1], metrics, box)
            if place is None or not _dot_shaped(bounds, dh):
                continue
            left, centre = place
            far = np.asarray(cv2.dilate(blob, np.ones((3, 3), np.uint8)) == 0, np.uint8)
            rest = ink & far
            n, _, rest_stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
            if n < 2:
                continue
            rx, _, rw, rh = (int(v) for v in rest_stats[1 + int(np.argmax(rest_stats[1:, 4])), :4])
            if rh < 0.5 * dh or (rx < centre if left else rx + rw > centre):
                continue
            grown = np.asarray(cv2.dilate(blob, np.ones((9, 9), np.uint8)), np.uint8)
            ring = grown & far & ink
            if cv2.connectedComponents(ring, connectivity=8)[0] - 1 != 1:
                continue
            key = (round(centre / max(2.0, 0.1 * dh)), left)
            seen[key] = seen.get(key, 0) + 1
            if seen[key] >= 2:
                return _shifted(bounds, box)
    return None


FOOT_BELOW = 0.1  # digit heights a comma's tail reaches below the baseline of the digits around
FOOT_MAX_WIDTH = 0.35  # digit heights: the ink below the baseline is no wider than a comma
FOOT_SLACK = 0.05  # digit heights below the baseline where a digit's own bottom may still be


def joined_comma(ink: np.ndarray, box: Box, metrics: Metrics, boxes: Sequence[Box]) -> Box | None:
    """The box (field coordinates) of a comma's tail joined to the glyph whose ink is ``ink``
    (covering ``box``; ``boxes`` are the field's pieces, its own among them), or None.

    A comma written against a digit is one piece with it in solid ink, so no darkness
    threshold sets it apart (:func:`joined_dot`). But a comma hangs below the line where
    digits stand: the piece reaches at least ``FOOT_BELOW`` of a digit height below the
    baseline of the full-size glyphs beside it (up to two on each side, as a line of writing
    drifts: :func:`hdr.segment.components.neighbour_band`), and what lies below that baseline
    is narrow and at one end of the piece (a digit standing low has its whole bottom there).
    A group or decimal comma stands between digits, so a full-size glyph must stand on each
    side.
    """
    dh = max(1.0, metrics.digit_height)
    h, w = ink.shape[:2]
    if h < 0.7 * dh or w < 3:
        return None
    band = neighbour_band(box, boxes, metrics)
    if band is None:
        return None
    base = band[1]
    if box[3] < base + FOOT_BELOW * dh:
        return None
    cut = max(0, round(base + FOOT_SLACK * dh - box[1]))
    below = ink[cut:] > 0
    cols = np.flatnonzero(below.any(axis=0))
    if cols.size == 0 or cols[-1] - cols[0] + 1 > FOOT_MAX_WIDTH * dh:
        return None
    at_left, at_right = cols[-1] < END * w, cols[0] > (1 - END) * w
    if not (at_left or at_right):
        return None
    rows = np.flatnonzero(below.any(axis=1))
    top = box[1] + cut
    return (
        box[0] + int(cols[0]),
        top + int(rows[0]),
        box[0] + int(cols[-1]) + 1,
        top + int(rows[-1]) + 1,
    )
