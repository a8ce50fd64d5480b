"""Segment a field crop into glyph candidates, in reading order.

Two modes. Free mode (an amount box, or an account number without printed cells): rules are
removed, components found, broken strokes merged, specks dropped, and components too wide for one
digit get candidate splits that the recognizer checks with the classifier. Cell mode (an account
row with known cells): every component goes to the cell holding its centre and each non-empty
cell is one glyph.

>>> import numpy as np
>>> gray = np.full((60, 200), 235, np.uint8)
>>> gray[15:45, 30:34] = 30; gray[15:45, 80:100] = 30      # two marks
>>> [s.piece.box for s in segment_field(gray).segments]
[(30, 15, 34, 45), (80, 15, 100, 45)]
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hdr.segment.binarize import binarize_crop
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
from hdr.segment.lines import remove_lines
from hdr.segment.split import apply_cuts, split_paths
from hdr.types import Box

MAX_SEGMENTS = 48  # more candidates than any amount or account has: the crop is not a field
EAGER_SPLIT = 1.3  # width / digit width from which a component is split before classifying
MAYBE_SPLIT = 0.9  # ... from which it is split when the classifier is unsure of it whole


@dataclass(frozen=True)
class Piece:
    """Ink of one glyph candidate: ``mask`` (uint8, 255 = ink) covers exactly ``box``."""

    box: Box
    mask: np.ndarray
    split: bool = False


@dataclass(frozen=True)
class Segment:
    """One place in the reading order: the glyph as found, and how it might be cut."""

    piece: Piece
    options: tuple[tuple[Piece, ...], ...] = ()  # candidate splits, two or three pieces each
    eager: bool = False  # options are worth classifying at once (clearly too wide)
    merged: bool = False  # the glyph was put together from broken strokes
    cell: int | None = None


@dataclass(frozen=True)
class Segmentation:
    segments: tuple[Segment, ...]
    metrics: Metrics
    flags: tuple[str, ...]
    ink: np.ndarray  # the cleaned ink mask (for debug images)
    cells: tuple[Box, ...] = ()  # the cells used (given, or found from the vertical rules)


def _piece(labels: np.ndarray, group: Sequence[Component], split: bool = False) -> Piece:
    box = union_box(group)
    window = labels[box[1] : box[3], box[0] : box[2]]
    ids = [c.label for c in group]
    mask = np.isin(window, ids).astype(np.uint8) * 255
    return Piece(box, mask, split)


def _split_options(piece: Piece, metrics: Metrics) -> tuple[tuple[Piece, ...], ...]:
    x0, y0 = piece.box[0], piece.box[1]
    width = piece.box[2] - piece.box[0]
    ratio = width / max(1.0, metrics.digit_width)
    counts = [2] if ratio < 2.4 else [3, 2]
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
    cells = tuple(
        (a, interior[1], b, interior[3]) for a, b in itertools.pairwise(cols) if b - a >= 0.3 * span
    )
    return cells if len(cells) >= 4 else ()


def _in_interior(comp: Component, interior: Box) -> bool:
    return interior[0] <= comp.cx <= interior[2] and interior[1] <= comp.cy <= interior[3]


def segment_field(
    gray: np.ndarray, cells: Sequence[Box] = (), *, split: bool = True
) -> Segmentation:
    """Glyph candidates of one field crop (gray, dark ink on light paper), left to right.

    ``cells`` are the boxes of printed cells relative to the crop (one glyph per cell); without
    them, a row of at least four ruled cells is recognised from its vertical rules.
    """
    ink = binarize_crop(gray)
    lines = remove_lines(ink)
    flags: list[str] = []
    cell_boxes = tuple(cells) or _cells_from_rules(lines.cols, lines.interior)
    labels, comps = label_components(lines.ink)
    sw = stroke_width(lines.ink)
    raw = Metrics(1.0, 1.0, sw, 0.0, 1.0)
    comps = [c for c in comps if not is_speck(c, raw)]
    if not cell_boxes and lines.interior != (0, 0, ink.shape[1], ink.shape[0]):
        inside = [c for c in comps if _in_interior(c, lines.interior)]
        if len(inside) < len(comps):
            flags.append("outside_box_ignored")
        comps = inside
    if cell_boxes:
        return _segment_cells(labels, comps, cell_boxes, sw, lines.ink, flags)
    metrics = measure([c.box for c in comps], sw)
    kept = [c for c in comps if not is_stray(c, metrics)]
    metrics = measure([c.box for c in kept], sw)
    segments: list[Segment] = []
    for group in merge_groups(kept, metrics):
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
    if len(segments) > MAX_SEGMENTS:
        flags.append("too_many_glyphs")
        segments = sorted(segments, key=lambda s: -int(s.piece.mask.sum()))[:MAX_SEGMENTS]
        segments.sort(key=lambda s: (s.piece.box[0] + s.piece.box[2]) / 2.0)
    return Segmentation(tuple(segments), metrics, tuple(flags), lines.ink)


def _segment_cells(
    labels: np.ndarray,
    comps: Sequence[Component],
    cells: Sequence[Box],
    sw: float,
    ink: np.ndarray,
    flags: list[str],
) -> Segmentation:
    per_cell: dict[int, list[Component]] = {}
    for comp in comps:
        for i, (x0, y0, x1, y1) in enumerate(cells):
            if not (
                x0 <= comp.cx < x1 and y0 - 0.25 * (y1 - y0) <= comp.cy <= y1 + 0.25 * (y1 - y0)
            ):
                continue
            cw = x1 - x0
            near_edge = min(comp.cx - x0, x1 - comp.cx) < 0.15 * cw
            # a short tick of a comb field (or a remnant of a cell line), not a written digit
            if near_edge and comp.width <= max(3.0, 1.5 * sw) and comp.height < 0.5 * (y1 - y0):
                break
            per_cell.setdefault(i, []).append(comp)
            break
    pieces = {i: _piece(labels, group) for i, group in per_cell.items()}
    metrics = measure([p.box for p in pieces.values()], sw)
    segments = []
    for i in sorted(pieces):
        piece = pieces[i]
        rel_h = (piece.box[3] - piece.box[1]) / max(1.0, metrics.digit_height)
        rel_w = (piece.box[2] - piece.box[0]) / max(1.0, metrics.digit_height)
        if max(rel_h, rel_w) < 0.25:
            continue  # a dot of noise in an empty cell
        segments.append(Segment(piece, merged=len(per_cell[i]) > 1, cell=i))
    return Segmentation(tuple(segments), metrics, tuple(flags), ink, tuple(cells))
