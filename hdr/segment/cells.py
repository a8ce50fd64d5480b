"""Cell mode: one glyph per printed cell of an account-number row, empty cells skipped.

Every component goes to the cell holding its centre. Two digits that touch across a cell line
are one component: when it is wider than a cell and a quarter it is cut at the cell lines, and
when it spans two cells, cuts along the gap between the two digits (anywhere within nearly half a
cell of the line: a digit written over the line often reaches that far) are offered beside that
straight cut, so a digit written over the line is not sliced by it (a short part past the
line, in a cell with a glyph of its own, is read with that glyph or left out); when it is
narrower, the cut is offered as an option, and when it reaches well into a neighbour cell that
has a glyph of its own, the two cells are read together, as placed or cut. The recognizer keeps
whichever reading the classifier is surer of (a ``5`` leaning into the next cell stays whole; a
``51`` is cut).

>>> import numpy as np
>>> from hdr.segment import segment_field
>>> gray = np.full((50, 120), 235, np.uint8)
>>> gray[10:40, 15:18] = 30; gray[10:40, 95:98] = 30
>>> cells = ((0, 0, 40, 50), (40, 0, 80, 50), (80, 0, 120, 50))
>>> [s.cell for s in segment_field(gray, cells).segments]
[0, 2]
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from hdr.segment.components import Component, measure
from hdr.segment.split import apply_cuts, paths_across
from hdr.types import Box

PAIR_MIN_HEIGHT = 0.6  # of the digit height: each piece of such a cut is a whole digit
PAIR_REACH = 0.45  # of a cell's width: how far from the cell line a cut between two digits may run
FORCED_CUT = 1.25  # component width over cell width from which it is always cut at the lines
TALL_PART = 0.5  # a cut part is a glyph of its own from this share of the cell height


def cell_of(comp: Component, cells: Sequence[Box]) -> int | None:
    for i, (x0, y0, x1, y1) in enumerate(cells):
        slack = 0.25 * (y1 - y0)
        if x0 <= comp.cx < x1 and y0 - slack <= comp.cy <= y1 + slack:
            return i
    return None


def _parts(own: np.ndarray, bx0: int, cells: Sequence[Box]) -> dict[int, np.ndarray]:
    """The component's pixels cut at the cell lines, per cell it reaches."""
    columns = own.sum(axis=0)
    shares: dict[int, np.ndarray] = {}
    for i, (cx0, _, cx1, _) in enumerate(cells):
        lo, hi = max(cx0 - bx0, 0), min(cx1 - bx0, own.shape[1])
        if hi > lo and columns[lo:hi].sum() > 0:
            part = np.zeros_like(own)
            part[:, lo:hi] = own[:, lo:hi]
            shares[i] = part
    return shares


def _height(part: np.ndarray) -> int:
    ys = np.nonzero(part.any(axis=1))[0]
    return int(ys[-1] - ys[0] + 1) if len(ys) else 0


def _to_piece(canvas: np.ndarray, cell: int | None = None, split: bool = False):
    from hdr.segment.segment import Piece

    x, y, w, h = cv2.boundingRect(canvas)  # of the non-zero pixels
    if w == 0:
        return None
    box = (x, y, x + w, y + h)
    return Piece(box, canvas[box[1] : box[3], box[0] : box[2]].copy(), split, cell)


def segment_cells(
    labels: np.ndarray,
    comps: Sequence[Component],
    cells: Sequence[Box],
    sw: float,
    ink: np.ndarray,
    flags: list[str],
):
    """Glyph candidates of a cell row (see the module docstring)."""
    from hdr.segment.segment import Segment, Segmentation

    homes: dict[int, int] = {}
    for comp in comps:
        home = cell_of(comp, cells)
        if home is None:
            continue
        x0, y0, x1, y1 = cells[home]
        near_edge = min(comp.cx - x0, x1 - comp.cx) < 0.15 * (x1 - x0)
        # a short tick of a comb field (or a remnant of a cell line), not a written digit
        if near_edge and comp.width <= max(3.0, 1.5 * sw) and comp.height < 0.5 * (y1 - y0):
            continue
        homes[comp.label] = home
    occupied = set(homes.values())
    canvases: dict[int, np.ndarray] = {}
    count: dict[int, int] = {}
    offers: list[tuple[int, int, np.ndarray]] = []  # (home, neighbour, mask of the far part)
    # (left cell, component box, its pixels in that box, its parts per cell, the cell whose
    # part is a short one that may also be left out)
    crossings: list[tuple[int, Box, np.ndarray, dict[int, np.ndarray], int | None]] = []
    for comp in comps:
        home = homes.get(comp.label)
        if home is None:
            continue
        cw, ch = cells[home][2] - cells[home][0], cells[home][3] - cells[home][1]
        bx0, by0, bx1, by1 = comp.box
        own = labels[by0:by1, bx0:bx1] == comp.label
        shares = _parts(own, bx0, cells)
        tall = {i: p for i, p in shares.items() if i != home and _height(p) >= TALL_PART * ch}
        if comp.width > FORCED_CUT * cw and len(shares) > 1:
            placed = {home: shares[home], **tall} if home in shares else tall
            loose = None
            if len(placed) == 1 and home in placed:
                # a short part over the line, in a cell with a glyph of its own: a stroke of
                # that glyph (read with it), or the end of this one's (left out, as before)
                short = [i for i in shares if i in occupied and abs(i - home) == 1]
                loose = short[0] if len(short) == 1 else None
                if loose is not None:
                    placed[loose] = shares[loose]
            if len(placed) == 2 and abs(max(placed) - min(placed)) == 1:
                crossings.append((min(placed), comp.box, own, placed, loose))
        else:
            placed = {home: own}
            for i, part in tall.items():
                if abs(i - home) != 1:
                    continue
                if i not in occupied:
                    far = np.zeros(labels.shape, np.uint8)
                    far[by0:by1, bx0:bx1][part] = 255
                    offers.append((home, i, far))
                elif len(tall) == 1:
                    # it reaches well into a cell with a glyph of its own: as placed (a digit
                    # leaning over the line) or cut (two digits that touch), the reader decides
                    crossings.append(
                        (min(home, i), comp.box, own, {home: own, i: np.zeros_like(own)}, None)
                    )
        for i, part in placed.items():
            canvas = canvases.setdefault(i, np.zeros(labels.shape, np.uint8))
            canvas[by0:by1, bx0:bx1][part] = 255
            count[i] = count.get(i, 0) + 1
    pieces = {i: p for i, c in canvases.items() if (p := _to_piece(c)) is not None}
    metrics = measure([p.box for p in pieces.values()], sw)
    options: dict[int, tuple] = {}
    for home, neighbour, far in offers:
        if home not in canvases:
            continue
        near = _to_piece(np.where(far > 0, 0, canvases[home]).astype(np.uint8), home, True)
        away = _to_piece(far, neighbour, True)
        if near is not None and away is not None:
            options[home] = ((near, away),)
    pairs = _pair_options(cells, canvases, crossings, set(options), metrics.digit_height)
    segments = []
    for i in sorted(pieces):
        if i - 1 in pairs:
            continue  # read with the cell before it
        piece = pieces[i]
        if i in pairs:
            whole, cuts = pairs[i]
            merged = count[i] > 1 or count.get(i + 1, 0) > 1
            segments.append(Segment(whole, cuts, True, merged, cell=i, whole_ok=False))
            continue
        rel_h = (piece.box[3] - piece.box[1]) / max(1.0, metrics.digit_height)
        rel_w = (piece.box[2] - piece.box[0]) / max(1.0, metrics.digit_height)
        if max(rel_h, rel_w) < 0.25:
            continue  # a dot of noise in an empty cell
        opts = options.get(i, ())
        segments.append(Segment(piece, opts, bool(opts), count[i] > 1, cell=i))
    return Segmentation(tuple(segments), metrics, tuple(flags), ink, tuple(cells))


def _pair_options(
    cells: Sequence[Box],
    canvases: dict[int, np.ndarray],
    crossings: Sequence[tuple[int, Box, np.ndarray, dict[int, np.ndarray], int | None]],
    taken: set[int],
    digit_height: float,
) -> dict[int, tuple]:
    """Two digits that touch across a cell line: besides the straight cut at the line, cuts
    that follow the gap between them (the waist of the outline, drop-fall paths) within
    :data:`PAIR_REACH` of a cell's width (:func:`hdr.segment.split.paths_across`); the
    recognizer keeps the cut it reads best.

    Returns, per left cell, the uncut ink of both cells and the candidate cuts, each a pair of
    pieces (left cell, right cell).
    """
    out: dict[int, tuple] = {}
    for left, box, own, placed, loose in crossings:
        right = left + 1
        used = {k for i in out for k in (i, i + 1)}
        if {left, right} & (used | taken) or left not in canvases or right not in canvases:
            continue
        bx0, by0, bx1, by1 = box
        base = {}
        for i in (left, right):
            rest = canvases[i].copy()
            rest[by0:by1, bx0:bx1][placed[i]] = 0  # the cell's ink without this component
            base[i] = rest
        # the cut at the line; or, for a glyph that reached into a written cell, the two cells
        # as placed, which is no cut (the pieces are not split)
        cut = all(part.any() for part in placed.values())
        straight = (_to_piece(canvases[left], left, cut), _to_piece(canvases[right], right, cut))
        if straight[0] is None or straight[1] is None:
            continue
        cuts: list[tuple] = [straight]
        if loose is not None:  # the short part left out
            dropped = tuple(
                _to_piece(base[i] if i == loose else canvases[i], i, True) for i in (left, right)
            )
            if all(pc is not None for pc in dropped):
                cuts.append(dropped)
        edge = cells[left][2] - bx0
        reach = round(PAIR_REACH * (cells[left][2] - cells[left][0]))
        mask = own.astype(np.uint8) * 255
        seen: set[bytes] = set()
        for paths in paths_across(mask, edge, reach):
            parts = apply_cuts(mask, paths)
            if len(parts) != 2:
                continue
            pair = []
            for i, (part, dx, dy) in zip((left, right), parts, strict=True):
                canvas = base[i].copy()
                region = canvas[
                    by0 + dy : by0 + dy + part.shape[0], bx0 + dx : bx0 + dx + part.shape[1]
                ]
                np.maximum(region, part, out=region)
                pair.append(_to_piece(canvas, i, True))
            if any(
                pc is None or pc.box[3] - pc.box[1] < PAIR_MIN_HEIGHT * digit_height for pc in pair
            ):
                continue  # a sliver is no digit of a cell of its own
            key = b"".join(pc.mask.tobytes() + bytes(str(pc.box), "ascii") for pc in pair)
            if key not in seen and all(
                pc.box != st.box for pc, st in zip(pair, straight, strict=True)
            ):
                seen.add(key)  # (two paths often leave the same two pieces)
                cuts.append(tuple(pair))
        whole = _to_piece(np.maximum(canvases[left], canvases[right]), left)
        if whole is not None and len(cuts) > 1:
            out[left] = (whole, tuple(cuts))
    return out
