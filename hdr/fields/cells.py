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

import math

import cv2
import numpy as np

from hdr.fields.evaluate import box_iou
from hdr.fields.lines import CellRow, Rule, join_collinear
from hdr.types import Box

MIN_CELLS = 6  # shorter "rows" are too often a box and the strokes written in it
MAX_CELLS = 32
PITCH_TOL = 0.15  # a tick is on the lattice when within this fraction of the pitch
REFINE_ROUNDS = 2  # times the lattice is refitted to the ticks it reaches (see _fit_lattice)
MAX_RESIDUAL = 0.06  # RMS distance of the ticks from the fitted lattice, in pitches
BROKEN_GAP = 0.03  # of the page width: gaps of a broken base line that are joined
MAX_PITCH = 0.12  # of the page height: one digit per cell; wider "cells" are something else
LIGHT_SHARE = 0.1  # of the way from paper to ink: dark enough for a light grey separator
MAX_BUSY = 0.25  # share of a band's columns that may be partly dark around faint lines
BUSY_TICKS = 0.3  # ... partly: over this share of the band, along a comb's base line
TICK_BAND = 0.015  # of the page height: the band along a rule where comb ticks are looked for
MIN_CLEAN = 0.2  # share of an open comb's ticks that must stand alone (see _clean_share)
MAX_COMB_TICK = 0.8  # of the pitch: the longest tick of a comb without a top line
CELL_ASPECT = 1.4  # height / width of a comb cell, whose top is not printed


def _ticks_on(base: Rule, v_rules: list[Rule], tol: int) -> tuple[list[float], list[int]]:
    """x positions of vertical strokes that end on ``base``, and their lengths."""
    xs: list[float] = []
    lengths: list[int] = []
    for v in v_rules:
        if not base.start - tol <= v.pos <= base.end + tol:
            continue
        if v.thickness > 1.6 * base.thickness + 1.5:  # printed with another pen: bold text
            continue
        if abs(v.end - base.pos) <= tol or abs(v.start - base.pos) <= tol:
            xs.append(float(v.pos))
            lengths.append(v.length)
    order = np.argsort(xs)
    return [xs[i] for i in order], [lengths[i] for i in order]


def _printed_like(lengths: np.ndarray) -> bool:
    """Printed ticks or separators share one length; handwriting strokes do not."""
    med = float(np.partition(lengths, len(lengths) // 2)[len(lengths) // 2])
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
            if len(set(ks.tolist())) < MIN_CELLS:
                continue
            # refine pitch and origin by least squares over the inliers, and take the ticks the
            # refined lattice reaches: a candidate pitch is a whole-pixel gap, and 1 px a cell
            # off puts the far ticks of a long row off the lattice
            a, b = np.polyfit(ks, arr[on], 1)
            for _ in range(REFINE_ROUNDS):
                if not a > 4:  # a degenerate fit: keep the candidate pitch's inliers
                    break
                k_fit = np.round((arr - b) / a)
                on_fit = np.abs(arr - (a * k_fit + b)) <= PITCH_TOL * a
                if on_fit.sum() <= on.sum():
                    break
                on, ks = on_fit, k_fit[on_fit]
                a, b = np.polyfit(ks, arr[on], 1)
            span = int(ks.max() - ks.min())
            distinct = len(set(ks.tolist()))
            if not MIN_CELLS <= span <= MAX_CELLS or distinct < max(MIN_CELLS, 0.6 * (span + 1)):
                continue
            # printed ticks sit on the lattice within a small fraction of the pitch,
            # handwritten strokes do not
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


def _clean_share(
    ink: np.ndarray, base: Rule, xs: list[float], tick: float, pitch: float, hanging: bool
) -> float:
    """Share of the ticks at ``xs`` with paper close beside them on both sides.

    A printed tick stands alone (the digits sit in the middle of their cells); the vertical
    strokes of letters written on a line have other strokes of their letter next to them.
    """
    h, w = ink.shape[:2]
    reach = max(2, round(0.8 * tick))
    gap, side = base.thickness + 2, max(2, round(0.15 * pitch))
    y0, y1 = (base.pos + gap, base.pos + reach) if hanging else (base.pos - reach, base.pos - gap)
    y0, y1 = max(0, y0), min(h, y1)
    if y1 <= y0 or not xs:
        return 0.0
    clean = 0
    for x in xs:
        xi = round(x)
        left = ink[y0:y1, max(0, xi - 3 - side) : max(0, xi - 3)]
        right = ink[y0:y1, min(w, xi + 4) : min(w, xi + 4 + side)]
        if all(p.size == 0 or np.count_nonzero(p) <= 0.08 * p.size for p in (left, right)):
            clean += 1
    return clean / len(xs)


def lattice_row(
    base: Rule,
    v_rules: list[Rule],
    h_rules: list[Rule],
    page_height: int,
    ink: np.ndarray | None = None,
) -> CellRow | None:
    """The cell row whose ticks stand on (or hang from) ``base``, or None.

    With the page's ``ink``, an open comb's ticks must stand alone like printed ones (see
    _clean_share): letters written on a line are as regular as a comb, and as short.
    """
    tol = max(3, round(0.004 * page_height))  # a tick touches its line
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
        # an open comb's ticks are short; strokes as long as the cells are wide are letters
        # written on a line
        if tick > MAX_COMB_TICK * pitch:
            return None
        if ink is not None:
            on = [x for x in xs if abs((x - x0) / pitch - round((x - x0) / pitch)) <= PITCH_TOL]
            if _clean_share(ink, base, on, tick, pitch, hanging) < MIN_CLEAN:
                return None
        height = round(max(CELL_ASPECT * pitch, 1.2 * tick))
        other = base.pos + height if hanging else base.pos - height
    elif tick < 0.6 * abs(other - base.pos):
        return None  # a boxed row's separators run from one rule to the other
    top, bottom = min(base.pos, other), max(base.pos, other)
    cells: list[Box] = [
        (round(x0 + i * pitch), int(top), round(x0 + (i + 1) * pitch), int(bottom))
        for i in range(n)
    ]
    return CellRow(tuple(cells))


def _overlap_share(a: Box, b: Box) -> float:
    """Intersection over the smaller box."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / small if small > 0 else 0.0


def _dark_columns(
    gray: np.ndarray,
    x0: int,
    x1: int,
    y0: int,
    y1: int,
    rules: tuple[Rule, ...],
    busy_level: float,
    share: float = 0.25,
) -> list[tuple[int, int]]:
    """(x, width) of thin vertical lines that darken every row of the band x0..x1, y0..y1.

    Dark is ``share`` (by default a quarter) of the way from paper to the darkest ink, or, when
    the ``rules`` the lines belong to are faint (separators and ticks are printed like them,
    and thinner), halfway to the rules' grey. A band where more than MAX_BUSY of the columns are
    dark over ``busy_level`` of their height is a pattern, not paper with lines: nothing is found.
    """
    h, w = gray.shape[:2]
    x0, x1, y0, y1 = max(0, x0), min(w, x1), max(0, y0), min(h, y1)
    if x1 - x0 < 20 or y1 - y0 < 4:
        return []
    band = gray[y0:y1, x0:x1]
    sample = band[::2, ::2].ravel()
    k, k2 = len(sample) // 2, len(sample) // 50
    # order statistics of 8-bit values from their histogram (as np.partition would give them)
    cumulative = np.cumsum(np.bincount(sample, minlength=256))
    paper = float(np.searchsorted(cumulative, k, side="right"))  # the median: paper
    lines = [gray[max(0, r.pos - 1) : r.pos + 2, x0:x1].min(axis=0) for r in rules]
    rule_grey = float(np.median(np.concatenate(lines)))
    ink_grey = float(np.searchsorted(cumulative, k2, side="right"))  # 2nd percentile
    level = paper - max(8.0, min(0.5 * (paper - rule_grey), share * (paper - ink_grey)))
    # a gray level under ``level`` is under its ceiling: 1 where dark, counted per column
    ceiling = min(255, max(0, math.ceil(level)))
    dark = cv2.threshold(band, ceiling - 1, 1, cv2.THRESH_BINARY_INV)[1]
    rows = dark.shape[0]
    cover = cv2.reduce(dark, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S)[0] / rows
    if float(np.mean(cover >= busy_level)) > MAX_BUSY:
        return []
    # a thin line is dark in one of two or three neighbouring columns at each row (it leans
    # by a pixel, or its grey is shared between two columns): count a row dark there when
    # any of them is
    near = cv2.dilate(dark, np.ones((1, 3), np.uint8))
    cover = cv2.reduce(near, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S)[0] / rows
    xs = np.flatnonzero(cover >= 0.85)
    if xs.size == 0:
        return []
    out = []
    for run in np.split(xs, np.flatnonzero(np.diff(xs) > 1) + 1):
        if run.size <= max(3, 0.02 * (x1 - x0)):  # a thin line, not a dark blob
            out.append((x0 + round(float(run.mean())), int(run.size)))
    return out


def _faint_separators(gray: np.ndarray, top: Rule, bottom: Rule) -> list[Rule]:
    """Vertical lines crossing the whole band between two rules, found on the gray page.

    Light separators often vanish from the ink mask (a thin grey line binarises as dashes or
    not at all) but still darken every row of their column; a digit's stroke rarely spans the
    full height of its cell.
    """
    x0, x1 = max(top.start, bottom.start), min(top.end, bottom.end)
    margin = max(top.thickness, bottom.thickness) + 2
    # (digits fill the band between separators: only columns dark almost throughout are busy)
    y0, y1 = top.pos + margin, bottom.pos - margin
    cols = _dark_columns(gray, x0, x1, y0, y1, (top, bottom), 0.7)
    if len(cols) < MIN_CELLS:  # separators printed lighter than the box: look again, lighter
        cols = _dark_columns(gray, x0, x1, y0, y1, (top, bottom), 0.7, LIGHT_SHARE)
    return [Rule(False, top.pos, bottom.pos, x, min(n, bottom.thickness)) for x, n in cols]


def _faint_ticks(gray: np.ndarray, base: Rule, height: int) -> list[Rule]:
    """Short ticks standing on (or hanging from) ``base``: the columns that darken a thin
    band along it, on the side where they are most."""
    reach = max(4, round(TICK_BAND * height))
    margin = base.thickness + 1
    x0, x1, y = base.start, base.end, base.pos
    up = _dark_columns(gray, x0, x1, y - reach, y - margin, (base,), BUSY_TICKS)
    down = _dark_columns(gray, x0, x1, y + margin, y + reach, (base,), BUSY_TICKS)
    if len(up) >= len(down):
        return [Rule(False, base.pos - reach, base.pos, x, base.thickness) for x, _ in up]
    return [Rule(False, base.pos, base.pos + reach, x, base.thickness) for x, _ in down]


def _boxed_bands(h_rules: list[Rule], width: int, height: int) -> list[tuple[Rule, Rule]]:
    """Pairs of rules that could be the top and bottom of one row of cells.

    One side may be broken into pieces (digits touching it, a faint scan): pieces on one line
    that cover 70 % of the other side's extent, and stay within it, stand for a whole side.
    (The rules' positions and extents are compared as arrays: a page holds hundreds of rule
    pieces, and every reference rule is weighed against every other line.)
    """
    tol = 0.02 * width
    pairs: list[tuple[Rule, Rule]] = []
    pos = np.array([r.pos for r in h_rules], np.int64)
    start = np.array([r.start for r in h_rules], np.int64)
    end = np.array([r.end for r in h_rules], np.int64)
    thick = np.array([r.thickness for r in h_rules], np.int64)
    seen: set[tuple[int, int, int]] = set()
    for ref in h_rules:
        if ref.length < 0.05 * width:
            continue
        gap = np.abs(pos - ref.pos)
        inside = (start >= ref.start - tol) & (end <= ref.end + tol)
        # the same set, built in the same order, as the loop over rules made it (its
        # iteration order decides which of two equal pairs comes first)
        for other_pos in {int(p) for p in pos[(gap >= 0.02 * height) & (gap <= 0.25 * height)]}:
            on_line = inside & (np.abs(pos - other_pos) <= 2)
            if not on_line.any():
                continue
            lo, hi = start[on_line], end[on_line]
            covered = int((np.minimum(hi, ref.end) - np.maximum(lo, ref.start)).sum())
            if covered < 0.7 * ref.length:
                continue
            if int(lo.min()) > ref.start + tol or int(hi.max()) < ref.end - tol:
                continue
            other = Rule(True, ref.start, ref.end, other_pos, int(thick[on_line].max()))
            pair = (ref, other) if other_pos > ref.pos else (other, ref)
            key = (pair[0].pos, pair[1].pos, pair[0].start)
            if key not in seen:
                seen.add(key)
                pairs.append(pair)
    return pairs


def _tick_lines(v_rules: list[Rule], h_rules: list[Rule], height: int) -> list[Rule]:
    """Lines through the feet of many ticks that end at one height, where pieces of a rule
    cover at least a third of it (a comb whose base line the scan broke up)."""
    tol = max(3, round(0.004 * height))
    lines: list[Rule] = []
    for feet in ([v.end for v in v_rules], [v.start for v in v_rules]):
        order = np.argsort(feet)
        group: list[int] = []
        for i in [*order.tolist(), -1]:
            if i >= 0 and (not group or feet[i] - feet[group[0]] <= tol):
                group.append(i)
                continue
            if len(group) > MIN_CELLS:
                y = round(float(np.median([feet[j] for j in group])))
                x0 = min(v_rules[j].pos for j in group)
                x1 = max(v_rules[j].pos for j in group)
                pieces = [r for r in h_rules if abs(r.pos - y) <= tol]
                covered = sum(max(0, min(r.end, x1) - max(r.start, x0)) for r in pieces)
                # the pieces must not run on past the ticks (then it is a line with
                # handwriting standing on it)
                inside = all(r.start >= x0 - 2 * tol and r.end <= x1 + 2 * tol for r in pieces)
                if x1 > x0 and inside and covered >= 0.33 * (x1 - x0):
                    lines.append(Rule(True, x0, x1, y, 1))
            group = [i] if i >= 0 else []
    return lines


def find_lattice_rows(
    h_rules: list[Rule],
    v_rules: list[Rule],
    width: int,
    height: int,
    gray: np.ndarray | None,
    ink: np.ndarray | None = None,
) -> list[CellRow]:
    """Every comb or boxed cell row standing on a horizontal rule (page px, de-duplicated).

    With the ``gray`` page, boxed rows whose separators are too faint for the ink mask are
    found too.
    """
    rows: list[CellRow] = []

    def add(row: CellRow | None) -> None:
        """Keep ``row`` unless a row with as many cells covers it; drop the rows it covers."""
        if row is None:
            return
        covered = [r for r in rows if _overlap_share(row.box, r.box) > 0.5]
        if any(r.count >= row.count for r in covered):
            return
        rows[:] = [r for r in rows if r not in covered] + [row]

    # a comb's base line scanned bitonal breaks into dashes: its pieces joined, or the line
    # through the feet of a run of ticks over such pieces, are bases too
    joined = join_collinear(h_rules, round(BROKEN_GAP * width))
    printed = set(h_rules)
    bases = h_rules + [r for r in joined if r not in printed]
    bases += _tick_lines(v_rules, h_rules, height)
    for base in bases:
        if base.length >= 0.05 * width:
            row = lattice_row(base, v_rules, bases, height, ink)
            real = base in printed  # not pieces joined: faint ticks need a printed line
            if row is None and real and gray is not None and base.length >= 0.1 * width:
                ticks = _faint_ticks(gray, base, height)  # a comb printed too light for the ink
                if len(ticks) > MIN_CELLS:
                    row = lattice_row(base, ticks, bases, height)
            add(row)
    if gray is not None:
        for top, bottom in _boxed_bands(h_rules, width, height):
            band = (max(top.start, bottom.start), top.pos, min(top.end, bottom.end), bottom.pos)
            if any(_overlap_share(band, r.box) > 0.8 for r in rows):
                continue  # its separators were in the ink
            seps = _faint_separators(gray, top, bottom)
            if len(seps) >= MIN_CELLS:
                add(lattice_row(bottom, seps, [top], height))
    return rows


def merge_rows(lattice: list[CellRow], holes: list[CellRow]) -> list[CellRow]:
    """Lattice rows, plus hole rows that no lattice row covers."""
    out = list(lattice)
    for row in holes:
        if not any(box_iou(row.box, r.box) > 0.3 for r in lattice):
            out.append(row)
    return out
