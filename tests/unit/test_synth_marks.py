"""Synthetic handwriting: a decimal point or comma never hides inside the next digit."""

from __future__ import annotations

from pathlib import Path

from hdr.synth.generate import SynthOptions, generate
from hdr.synth.truth import read_truth


def _overlap(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Share of box ``a`` (the mark) that lies inside box ``b``."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    area = max(1, (a[2] - a[0]) * (a[3] - a[1]))
    return max(0, w) * max(0, h) / area


def test_marks_may_touch_but_are_never_inside_a_neighbour(tmp_path: Path) -> None:
    generate(tmp_path, SynthOptions(n=80, seed=1001, workers=1))
    marks = 0
    for record in read_truth(tmp_path / "truth.jsonl"):
        glyphs = record.glyphs.get("amount", [])
        for i, g in enumerate(glyphs):
            if g.label not in ".,":
                continue
            marks += 1
            for j in (i - 1, i + 1):
                if 0 <= j < len(glyphs):
                    assert _overlap(g.box, glyphs[j].box) < 0.3, (record.file, g, glyphs[j])
    assert marks >= 10  # the set holds enough marks for the check to mean something
