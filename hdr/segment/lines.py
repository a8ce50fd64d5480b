"""Remove printed box borders and cell lines from a field's ink, repairing the strokes they cut.

A printed rule is a long straight run of ink: horizontal rules are found by a morphological
opening with a kernel longer than any handwritten stroke of the field (a few times the crop
height), vertical rules by an opening as tall as most of the box and a check that they reach
from the top border to the bottom one (a tall handwritten ``1`` rarely does both). Where a
handwritten stroke crosses a removed rule (ink right above and right below it), the rule's pixels
are put back, so a ``7`` written through the bottom border stays in one piece.

>>> import numpy as np
>>> ink = np.zeros((60, 300), np.uint8)
>>> ink[5:7, :] = 255; ink[53:55, :] = 255          # top and bottom borders
>>> ink[15:45, 100:104] = 255                         # a "1"
>>> found = remove_lines(ink)
>>> int(found.ink[5:7].sum()), int(found.ink[15:45, 100:104].sum() // 255)
(0, 120)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from hdr.types import Box


@dataclass(frozen=True)
class Lines:
    """Result of :func:`remove_lines`; positions are in crop pixels."""

    ink: np.ndarray  # ink with the rules removed (strokes across them repaired)
    rows: tuple[int, ...]  # y of horizontal rules
    cols: tuple[int, ...]  # x of vertical rules
    interior: Box  # the part of the crop inside the box borders (the whole crop when none)

    @property
    def found(self) -> bool:
        return bool(self.rows or self.cols)


def _open(mask: np.ndarray, length: int, horizontal: bool, gap: int) -> np.ndarray:
    """Pixels lying on a straight run of at least ``length`` (gaps of ``gap`` px bridged)."""
    if horizontal:
        closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((1, gap), np.uint8))
        runs = cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    else:
        closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((gap, 1), np.uint8))
        runs = cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))
    return runs & mask


def _components(mask: np.ndarray) -> list[tuple[int, int, int, int, np.ndarray]]:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        out.append((x, y, w, h, labels == i))
    return out


def _one_sided(mask: np.ndarray, reach: int, direction: str) -> np.ndarray:
    """Pixels that have ``mask`` ink within ``reach`` px in ``direction`` (one column of slack)."""
    size = reach + 1
    if direction in ("up", "down"):
        kernel = np.ones((size, 3), np.uint8)
        anchor = (1, reach if direction == "up" else 0)
    else:
        kernel = np.ones((3, size), np.uint8)
        anchor = (reach if direction == "left" else 0, 1)
    return cv2.dilate(mask, kernel, anchor=anchor)


def _pick(positions: list[int], lo: float, hi: float, centre: float) -> int | None:
    """The rule inside [lo, hi] nearest to ``centre`` (the box border, not a rule beyond it)."""
    inside = [p for p in positions if lo <= p <= hi]
    return min(inside, key=lambda p: abs(p - centre)) if inside else None


def remove_lines(ink: np.ndarray, *, keep_cols: bool = False) -> Lines:
    """Find and remove the printed rules of a field crop's ink mask (255 = ink).

    ``keep_cols`` leaves vertical rules in place (used when cells are known: they are cut by the
    cell boxes anyway).
    """
    mask = (np.asarray(ink) > 0).astype(np.uint8) * 255
    h, w = mask.shape
    if h < 8 or w < 8:
        return Lines(mask, (), (), (0, 0, w, h))
    gap = max(2, round(0.01 * w))
    # longer than any handwritten stroke: a digit is about as wide as the crop is tall
    h_len = max(20, round(min(0.45 * w, 2.2 * h)))
    h_mask = np.zeros_like(mask)
    rows: list[int] = []
    for x, y, cw, ch, comp in _components(_open(mask, h_len, True, gap)):
        thick = comp[y : y + ch, x : x + cw].sum(axis=0)
        if float(np.median(thick[thick > 0])) > max(4.0, 0.12 * h):
            continue  # a thick band is a filled area or a scribble, not a printed rule
        h_mask[comp] = 255
        rows.append(y + ch // 2)
    rows.sort()
    top = _pick(rows, 0, 0.4 * h, h / 2)
    bottom = _pick(rows, 0.6 * h, h, h / 2)
    span_lo = top if top is not None else 0
    span_hi = bottom if bottom is not None else h - 1
    span = max(1, span_hi - span_lo)

    v_mask = np.zeros_like(mask)
    cols: list[int] = []
    if not keep_cols:
        v_len = max(8, round(0.6 * span))
        for x, y, cw, ch, comp in _components(_open(mask, v_len, False, max(2, round(0.03 * h)))):
            thick = comp[y : y + ch, x : x + cw].sum(axis=1)
            if float(np.median(thick[thick > 0])) > max(4.0, 0.06 * w):
                continue
            reaches = y <= span_lo + 0.12 * span and y + ch >= span_hi - 0.12 * span
            if top is None and bottom is None:
                reaches = ch >= 0.9 * h
            if not reaches:
                continue  # a tall handwritten stroke, not a border
            v_mask[comp] = 255
            cols.append(x + cw // 2)
    cols.sort()

    # slightly thicken the rules over ink, so their anti-aliased edges go too
    h_thick = np.asarray(cv2.dilate(h_mask, np.ones((3, 1), np.uint8)), np.uint8)
    v_thick = np.asarray(cv2.dilate(v_mask, np.ones((1, 3), np.uint8)), np.uint8)
    rules = (h_thick | v_thick) & mask
    other = mask & ~rules
    reach = 5
    repair_h = _one_sided(other, reach, "up") & _one_sided(other, reach, "down")
    repair_v = _one_sided(other, reach, "left") & _one_sided(other, reach, "right")
    h_rules = h_thick & rules
    v_rules = rules & ~h_rules
    restored = (h_rules & repair_h & ~v_rules) | (v_rules & repair_v & ~h_rules)
    clean = other | restored

    x_lo, x_hi = 0, w
    if 1 <= len(cols) <= 3:  # box sides or a separator after a printed currency mark
        left = [c for c in cols if c < 0.3 * w]
        right = [c for c in cols if c > 0.7 * w]
        x_lo = max(left) if left else 0
        x_hi = min(right) if right else w
    interior = (x_lo, span_lo if top is not None else 0, x_hi, bottom if bottom is not None else h)
    return Lines(clean, tuple(rows), tuple(cols), interior)
