"""bench/errors.py groups account digits by where they were written in their cells."""

from __future__ import annotations

from types import SimpleNamespace

from bench.errors import PLACEMENTS, account_placements, placement
from hdr.synth.truth import GlyphTruth

CELLS = ((0, 0, 40, 50), (40, 0, 80, 50), (80, 0, 120, 50))


def _glyph(cell: int, x0: int, x1: int) -> GlyphTruth:
    return GlyphTruth(label="1", box=(x0, 5, x1, 45), source="pen", cell=cell)


def test_a_digit_is_in_its_cell_over_the_line_or_reached_by_its_neighbour() -> None:
    glyphs = [_glyph(0, 8, 30), _glyph(1, 44, 92), _glyph(2, 96, 110)]
    assert placement(CELLS, glyphs, 1) == PLACEMENTS[2]  # 12 px (0.3 of a cell) past its line
    assert placement(CELLS, glyphs, 2) == PLACEMENTS[1]  # the digit before reaches 12 px in
    assert placement(CELLS, glyphs, 0) == PLACEMENTS[0]


def test_misreads_are_counted_per_placement_only_where_the_count_came_out_right() -> None:
    glyphs = {"account": (_glyph(0, 8, 30), _glyph(1, 44, 92))}
    truths = {"a#0": SimpleNamespace(cells=CELLS, glyphs=glyphs)}
    rows = [
        {"field": "account", "source": "a#0", "text": "17", "raw": "11"},
        {"field": "account", "source": "a#0", "text": "17", "raw": "1"},  # a glyph lost: skipped
        {"field": "amount", "source": "a#0", "text": "17", "raw": "11"},
    ]
    counts = account_placements(rows, truths)
    assert counts == {PLACEMENTS[0]: (1, 0), PLACEMENTS[1]: (0, 0), PLACEMENTS[2]: (1, 1)}
