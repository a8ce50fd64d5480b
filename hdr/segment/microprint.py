"""Micro-print: rows of tiny printed characters that draw a box's border on security forms.

CTS-2010 cheques and many others draw the amount box (or the lines beside it) as a line of
micro-text ("SYNDICATEBANKSYNDICATEBANK..."), not a ruled line, so line removal keeps it as
dozens of specks in a straight row. Left in, they swamp the writing: the field's size is measured
on them and they are read as glyphs. A micro-print row is many components, each a small share of
the crop's height, whose centres share one narrow band, spread over a good part of the width.
Handwriting never looks like that: its glyphs are few, tall and spaced; a row of dots written as
a filler is far shorter than a printed border.

>>> from hdr.segment.components import Component
>>> row = [Component(i, (10 + 6 * i, 95, 14 + 6 * i, 100), 12) for i in range(40)]
>>> digit = Component(99, (40, 30, 70, 80), 400)
>>> sorted(c.label for c in microprint_rows([*row, digit], (120, 300)))[:3]
[0, 1, 2]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hdr.segment.components import Component

MAX_HEIGHT = 0.09  # a micro-print character's height, at most, as a share of the crop height
MIN_COUNT = 12  # characters in one row
MIN_SPAN = 0.4  # share of the crop width the row covers
MIN_DENSITY = 0.6  # share of that width under a character (the rest: the gaps between them)


def microprint_rows(comps: Sequence[Component], shape: tuple[int, int]) -> list[Component]:
    """The components that belong to a row of micro-print in a crop of ``shape`` (h, w)."""
    height, width = shape
    small = [c for c in comps if c.height <= max(3.0, MAX_HEIGHT * height) and c.width < height]
    if len(small) < MIN_COUNT:
        return []
    centres = np.array([(c.box[1] + c.box[3]) / 2.0 for c in small])
    band = max(2.0, float(np.median([c.height for c in small])))
    found: dict[int, Component] = {}
    for centre in np.unique(np.round(centres)):
        row = [c for c, y in zip(small, centres, strict=True) if abs(y - centre) <= band]
        if len(row) < MIN_COUNT:
            continue
        xs = sorted((c.box[0], c.box[2]) for c in row)
        covered, ink, reach = 0, 0, None
        for x0, x1 in xs:  # the width the row covers, its small gaps included
            start = reach if reach is not None and x0 - reach <= 2 * band else x0
            covered += max(0, x1 - start)
            ink += max(0, x1 - max(x0, reach if reach is not None else x0))
            reach = x1 if reach is None else max(reach, x1)
        # printed characters stand shoulder to shoulder; dots written as a filler do not
        if covered >= MIN_SPAN * width and ink >= MIN_DENSITY * covered:
            found.update((c.label, c) for c in row)
    return list(found.values())
