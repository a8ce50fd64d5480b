"""A page's printed structure in one value: rules, rectangles and cell rows.

>>> import numpy as np
>>> ink = np.zeros((400, 900), np.uint8); ink[100:103, 100:700] = 255; ink[200:203, 100:700] = 255
>>> ink[100:203, 100:103] = 255; ink[100:203, 697:700] = 255
>>> [r.box for r in find_structure(ink).rects]
[(103, 103, 697, 200)]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from hdr.fields.cells import find_lattice_rows, merge_rows
from hdr.fields.lines import (
    MAX_RULE_THICKNESS,
    CellRow,
    Rect,
    Rule,
    group_cell_rows,
    holes,
    rule_mask,
    scale_rule,
    shrink_mask,
    thin_components,
    working_scale,
)

FAINT_LEVEL = 205  # gray level (paper ~255 after illumination correction) of a faint rule


@dataclass(frozen=True)
class Structure:
    """What is printed on a page, in page pixels."""

    width: int
    height: int
    h_rules: tuple[Rule, ...] = ()
    v_rules: tuple[Rule, ...] = ()
    rects: tuple[Rect, ...] = ()
    rows: tuple[CellRow, ...] = ()
    ink_fraction: float = 0.0
    scale: float = 1.0  # working px per page px
    extras: dict[str, float] = field(default_factory=dict)

    def long_rules(self, fraction: float = 0.15) -> list[Rule]:
        """Horizontal rules at least ``fraction`` of the page width long."""
        return [r for r in self.h_rules if r.length >= fraction * self.width]


def find_structure(ink: np.ndarray, gray: np.ndarray | None = None) -> Structure:
    """Rules, rectangles and cell rows printed on a page.

    ``ink``: HxW uint8, 255 = ink; ``gray``: the same page in gray, which lets faint cell
    separators be found (see :func:`hdr.fields.cells.find_lattice_rows`).
    """
    height, width = ink.shape[:2]
    scale = working_scale(height, width)
    small = shrink_mask(ink, scale)
    lines_src = small
    if gray is not None:
        # thin printed rules binarise badly (a 1 px grey line is lighter than the ink ceiling);
        # for rules only, take anything clearly darker than paper: background patterns are
        # lighter still, and curved, so the long straight openings below drop them
        faint = (gray < FAINT_LEVEL).astype(np.uint8) * 255
        lines_src = cv2.bitwise_or(small, shrink_mask(faint, scale))
    sh, sw = small.shape
    inv = 1.0 / scale
    h_mask = rule_mask(lines_src, horizontal=True)
    v_mask = rule_mask(lines_src, horizontal=False)
    max_thick = max(3.0, MAX_RULE_THICKNESS * max(sh, sw))
    h_rules, h_kept = thin_components(h_mask, True, max_thick)
    v_rules, v_kept = thin_components(v_mask, False, max_thick)
    # a small dilation closes corners where a rule stops a pixel short of the one it meets
    grid = cv2.dilate(h_kept | v_kept, np.ones((3, 3), np.uint8))
    found = holes(grid, max(6, round(0.008 * sw)), max(6, round(0.02 * sh)))
    page_holes = [
        (round(b[0] * inv), round(b[1] * inv), round(b[2] * inv), round(b[3] * inv)) for b in found
    ]
    page_h = [scale_rule(r, inv) for r in h_rules]
    page_v = [scale_rule(r, inv) for r in v_rules]
    lattice = find_lattice_rows(page_h, page_v, width, height, gray)
    rows = merge_rows(lattice, group_cell_rows(page_holes))
    return Structure(
        width=width,
        height=height,
        h_rules=tuple(page_h),
        v_rules=tuple(page_v),
        rects=tuple(Rect(b) for b in page_holes),
        rows=tuple(rows),
        ink_fraction=float(np.count_nonzero(small)) / small.size,
        scale=scale,
    )
