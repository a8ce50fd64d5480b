"""Synthetic handwriting: marks, currency signs and ``/-`` tails drawn as a hand draws them.

A decimal point or comma never hides inside the next digit, nor a digit inside a currency sign;
every currency sign is drawn from a font that has it (not the font's missing-glyph box); the
dash of a ``/-`` tail sits about mid-height and may be longer than a digit is tall.
"""

from __future__ import annotations

import pytest

from hdr.datasets.fonts import font_has_glyph, printed_fonts, printed_fonts_for
from hdr.synth.generate import SynthOptions, generate
from hdr.synth.truth import TruthRecord, read_truth


def _overlap(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Share of box ``a`` (the smaller glyph) that lies inside box ``b``."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    area = max(1, (a[2] - a[0]) * (a[3] - a[1]))
    return max(0, w) * max(0, h) / area


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[TruthRecord]:
    out = tmp_path_factory.mktemp("synth")
    generate(out, SynthOptions(n=80, seed=1001, workers=1))
    return list(read_truth(out / "truth.jsonl"))


def test_marks_may_touch_but_are_never_inside_a_neighbour(records: list[TruthRecord]) -> None:
    marks = 0
    for record in records:
        glyphs = record.glyphs.get("amount", [])
        for i, g in enumerate(glyphs):
            if g.label not in ".,":
                continue
            marks += 1
            for j in (i - 1, i + 1):
                if 0 <= j < len(glyphs):
                    assert _overlap(g.box, glyphs[j].box) < 0.3, (record.file, g, glyphs[j])
    assert marks >= 10  # the set holds enough marks for the check to mean something


def test_no_digit_hides_inside_a_currency_sign(records: list[TruthRecord]) -> None:
    signs = 0
    for record in records:
        glyphs = record.glyphs.get("amount", [])
        for i, g in enumerate(glyphs[:-1]):
            if g.label in "₹€$" and glyphs[i + 1].label.isdigit():
                signs += 1
                assert _overlap(glyphs[i + 1].box, g.box) < 0.5, (record.file, g, glyphs[i + 1])
    assert signs >= 5


def test_currency_signs_come_from_fonts_that_draw_them(records: list[TruthRecord]) -> None:
    seen = 0
    for record in records:
        for g in record.glyphs.get("amount", []):
            if g.label in "₹€" and g.source.startswith("font:"):
                seen += 1
                name = g.source.removeprefix("font:")
                font = next(f for f in printed_fonts() if f.name == name)
                assert font_has_glyph(font, g.label), (record.file, g)
    assert seen >= 5
    # Liberation has no rupee sign: it is never chosen for one, though it is for the euro
    assert all(font_has_glyph(f, "₹") for f in printed_fonts_for("₹"))
    assert len(printed_fonts_for("€")) > len(printed_fonts_for("₹"))


def test_slash_dash_tails_are_mid_height_and_sometimes_long(records: list[TruthRecord]) -> None:
    ratios, lifts = [], []
    for record in records:
        glyphs = record.glyphs.get("amount", [])
        digits = [g.box for g in glyphs if g.label.isdigit()]
        if len(glyphs) < 2 or glyphs[-1].label != "-" or not digits:
            continue
        height = sorted(b[3] - b[1] for b in digits)[len(digits) // 2]
        bottom = sorted(b[3] for b in digits)[len(digits) // 2]
        top = sorted(b[1] for b in digits)[len(digits) // 2]
        dash = glyphs[-1].box
        ratios.append((dash[2] - dash[0]) / height)
        lifts.append((bottom - (dash[1] + dash[3]) / 2) / max(1, bottom - top))
    assert len(ratios) >= 5
    assert max(ratios) > 1.0  # longer than a digit is tall, as many real tails are
    assert min(ratios) > 0.2
    assert all(0.1 < lift < 0.7 for lift in lifts), lifts  # neither on the baseline nor above


def test_digit_glyphs_keep_their_height(records: list[TruthRecord]) -> None:
    """No written digit is thinned into a smudge: each is at least half the field's digits'
    median height (a straight MNIST ``1`` used to come out 13 px tall among 62 px digits)."""
    checked = 0
    for record in records:
        for name in ("amount", "account"):
            glyphs = [g for g in record.glyphs.get(name, []) if g.label.isdigit()]
            if len(glyphs) < 3:
                continue
            heights = sorted(g.box[3] - g.box[1] for g in glyphs)
            median = heights[len(heights) // 2]
            for g in glyphs:
                checked += 1
                assert g.box[3] - g.box[1] >= 0.5 * median, (record.file, name, g)
    assert checked > 500


def test_straight_ones_survive_any_pen() -> None:
    """Every MNIST test ``1`` drawn 62 px tall with a thin and a broad pen keeps
    most of its height (thinning a broad bar rounds its ends off): the stroke width is measured
    with the outline on the crop's edges."""
    import numpy as np

    from hdr.datasets.mnist import load_mnist
    from hdr.synth.handwriting import _fit_height, _stroke, stroke_width

    bar = np.zeros((40, 6), np.uint8)
    bar[:, :] = 255  # a bar that fills its crop: 6 px wide, not 40
    assert 4.0 < stroke_width(bar) < 7.0
    images, labels = load_mnist("test")
    short = []
    for index in np.nonzero(labels == 1)[0]:
        ink = _fit_height(images[index], 62)
        for pen in (2.0, 8.0):
            rows = np.nonzero((_stroke(ink, pen) > 0.5).any(axis=1))[0]
            if len(rows) == 0 or rows.max() - rows.min() + 1 < 0.7 * 62:
                short.append((int(index), pen))
    assert not short, short[:10]
