"""Rows of equal cells drawn as a comb or as boxes, found as a regular lattice of ticks on a rule.

Closed cell boxes are easy (holes of the rule grid, :func:`hdr.fields.lines.group_cell_rows`),
but two common cases defeat them: combs (a base line with short ticks, no top line) and thin
separators that the scan or a digit broke. Here every horizontal rule is a candidate base (or top)
line; the vertical strokes that end on it give x positions, and the row is the lattice
``x0 + k * pitch`` that explains most of them. Missing ticks are interpolated, stray strokes
(digits ending on the line) fall off the lattice.

>>> from hdr.fields.lines import Rule
>>> base = Rule(True, 100, 500, 300, 2)
>>> ticks = [Rule(False, 280, 300, x, 2) for x in range(100, 501, 40)]
>>> row = lattice_row(base, ticks, [], 2000)
>>> row.count, row.cells[0]
(10, (100, 244, 140, 300))
"""

from __future__ import annotations

import numpy as np

from hdr.fields.lines import CellRow, Rule
from hdr.types import Box

MIN_CELLS = 4
MAX_CELLS = 32
PITCH_TOL = 0.15  # a tick is on the lattice when within this fraction of the pitch
MAX_RESIDUAL = 0.06  # RMS distance of the ticks from the fitted lattice, in pitches
MAX_PITCH = 0.12  # of the page height: one digit per cell; wider "cells" are something else
CELL_ASPECT = 1.4  # height / width of a comb cell, whose top is not printed


def _ticks_on(base: Rule, v_rules: list[Rule], tol: int) -> tuple[list[float], list[int]]:
    """x positions of vertical strokes that end on ``base``, and their lengths."""
    xs: list[float] = []
    lengths: list[int] = []
    for v in v_rules:
        if not base.start - tol <= v.pos <= base.end + tol:
            continue
        if abs(v.end - base.pos) <= tol or abs(v.start - base.pos) <= tol:
            xs.append(float(v.pos))
            lengths.append(v.length)
    order = np.argsort(xs)
    return [xs[i] for i in order], [lengths[i] for i in order]


def _printed_like(lengths: np.ndarray) -> bool:
    """Printed ticks or separators share one length; handwriting strokes do not."""
    med = float(np.median(lengths))
    return float(np.mean(np.abs(lengths - med) <= 0.25 * med)) >= 0.7


def _candidate_pitches(arr: np.ndarray) -> list[float]:
    """Gaps between neighbouring ticks, near-duplicates (within 2 %) dropped."""
    pitches: list[float] = []
    for gap in sorted(np.diff(arr)):
        if gap > 4 and (not pitches or gap > 1.02 * pitches[-1]):
            pitches.append(float(gap))
    return pitches


def _fit_lattice(xs: list[float], lengths: list[int]) -> tuple[float, float, int, float] | None:
    """(first x, pitch, cells, median tick length) of the lattice that explains most ticks."""
    if len(xs) < MIN_CELLS + 1:
        return None
    arr = np.array(xs)
    lens = np.array(lengths, dtype=np.float64)
    offsets = arr[None, :] - arr[:, None]  # row: the lattice anchored on that tick
    best: tuple[float, float, float, int, float] | None = None  # score, x0, pitch, cells, len
    tried: set[bytes] = set()
    for pitch in _candidate_pitches(arr):
        k_all = np.round(offsets / pitch)
        on_all = np.abs(offsets - k_all * pitch) <= PITCH_TOL * pitch
        for row in np.flatnonzero(on_all.sum(axis=1) >= MIN_CELLS + 1):
            on = on_all[row]
            key = on.tobytes()
            if key in tried:  # another anchor already gave these inliers
                continue
            tried.add(key)
            ks = k_all[row][on]
            span = int(ks.max() - ks.min())
            distinct = len(set(ks.tolist()))
            if not MIN_CELLS <= span <= MAX_CELLS or distinct < max(MIN_CELLS, 0.6 * (span + 1)):
                continue
            # refine pitch and origin by least squares over the inliers; printed ticks sit on
            # the lattice within a small fraction of the pitch, handwritten strokes do not
            a, b = np.polyfit(ks, arr[on], 1)
            if float(np.sqrt(np.mean((arr[on] - (a * ks + b)) ** 2))) > MAX_RESIDUAL * a:
                continue
            if not _printed_like(lens[on]):
                continue
            # every lattice point without a tick costs half a tick found: a half pitch that
            # catches digit strokes between the separators loses to the true one
            score = float(distinct) - 0.5 * (span + 1 - distinct)
            if best is None or score > best[0]:
                best = (score, float(b + a * ks.min()), float(a), span, float(np.median(lens[on])))
    if best is None:
        return None
    return best[1:]


def lattice_row(
    base: Rule, v_rules: list[Rule], h_rules: list[Rule], page_height: int
) -> CellRow | None:
    """The cell row whose ticks stand on (or hang from) ``base``, or None."""
    tol = max(3, round(0.006 * page_height))
    xs, lengths = _ticks_on(base, v_rules, tol)
    fit = _fit_lattice(xs, lengths)
    if fit is None:
        return None
    x0, pitch, n, tick = fit
    if not 0.01 * page_height <= pitch <= MAX_PITCH * page_height:
        return None
    # a border tick hidden under a digit: the rule goes on a whole cell or two past the lattice
    for _ in range(2):
        more = (x0 - base.start) / pitch
        if 0.75 <= more <= 2.25 and abs(more - round(more)) <= 0.25 and n < MAX_CELLS:
            x0 -= pitch
            n += 1
        more = (base.end - (x0 + n * pitch)) / pitch
        if 0.75 <= more <= 2.25 and abs(more - round(more)) <= 0.25 and n < MAX_CELLS:
            n += 1
    x1 = x0 + n * pitch
    # a printed row's rule ends with it; a payee line with handwriting on it runs on
    if abs(base.start - x0) > 0.6 * pitch or abs(base.end - x1) > 0.6 * pitch:
        return None
    standing = sum(1 for v in v_rules if abs(v.end - base.pos) <= tol and x0 <= v.pos <= x1)
    hanging = standing < len(xs) / 2  # the ticks hang from ``base``: it is the top line
    # the other long side: a parallel rule over the same span, a cell or so away
    other = None
    for r in h_rules:
        if r is base or abs(r.start - x0) > 0.6 * pitch or abs(r.end - x1) > 0.6 * pitch:
            continue  # the row's other side spans the same cells, not a longer rule nearby
        d = r.pos - base.pos if hanging else base.pos - r.pos
        if 0.6 * pitch <= d <= 3.0 * pitch and (other is None or d < abs(other - base.pos)):
            other = r.pos
    if other is None:
        height = round(max(CELL_ASPECT * pitch, 1.2 * tick))
        other = base.pos + height if hanging else base.pos - height
    top, bottom = min(base.pos, other), max(base.pos, other)
    cells: list[Box] = [
        (round(x0 + i * pitch), int(top), round(x0 + (i + 1) * pitch), int(bottom))
        for i in range(n)
    ]
    return CellRow(tuple(cells))


def _iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _faint_separators(gray: np.ndarray, top: Rule, bottom: Rule) -> list[Rule]:
    """Vertical lines crossing the whole band between two rules, found on the gray page.

    Light separators often vanish from the ink mask (a thin grey line binarises as dashes or
    not at all) but still darken every row of their column; a digit's stroke rarely spans the
    full height of its cell.
    """
    x0, x1 = max(top.start, bottom.start), min(top.end, bottom.end)
    margin = max(top.thickness, bottom.thickness) + 2
    y0, y1 = top.pos + margin, bottom.pos - margin
    if x1 - x0 < 20 or y1 - y0 < 6:
        return []
    band = gray[y0:y1, x0:x1].astype(np.int16)
    paper = float(np.median(band))
    # dark: a quarter of the way to the darkest ink, or, when the row's own rules are faint
    # (separators are printed like them, and thinner), halfway to the rules' grey
    lines = [gray[max(0, r.pos - 1) : r.pos + 2, x0:x1].min(axis=0) for r in (top, bottom)]
    rule_grey = float(np.median(np.concatenate(lines)))
    ink_grey = float(np.percentile(band, 2))
    dark = band < paper - max(8.0, min(0.5 * (paper - rule_grey), 0.25 * (paper - ink_grey)))
    cover = dark.mean(axis=0)
    cover = np.maximum(cover, np.maximum(np.roll(cover, 1), np.roll(cover, -1)))
    full = cover >= 0.85
    seps: list[Rule] = []
    xs = np.flatnonzero(full)
    if xs.size == 0:
        return seps
    runs = np.split(xs, np.flatnonzero(np.diff(xs) > 1) + 1)
    for run in runs:
        if run.size <= max(3, 0.02 * (x1 - x0)):  # a thin line, not a dark blob
            pos = x0 + round(float(run.mean()))
            seps.append(Rule(False, top.pos, bottom.pos, pos, int(run.size)))
    return seps


def _boxed_bands(h_rules: list[Rule], width: int, height: int) -> list[tuple[Rule, Rule]]:
    """Pairs of rules that could be the top and bottom of one row of cells."""
    pairs = []
    for top in h_rules:
        if top.length < 0.05 * width:
            continue
        for bottom in h_rules:
            d = bottom.pos - top.pos
            if not 0.02 * height <= d <= 0.25 * height:
                continue
            tol = 0.02 * width
            if abs(top.start - bottom.start) <= tol and abs(top.end - bottom.end) <= tol:
                pairs.append((top, bottom))
    return pairs


def find_lattice_rows(
    h_rules: list[Rule], v_rules: list[Rule], width: int, height: int, gray: np.ndarray | None
) -> list[CellRow]:
    """Every comb or boxed cell row standing on a horizontal rule (page px, de-duplicated).

    With the ``gray`` page, boxed rows whose separators are too faint for the ink mask are
    found too.
    """
    rows: list[CellRow] = []

    def add(row: CellRow | None) -> None:
        if row is not None and not any(_iou(row.box, r.box) > 0.5 for r in rows):
            rows.append(row)

    for base in h_rules:
        if base.length >= 0.05 * width:
            add(lattice_row(base, v_rules, h_rules, height))
    if gray is not None:
        for top, bottom in _boxed_bands(h_rules, width, height):
            seps = _faint_separators(gray, top, bottom)
            if len(seps) >= MIN_CELLS:
                add(lattice_row(bottom, seps, [top], height))
    return rows


def merge_rows(lattice: list[CellRow], holes: list[CellRow]) -> list[CellRow]:
    """Lattice rows, plus hole rows that no lattice row covers."""
    out = list(lattice)
    for row in holes:
        if not any(_iou(row.box, r.box) > 0.3 for r in lattice):
            out.append(row)
    return out
