"""Segment a field crop into glyph candidates, in reading order.

Two modes. Free mode (an amount box, or an account number without printed cells): rules are
removed, components found, broken strokes merged, specks dropped, and components too wide for one
digit get candidate splits that the recognizer checks with the classifier, and neighbours that
may be one glyph whose stroke broke are offered joined as well (``Segmentation.joins``). Cell
mode (an account row with known cells): every component goes to the cell holding its centre and
each non-empty cell is one glyph.

>>> import numpy as np
>>> gray = np.full((60, 200), 235, np.uint8)
>>> gray[15:45, 30:34] = 30; gray[15:45, 80:100] = 30      # two marks
>>> [s.piece.box for s in segment_field(gray).segments]
[(30, 15, 34, 45), (80, 15, 100, 45)]
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from hdr.segment.binarize import (
    TRACE_CONTRAST,
    binarize_crop,
    faint_strokes,
    gray_percentiles,
)
from hdr.segment.components import (
    Component,
    Metrics,
    is_flat,
    is_speck,
    is_stray,
    label_components,
    measure,
    merge_groups,
    stroke_width,
    union_box,
)
from hdr.segment.joined import joined_comma, joined_dot
from hdr.segment.lines import remove_lines
from hdr.segment.microprint import microprint_rows
from hdr.segment.split import apply_cuts, split_paths
from hdr.types import Box

MIN_SIDE = 4  # px: a smaller crop holds no glyph
# a box rule's remnant: within EDGE_MARGIN of the crop's width (at least EDGE_MARGIN_PX) of its
# left or right end, upright, and its mean width under HAIRLINE stroke widths and HAIRLINE_PX
EDGE_MARGIN = 0.02
EDGE_MARGIN_PX = 3
HAIRLINE = 0.5
HAIRLINE_PX = 2.0  # printed rules are one or two pixels wide at the dpi we read
SIDE_RULE_SHARE = 0.6  # of the box height: an edge hairline shorter than this may be a "1"
EDGE_STROKE = 0.2  # ... if at least this share of a digit's height
BAND_SHARE = 0.8  # ... and this share of it within the rows of the digits
MAX_SEGMENTS = 48  # more candidates than any amount or account has: the crop is not a field
EAGER_SPLIT = 1.3  # width / digit width from which a component is split before classifying
MAYBE_SPLIT = 0.9  # ... from which it is split when the classifier is unsure of it whole
# ... from which three, and four, pieces are tried too: "000" written as one chain of loops;
# zeros written fast are narrower than the digits that set the width, so "000/" joined to the
# slash of "/-" spans under three digit widths (2.4 and 3.2 before: real cheques 20 -> 21 of 38)
THREE_RUN = 2.0
WIDE_RUN = 2.6
# two neighbours may be one glyph broken apart when their union is no wider than this many digit
# widths and their ink comes within JOIN_REACH stroke widths (a pen that skipped leaves a gap
# about a stroke wide); JOIN_TOUCH when one of them is a mark or a speck (see _is_mark)
JOIN_WIDTH = 1.25
JOIN_WIDTH_H = 1.2  # ... or digit heights: a round "0" is as wide as it is tall, whatever the rest
JOIN_HEIGHT = 0.4  # (a smaller piece low on the line is a dot or a comma)
JOIN_SMALL = 0.15  # digit heights: smaller pieces are specks
JOIN_REACH = 2.5
BAR_WIDTH = 1.5  # digit heights: the widest union of a glyph and a flat stroke over it
JOIN_TOUCH = 1.25  # ... within this many stroke widths when one of them is a mark or a crumb


@dataclass(frozen=True)
class Piece:
    """Ink of one glyph candidate: ``mask`` (uint8, 255 = ink) covers exactly ``box``."""

    box: Box
    mask: np.ndarray
    split: bool = False
    cell: int | None = None  # set on the pieces of a cut across a cell line


@dataclass(frozen=True)
class Segment:
    """One place in the reading order: the glyph as found, and how it might be cut."""

    piece: Piece
    options: tuple[tuple[Piece, ...], ...] = ()  # candidate splits, two to four pieces each
    eager: bool = False  # options are worth classifying at once (clearly too wide)
    merged: bool = False  # the glyph was put together from broken strokes
    cell: int | None = None
    whole_ok: bool = True  # False: the uncut piece spans two written cells, never one glyph


@dataclass(frozen=True)
class Segmentation:
    segments: tuple[Segment, ...]
    metrics: Metrics
    flags: tuple[str, ...]
    ink: np.ndarray  # the cleaned ink mask (for debug images)
    cells: tuple[Box, ...] = ()  # the cells used (given, or found from the vertical rules)
    # free mode: joins[i] is segments i and i + 1 read as one glyph, where they may be the
    # pieces of one glyph whose stroke broke (None where not)
    joins: tuple[Piece | None, ...] = ()
    # free mode: dot-sized blobs on the baseline between the glyphs that were dropped as noise
    # (a decimal point among them changes the value: see hdr.recognize.lost_mark_matters)
    lost_marks: tuple[Box, ...] = ()
    # free mode: dot-sized blobs on the baseline joined to the end of a glyph's piece, a
    # decimal point written against a digit (hdr.segment.joined)
    joined_marks: tuple[Box, ...] = ()


def _piece(labels: np.ndarray, group: Sequence[Component], split: bool = False) -> Piece:
    box = union_box(group)
    window = labels[box[1] : box[3], box[0] : box[2]]
    ids = [c.label for c in group]
    mask = np.isin(window, ids).astype(np.uint8) * 255
    return Piece(box, mask, split)


def _ink_distance(a: Piece, b: Piece) -> float:
    """Shortest distance in pixels between the ink of two pieces."""
    x0, y0 = min(a.box[0], b.box[0]), min(a.box[1], b.box[1])
    x1, y1 = max(a.box[2], b.box[2]), max(a.box[3], b.box[3])
    free = np.full((y1 - y0, x1 - x0), 255, np.uint8)
    ax0, ay0, ax1, ay1 = a.box
    free[ay0 - y0 : ay1 - y0, ax0 - x0 : ax1 - x0][a.mask > 0] = 0
    dist = cv2.distanceTransform(free, cv2.DIST_L2, 3)
    bx0, by0, bx1, by1 = b.box
    near = dist[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0][b.mask > 0]
    return float(near.min()) if near.size else float("inf")


def join_pieces(a: Piece, b: Piece) -> Piece:
    """One piece holding the ink of both (the brighter of the two where they overlap)."""
    box = (
        min(a.box[0], b.box[0]),
        min(a.box[1], b.box[1]),
        max(a.box[2], b.box[2]),
        max(a.box[3], b.box[3]),
    )
    mask = np.zeros((box[3] - box[1], box[2] - box[0]), np.uint8)
    for p in (a, b):
        window = mask[p.box[1] - box[1] : p.box[3] - box[1], p.box[0] - box[0] : p.box[2] - box[0]]
        np.maximum(window, p.mask, out=window)
    return Piece(box, mask)


def _is_mark(box: Box, metrics: Metrics) -> bool:
    """A dot or comma on the baseline (or a speck anywhere): never half of a broken digit."""
    rel_h, rel_w, cy = metrics.relative(box)
    return max(rel_h, rel_w) < JOIN_SMALL or (cy > 0.7 and rel_h < JOIN_HEIGHT and rel_w < 0.35)


def _joins(segments: Sequence[Segment], metrics: Metrics) -> tuple[Piece | None, ...]:
    """For each pair of neighbours, the two as one glyph where they may be one broken glyph.

    A pen that skips leaves a glyph in pieces that the stacking rule of
    :func:`~hdr.segment.components.merge_groups` does not join when they lie side by side: the
    two halves of an ``0``, the loop and the stem of a ``9``. Alone each reads as a digit (a
    ``(`` is a fine ``1``), so the recognizer weighs both readings.
    """
    out: list[Piece | None] = []
    dh, dw = metrics.digit_height, metrics.digit_width
    for left, right in itertools.pairwise(segments):
        a, b = left.piece, right.piece
        width = max(a.box[2], b.box[2]) - min(a.box[0], b.box[0])
        height = max(a.box[3], b.box[3]) - min(a.box[1], b.box[1])
        # the bar of a "5" or a "7" drawn apart may stick out further than a digit is wide
        overlap = min(a.box[2], b.box[2]) > max(a.box[0], b.box[0])
        bar = overlap and (is_flat(a.box, metrics) or is_flat(b.box, metrics))
        widest = max(JOIN_WIDTH * dw, JOIN_WIDTH_H * dh, BAR_WIDTH * dh if bar else 0.0)
        plausible = not left.eager and not right.eager and width <= widest and height <= 1.6 * dh
        if not plausible:
            out.append(None)
            continue
        dist = _ink_distance(a, b)
        # a crumb or dot joins only a glyph it almost touches (and the recognizer keeps a dot
        # that reads as a decimal point or a comma apart all the same)
        marks = _is_mark(a.box, metrics) or _is_mark(b.box, metrics)
        close = dist <= (JOIN_TOUCH if marks else JOIN_REACH) * max(1.0, metrics.stroke_width)
        out.append(join_pieces(a, b) if close else None)
    return tuple(out)


def ink_level(gray: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """How dark each pixel is between the paper (0) and the typical ink (255).

    Glyphs keep their soft edges this way, as in the handwriting the classifier was trained on.
    """
    img = np.asarray(gray)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    img = np.clip(img, 0, 255).astype(np.uint8)
    (paper,) = gray_percentiles(img, [90])
    (dark,) = gray_percentiles(img[ink > 0], [10]) if (ink > 0).any() else (0.0,)
    scale = max(paper - dark, 1.0)
    level = (paper - img.astype(np.float32)) / scale * 255.0
    return np.clip(level, 0, 255).astype(np.uint8)


def _shade(piece: Piece, level: np.ndarray) -> Piece:
    """The piece with its ink intensities (mask grown by a pixel, so edges stay soft)."""
    x0, y0, x1, y1 = piece.box
    grown = cv2.dilate(piece.mask, np.ones((3, 3), np.uint8))
    shaded = np.where(grown > 0, level[y0:y1, x0:x1], 0).astype(np.uint8)
    shaded = np.maximum(shaded, (piece.mask > 0).astype(np.uint8) * 128)
    return Piece(piece.box, shaded, piece.split, piece.cell)


def _shaded(seg: Segment, level: np.ndarray) -> Segment:
    return Segment(
        _shade(seg.piece, level),
        tuple(tuple(_shade(p, level) for p in option) for option in seg.options),
        seg.eager,
        seg.merged,
        seg.cell,
        seg.whole_ok,
    )


def _split_options(piece: Piece, metrics: Metrics) -> tuple[tuple[Piece, ...], ...]:
    x0, y0 = piece.box[0], piece.box[1]
    width = piece.box[2] - piece.box[0]
    ratio = width / max(1.0, metrics.digit_width)
    counts = [2] if ratio < THREE_RUN else [3, 2] if ratio < WIDE_RUN else [4, 3, 2]
    options: list[tuple[Piece, ...]] = []
    for count in counts:
        for paths in split_paths(piece.mask, count):
            parts = apply_cuts(piece.mask, paths)
            if len(parts) != count:
                continue
            if any(p.shape[0] < 0.3 * metrics.digit_height for p, _, _ in parts):
                continue  # a sliver: not a digit of its own
            options.append(
                tuple(
                    Piece((x0 + dx, y0 + dy, x0 + dx + p.shape[1], y0 + dy + p.shape[0]), p, True)
                    for p, dx, dy in parts
                )
            )
    return tuple(options)


def _cells_from_rules(cols: Sequence[int], interior: Box) -> tuple[Box, ...]:
    """Cells between consecutive vertical rules of a row (at least four cells)."""
    span = interior[3] - interior[1]
    spans = [(a, b) for a, b in itertools.pairwise(cols) if b - a >= 0.3 * span]
    if len(spans) < 3:
        return ()
    step = float(np.median([b - a for a, b in spans]))
    cells: list[Box] = []
    for a, b in spans:  # a separator hidden under a digit: split the double cell evenly
        parts = max(1, round((b - a) / step)) if b - a >= 1.7 * step else 1
        for k in range(parts):
            x0 = round(a + (b - a) * k / parts)
            x1 = round(a + (b - a) * (k + 1) / parts)
            cells.append((x0, interior[1], x1, interior[3]))
    return tuple(cells) if len(cells) >= 4 else ()


def _register_cells(cells: Sequence[Box], separators: Sequence[int]) -> tuple[Box, ...]:
    """The given cells, shifted onto the cell lines actually printed when they are off by more
    than a little (a cell row located from the template alone can be half a cell out)."""
    if not cells or len(separators) < 3:
        return tuple(cells)
    widths = [c[2] - c[0] for c in cells]
    width = float(np.median(widths))
    if any(abs(w - width) > 0.3 * width for w in widths):
        rebuilt = _cells_between(cells, separators)  # cells of unequal widths: a wrong guess
        if rebuilt:
            return rebuilt
    shifts = []
    for edge in sorted({e for c in cells for e in (c[0], c[2])}):
        nearest = min(separators, key=lambda x: abs(x - edge))
        if abs(nearest - edge) <= 0.5 * width:
            shifts.append(nearest - edge)
    if len(shifts) < 3:
        return tuple(cells)
    dx = round(float(np.median(shifts)))
    if abs(dx) <= 0.15 * width:
        return tuple(cells)
    return tuple((c[0] + dx, c[1], c[2] + dx, c[3]) for c in cells)


def _cells_between(cells: Sequence[Box], separators: Sequence[int]) -> tuple[Box, ...]:
    """Cells rebuilt from the printed separators, over the span of the given row."""
    y0, y1 = min(c[1] for c in cells), max(c[3] for c in cells)
    x0, x1 = min(c[0] for c in cells), max(c[2] for c in cells)
    found = list(_cells_from_rules(separators, (x0, y0, x1, y1)))
    if len(found) < 4:
        return ()
    step = float(np.median([c[2] - c[0] for c in found]))
    while found[0][0] - step >= x0 - 0.3 * step:
        found.insert(0, (round(found[0][0] - step), y0, found[0][0], y1))
    while found[-1][2] + step <= x1 + 0.3 * step:
        found.append((found[-1][2], y0, round(found[-1][2] + step), y1))
    return tuple(found)


def _in_interior(comp: Component, interior: Box) -> bool:
    return interior[0] <= comp.cx <= interior[2] and interior[1] <= comp.cy <= interior[3]


def _written_beside(
    comps: Sequence[Component], inside: Sequence[Component], sw: float
) -> list[Component]:
    """Characters written just past a side of the box: outside it, as tall as the digits
    inside, on their line and next to them (``11475`` begun left of the box). Printed marks
    beside the box are left out of the crop already (:mod:`hdr.fields.locate`)."""
    if not inside:
        return []
    metrics = measure([c.box for c in inside], sw)
    dh = max(1.0, metrics.digit_height)
    lo, hi = min(c.box[0] for c in inside), max(c.box[2] for c in inside)
    found = []
    for comp in comps:
        if comp in inside or comp.height < 0.6 * dh or comp.width > 1.2 * dh:
            continue
        gap = lo - comp.box[2] if comp.cx < lo else comp.box[0] - hi
        if gap <= 0.6 * dh and metrics.top - 0.3 * dh <= comp.cy <= metrics.base + 0.3 * dh:
            found.append(comp)
    return found


FAINT_REACH = 1.5  # digit heights beside the writing where a faint glyph may be one of its own
FAINT_INK = 0.1  # share of a glyph's ink that faint crumbs must hold to be a glyph, not grain


def _faint_glyphs(faint: np.ndarray, comps: Sequence[Component], sw: float) -> np.ndarray | None:
    """Faint pieces the size of a glyph, on the line of the writing (None when there is none).

    Long or huge faint shapes (security backgrounds, guilloche) and small ones (paper texture)
    are left out, and so are those more than :data:`FAINT_REACH` digit heights beside the
    writing (a smudge or the paper's grain by the box's far end, away from any digit: a pen
    running dry fades within the amount, next to the digits it wrote), and crumbs that hold
    less than :data:`FAINT_INK` of a glyph's ink (a few specks of the paper's grain, which the
    dilation joins into a glyph-sized cluster).
    """
    if not comps:
        return None
    metrics = measure([c.box for c in comps], sw)
    if not faint.any():
        return None
    dh = max(1.0, metrics.digit_height)
    written = [c.box for c in comps if c.box[3] - c.box[1] >= 0.5 * dh]
    lo = min((b[0] for b in written), default=0) - FAINT_REACH * dh
    hi = max((b[2] for b in written), default=faint.shape[1]) + FAINT_REACH * dh
    # a faint stroke breaks into crumbs: judge the crumbs that lie close together as one
    size = max(3, round(0.15 * metrics.digit_height)) | 1
    joined = cv2.dilate(faint, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    labels, found = label_components(joined)
    keep = []
    grow = size // 2
    enough = FAINT_INK * 3.0 * dh * max(1.0, sw)  # a glyph's ink: about 3 digit heights of stroke
    for comp in found:
        x0, y0, x1, y1 = comp.box
        rel_h, rel_w, cy = metrics.relative((x0 + grow, y0 + grow, x1 - grow, y1 - grow))
        beside = x1 - grow >= lo and x0 + grow <= hi
        if 0.5 <= rel_h <= 1.4 and rel_w <= 1.2 and -0.2 <= cy <= 1.2 and beside:
            ink = np.count_nonzero(faint[y0:y1, x0:x1][labels[y0:y1, x0:x1] == comp.label])
            if ink >= enough:
                keep.append(comp.label)
    if not keep:
        return None
    return ((np.isin(labels, keep) & (faint > 0)) * 255).astype(np.uint8)


def _edge_hairline(comp: Component, width: int, sw: float) -> bool:
    """A thin upright line at the left or right end of the crop: a piece of the box's side
    rule that line removal left, far thinner than the pen (its mean width, not its box, since
    a rule may lean a little) and than :data:`HAIRLINE_PX`: the part of a pen's ``1`` that
    the crop cut off is as thin as that only when the pen is."""
    margin = max(EDGE_MARGIN_PX, EDGE_MARGIN * width)
    at_edge = comp.box[0] <= margin or comp.box[2] >= width - margin
    mean_width = comp.area / max(1, comp.height)
    thin = mean_width <= min(HAIRLINE * max(sw, 2.0), HAIRLINE_PX)
    return at_edge and comp.height >= 3 * comp.width and thin


def _stroke_at_edge(
    hairlines: Sequence[Component], kept: Sequence[Component], metrics: Metrics, span: int
) -> bool:
    """Whether a hairline left out at the crop's edge (:func:`_edge_hairline`) may be what is
    left of a ``1`` written on the box's side rule or past it (``1365.99`` read ``365.99``):
    far shorter than the box is tall, at least a fifth of a digit high, and lying within the
    rows of the digits. What line removal leaves of the side rule itself is as often in the
    box's corners, above or below the writing, and is left alone (on the tuning sets, a rule
    without the band test flagged 7.5 % of the amounts read right)."""
    tall = [c for c in kept if c.height >= 0.6 * metrics.digit_height]
    if not hairlines or not tall:
        return False
    lo, hi = min(c.box[1] for c in tall), max(c.box[3] for c in tall)
    for c in hairlines:
        inside = max(0, min(c.box[3], hi) - max(c.box[1], lo)) / max(1, c.height)
        short = c.height < SIDE_RULE_SHARE * span
        if short and c.height >= EDGE_STROKE * metrics.digit_height and inside >= BAND_SHARE:
            return True
    return False


def _lost_marks(
    every: Sequence[Component], kept: Sequence[Component], metrics: Metrics
) -> list[Box]:
    """The dot-sized blobs on the baseline, between the glyphs, dropped as noise. One may have
    been a decimal point, and without it the value is a hundred times larger: the recognizer
    flags ``mark_dropped`` where a decimal mark there would give another value."""
    tall = [c for c in kept if c.height >= 0.5 * metrics.digit_height]
    if len(tall) < 2:
        return []
    lo, hi = min(c.cx for c in tall), max(c.cx for c in tall)
    ids = {c.label for c in kept}
    found: list[Box] = []
    for comp in every:
        if comp.label in ids or not lo < comp.cx < hi:
            continue
        _, _, cy = metrics.relative(comp.box)
        big_enough = max(comp.width, comp.height) >= max(2.0, 0.4 * metrics.stroke_width)
        inside = any(
            k.box[0] <= comp.cx <= k.box[2] and k.box[1] <= comp.cy <= k.box[3] for k in kept
        )
        if cy > 0.7 and big_enough and not inside:
            found.append(comp.box)
    return found


def segment_field(
    gray: np.ndarray, cells: Sequence[Box] = (), *, split: bool = True
) -> Segmentation:
    """Glyph candidates of one field crop (gray, dark ink on light paper), left to right.

    ``cells`` are the boxes of printed cells relative to the crop (one glyph per cell); without
    them, a row of at least four ruled cells is recognised from its vertical rules.
    """
    ink = binarize_crop(gray)
    if min(ink.shape[:2], default=0) < MIN_SIDE:  # OpenCV's labelling crashes on empty images
        return Segmentation((), Metrics(1.0, 1.0, 1.0, 0.0, 1.0), ("crop_too_small",), ink)
    lines = remove_lines(ink, cells)
    flags: list[str] = ["struck_through"] if lines.struck else []
    separators = sorted({*lines.cols, *lines.ticks})
    cell_boxes = _register_cells(cells, separators) or _cells_from_rules(separators, lines.interior)
    clean = lines.ink
    labels, comps = label_components(clean)
    sw = stroke_width(clean)
    raw = Metrics(1.0, 1.0, sw, 0.0, 1.0)
    faint = faint_strokes(gray, ink)
    faint_glyphs = _faint_glyphs(faint, [c for c in comps if not is_speck(c, raw)], sw)
    if faint_glyphs is not None:  # a pen running dry: its strokes join the ink; a person checks
        flags.append("faint_ink")
        clean = clean | faint_glyphs
        labels, comps = label_components(clean)
    elif _faint_glyphs(faint_strokes(gray, ink, TRACE_CONTRAST), comps, sw) is not None:
        flags.append("faint_ink")  # a glyph too faint to read may be there: a person looks
    printed = {c.label for c in microprint_rows(comps, ink.shape[:2])}
    if printed:  # a box border drawn as micro-text: part of the form, not of the writing
        flags.append("microprint_ignored")
        comps = [c for c in comps if c.label not in printed]
    all_comps = comps
    comps = [c for c in comps if not is_speck(c, raw)]
    rules = [c for c in comps if _edge_hairline(c, ink.shape[1], sw)]
    if rules:  # what is left of the box's side rules: a "1" to the classifier
        flags.append("noise_ignored")
        comps = [c for c in comps if c not in rules]
    span = lines.interior[3] - lines.interior[1]  # the box's height (the crop's, without one)
    if not cell_boxes and lines.inner_cols:
        # an upright rule inside the box, by the writing: a "1" drawn from the top rule to the
        # bottom one goes with the rules ("21" read "2"); a person checks
        reach = 0.5 * span
        if any(c.box[0] - reach <= x <= c.box[2] + reach for c in comps for x in lines.inner_cols):
            flags.append("rule_in_writing")
    if not cell_boxes and lines.interior != (0, 0, ink.shape[1], ink.shape[0]):
        inside = [c for c in comps if _in_interior(c, lines.interior)]
        beside = _written_beside(comps, inside, sw)
        if beside:  # read, but a person checks: the writer went past the box
            flags.append("writing_outside_box")
            inside = [c for c in comps if c in inside or c in beside]
        if len(inside) < len(comps):
            flags.append("outside_box_ignored")
        comps = inside
    if cell_boxes:
        from hdr.segment.cells import segment_cells

        found = segment_cells(labels, comps, cell_boxes, sw, clean, flags)
        level = ink_level(gray, ink)
        return replace(found, segments=tuple(_shaded(seg, level) for seg in found.segments))
    metrics = measure([c.box for c in comps], sw)
    kept = [c for c in comps if not is_stray(c, metrics)]
    metrics = measure([c.box for c in kept], sw)
    if _stroke_at_edge(rules, kept, metrics, span):
        flags.append("stroke_at_edge")
    # faint blobs too: a dot of a pen running dry is lighter than the digits around it
    faint_blobs = [replace(c, label=-c.label) for c in label_components(faint)[1]]
    lost = _lost_marks([*all_comps, *faint_blobs], kept, metrics)
    if len(kept) > 4 * MAX_SEGMENTS:  # noise or a picture, not a field: keep it cheap
        flags.append("too_many_glyphs")
        kept = sorted(kept, key=lambda c: -c.area)[: 4 * MAX_SEGMENTS]
    groups = merge_groups(kept, metrics)
    if len(groups) > MAX_SEGMENTS:
        flags.append("too_many_glyphs")
        groups = sorted(groups, key=lambda g: -sum(c.area for c in g))[:MAX_SEGMENTS]
    segments: list[Segment] = []
    for group in groups:
        piece = _piece(labels, group)
        seg = Segment(piece, merged=len(group) > 1)
        width = piece.box[2] - piece.box[0]
        tall = piece.box[3] - piece.box[1] >= 0.55 * metrics.digit_height
        if split and tall and not is_flat(piece.box, metrics):
            ratio = width / max(1.0, metrics.digit_width)
            if ratio >= MAYBE_SPLIT:
                options = _split_options(piece, metrics)
                if options:
                    seg = Segment(piece, options, ratio >= EAGER_SPLIT, seg.merged)
        segments.append(seg)
    segments.sort(key=lambda s: (s.piece.box[0] + s.piece.box[2]) / 2.0)
    level = ink_level(gray, ink)
    shaded = tuple(_shaded(seg, level) for seg in segments)
    flags_once = tuple(dict.fromkeys(flags))
    boxes = [seg.piece.box for seg in shaded]
    joined = (
        joined_dot(seg.piece.mask, seg.piece.box, metrics)
        or joined_comma(seg.piece.mask, seg.piece.box, metrics, boxes)
        for seg in shaded
    )
    return Segmentation(
        shaded,
        metrics,
        flags_once,
        clean,
        joins=_joins(shaded, metrics),
        lost_marks=tuple(lost),
        joined_marks=tuple(box for box in joined if box is not None),
    )
