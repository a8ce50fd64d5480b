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

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from hdr.preprocess.components import connected_components
from hdr.types import Box

LINE_SLACK = 4  # px a vertical rule's component may be wider than its line before it is split


@dataclass(frozen=True)
class Lines:
    """Result of :func:`remove_lines`; positions are in crop pixels."""

    ink: np.ndarray  # ink with the rules removed (strokes across them repaired)
    rows: tuple[int, ...]  # y of horizontal rules
    cols: tuple[int, ...]  # x of vertical rules
    interior: Box  # the part of the crop inside the box borders (the whole crop when none)
    ticks: tuple[int, ...] = ()  # x of the short ticks of a comb field (cell separators)
    struck: bool = False  # a long straight line runs through the writing: crossed out
    inner_cols: tuple[int, ...] = ()  # x of vertical rules the horizontal ones run on past

    @property
    def found(self) -> bool:
        return bool(self.rows or self.cols)


def _runs(mask: np.ndarray, length: int, horizontal: bool, gap: int) -> np.ndarray:
    """Straight runs at least ``length`` long once gaps of ``gap`` px are bridged (dashed rules)."""
    along = (1, gap) if horizontal else (gap, 1)
    kernel = (1, length) if horizontal else (length, 1)
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones(along, np.uint8))
    runs = cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones(kernel, np.uint8))
    # the closing and opening shave a pixel or two off the ends: give them back
    return cv2.dilate(runs, np.ones((1, 5) if horizontal else (5, 1), np.uint8))


def _components(
    mask: np.ndarray, keep: Callable[[int, int, int, int], bool] | None = None
) -> list[tuple[int, int, int, int, np.ndarray]]:
    """(x, y, w, h, full-size mask) of the components that ``keep(x, y, w, h)`` lets through."""
    n, labels, stats, _ = connected_components(mask)
    out = []
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if keep is None or keep(x, y, w, h):
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


def _crossings(mask: np.ndarray, x0: int, x1: int, y0: int, y1: int) -> int:
    """How many strokes cross the band rows y0..y1 between x0 and x1 (ink right above and below)."""
    h = mask.shape[0]
    above = mask[max(0, y0 - 2), x0:x1] > 0
    below = mask[min(h - 1, y1 + 1), x0:x1] > 0
    both = (above & below).astype(np.int8)
    return int(np.count_nonzero(np.diff(np.concatenate([[0], both])) == 1))


def _attached(mask: np.ndarray, rule: np.ndarray, x0: int, x1: int) -> float:
    """Share of a horizontal rule's columns with ink right above or right below its band."""
    h = mask.shape[0]
    cols = rule[:, x0:x1]
    has = cols.any(axis=0)
    if not has.any():
        return 0.0
    top = np.argmax(cols, axis=0)
    bottom = h - 1 - np.argmax(cols[::-1], axis=0)
    xs = np.arange(x0, x1)
    above = mask[np.clip(top - 2, 0, h - 1), xs] > 0
    below = mask[np.clip(bottom + 2, 0, h - 1), xs] > 0
    return float(((above | below) & has).sum()) / float(has.sum())


def _regular(xs: list[int]) -> bool:
    """At least four positions, most of them about equally spaced (a comb field's ticks)."""
    if len(xs) < 4:
        return False
    diffs = np.diff(sorted(xs))
    step = float(np.median(diffs))
    return step > 0 and float(np.mean(np.abs(diffs - step) <= 0.25 * step)) >= 0.6


def _find_ticks(
    rest: np.ndarray, rows: list[int], span: int, cells: Sequence[Box]
) -> tuple[np.ndarray, list[int]]:
    """Short straight vertical strokes standing on (or hanging from) a rule: comb-field ticks."""
    mask = np.zeros_like(rest)
    found: list[tuple[int, np.ndarray]] = []
    spans: list[tuple[int, int, int]] = []
    t_len = max(4, round(0.12 * span))
    vertical = _runs(rest, t_len, False, 1) & rest

    def tick_like(x: int, y: int, cw: int, ch: int) -> bool:
        if ch >= 0.6 * span or cw > max(3, round(0.06 * span)):
            return False
        return any(abs(y + ch - r) <= 5 or abs(y - r) <= 5 for r in rows)

    for x, y, cw, ch, comp in _components(vertical, tick_like):
        found.append((x + cw // 2, comp))
        spans.append((y, y + ch, cw))
    if cells:
        edges = [e for c in cells for e in (c[0], c[2])]
        width = float(np.median([c[2] - c[0] for c in cells]))
        keep = [min(abs(f[0] - e) for e in edges) <= 0.15 * width for f in found]
        found = [f for f, k in zip(found, keep, strict=True) if k]
        spans = [t for t, k in zip(spans, keep, strict=True) if k]
    elif not _regular([f[0] for f in found]):
        found = []
    for _, comp in found:
        mask[comp] = 255
    xs = sorted({f[0] for f in found})
    if len(xs) >= 4 and float(np.median(np.diff(xs))) >= 4:
        # a tick that a digit touches is not found on its own: remove the straight vertical
        # ink where the regular spacing puts a tick, within the ticks' usual height
        step = float(np.median(np.diff(xs)))
        y0 = int(np.median([t[0] for t in spans]))
        y1 = int(np.median([t[1] for t in spans]))
        half = max(2, int(np.median([t[2] for t in spans])))
        for a, b in itertools.pairwise(xs):
            gaps = round((b - a) / step)
            for k in range(1, gaps):
                xm = round(a + (b - a) * k / gaps)
                band = vertical[y0:y1, max(0, xm - half) : xm + half + 1]
                mask[y0:y1, max(0, xm - half) : xm + half + 1] |= band
    return mask, xs


def _line_core(block: np.ndarray) -> tuple[int, int] | None:
    """The columns of a vertical rule's component that are the printed line, when a written
    stroke running along the line touches it (the stem of a ``9`` next to a cell line), or None
    when the component is the line alone.

    The line darkens its column over the whole band, the stroke beside it less: the line is the
    one run of columns covered at least 80 % as much as the most covered one, and only when
    the component is more than a few pixels wider than that run (a rule that leans spreads
    its cover over its columns evenly, and is left whole).
    """
    cover = block.sum(axis=0)
    core = np.flatnonzero(cover >= 0.8 * cover.max())
    if core.size == 0 or core[-1] - core[0] + 1 != core.size:
        return None
    if block.shape[1] - core.size <= LINE_SLACK:
        return None
    return int(core[0]), int(core[-1])


def remove_lines(ink: np.ndarray, cells: Sequence[Box] = ()) -> Lines:
    """Find and remove the printed rules of a field crop's ink mask (255 = ink).

    ``cells`` (boxes relative to the crop) tell where the ticks of a comb field can be.
    """
    mask = (np.asarray(ink) > 0).astype(np.uint8) * 255
    h, w = mask.shape
    if h < 8 or w < 8:
        return Lines(mask, (), (), (0, 0, w, h))
    # longer than any handwritten stroke: a digit is about as wide as the crop is tall
    h_len = max(20, round(min(0.45 * w, 2.2 * h)))
    h_mask = np.zeros_like(mask)
    rows: list[int] = []
    struck = False
    for x, y, cw, ch, comp in _components(_runs(mask, h_len, True, max(3, round(0.05 * w)))):
        on_ink = comp & (mask > 0)
        coverage = on_ink.sum() / max(1, comp.sum())
        # a dashed or faint rule must run across most of the crop; a shorter one must be solid
        # (glyphs with flat bottoms side by side look like a dashed line too)
        if coverage < (0.6 if cw >= 0.7 * w else 0.9):
            continue
        thick = on_ink[y : y + ch, x : x + cw].sum(axis=0)
        if float(np.median(thick[thick > 0])) > max(4.0, 0.12 * h):
            continue  # a thick band is a filled area or a scribble, not a printed rule
        centre = y + ch // 2
        if 0.3 * h < centre < 0.7 * h and _crossings(mask, x, x + cw, y, y + ch - 1) >= 2:
            struck = True  # a line through the middle of the writing: leave it, say so
            continue
        if _attached(mask, on_ink, x, x + cw) > 0.5:
            continue  # the flat bottoms (or tops) of glyphs in a row, not a printed rule
        h_mask[on_ink] = 255
        rows.append(centre)
    rows.sort()
    top = _pick(rows, 0, 0.4 * h, h / 2)
    bottom = _pick(rows, 0.6 * h, h, h / 2)
    span_lo = top if top is not None else 0
    span_hi = bottom if bottom is not None else h - 1
    span = max(1, span_hi - span_lo)

    v_mask = np.zeros_like(mask)
    cols: list[int] = []
    edges = [e for c in cells for e in (c[0], c[2])]
    cell_w = float(np.median([c[2] - c[0] for c in cells])) if cells else 0.0
    v_len = max(8, round(0.6 * span))
    for x, y, cw, ch, comp in _components(_runs(mask, v_len, False, max(2, round(0.05 * h)))):
        on_ink = comp & (mask > 0)
        thick = on_ink[y : y + ch, x : x + cw].sum(axis=1)
        if not thick.any() or float(np.median(thick[thick > 0])) > max(4.0, 0.06 * w):
            continue
        # a border or cell line joins the rules above and below it; a tall "1" seldom does
        reaches_top = y <= span_lo + 3 if top is not None else y <= 0.05 * h
        reaches_bottom = y + ch >= span_hi - 3 if bottom is not None else y + ch >= 0.95 * h
        near_edge = bool(edges) and min(abs(x + cw // 2 - e) for e in edges) <= 0.12 * cell_w
        if not (reaches_top and reaches_bottom) and not (near_edge and ch >= 0.75 * span):
            continue  # (a broken cell line still sits on a known cell edge)
        if edges and min(abs(x + cw // 2 - e) for e in edges) > 0.2 * cell_w:
            continue  # in the middle of a known cell: a written stroke
        centre = x + cw // 2
        core = _line_core(on_ink[y : y + ch, x : x + cw])
        if core is not None:  # a written stroke runs along the line, touching it: not the line
            on_ink[:, : x + core[0]] = False
            on_ink[:, x + core[1] + 1 :] = False
            centre = x + (core[0] + core[1]) // 2
        v_mask[on_ink] = 255
        cols.append(centre)
    if edges:  # known cells: thin straight stretches on a cell edge are broken cell lines
        rule_w = max(3, round(0.04 * span))
        for x, _, cw, _, comp in _components(
            _runs(mask, max(6, round(0.3 * span)), False, 2) & mask,
            lambda x, y, cw, ch: (
                cw <= rule_w and min(abs(x + cw // 2 - e) for e in edges) <= 0.12 * cell_w
            ),
        ):
            v_mask[comp & (mask > 0)] = 255
            cols.append(x + cw // 2)
    cols = sorted(set(cols))

    # slightly thicken the rules over ink, so their anti-aliased edges go too
    h_thick = np.asarray(cv2.dilate(h_mask, np.ones((3, 1), np.uint8)), np.uint8)
    v_thick = np.asarray(cv2.dilate(v_mask, np.ones((1, 3), np.uint8)), np.uint8)
    rules = (h_thick | v_thick) & mask
    ticks: list[int] = []
    if rows:
        tick_mask, ticks = _find_ticks(mask & ~rules, rows, span, cells)
        rules |= np.asarray(cv2.dilate(tick_mask, np.ones((1, 3), np.uint8)), np.uint8) & mask
    other = mask & ~rules
    reach = 5
    repair_h = _one_sided(other, reach, "up") & _one_sided(other, reach, "down")
    repair_v = _one_sided(other, reach, "left") & _one_sided(other, reach, "right")
    h_rules = h_thick & rules
    v_rules = rules & ~h_rules
    restored = (h_rules & repair_h & ~v_rules) | (v_rules & repair_v & ~h_rules)
    clean = other | restored

    # a box's sides end its top and bottom rules; a rule they run on past both ways divides the
    # box (a cell line), or is a "1" drawn straight from the top rule to the bottom one
    covered = np.asarray(h_mask.any(axis=0), bool)
    run_on = max(3, round(0.5 * span))
    margin = max(3, round(0.05 * span))
    inner = tuple(
        c
        for c in cols
        if covered[: max(0, c - margin)].sum() >= run_on and covered[c + margin :].sum() >= run_on
    )
    x_lo, x_hi = 0, w
    if 1 <= len(cols) <= 3:  # box sides or a separator after a printed currency mark
        left = [c for c in cols if c < 0.3 * w]
        right = [c for c in cols if c > 0.7 * w]
        x_lo = max(left) if left else 0
        x_hi = min(right) if right else w
    interior = (x_lo, span_lo if top is not None else 0, x_hi, bottom if bottom is not None else h)
    return Lines(clean, tuple(rows), tuple(cols), interior, tuple(ticks), struck, inner)
