"""Which reading of two neighbouring cells the recognizer keeps: a cut only when it reads
something else than the glyphs as placed."""

from __future__ import annotations

import cv2

from hdr.recognize import _Batch, _choose, _Work
from hdr.segment import segment_field
from hdr.types import FieldCrop
from tests.helpers.batches import scripted_batch
from tests.helpers.fields import INK, five_cells


def _pair_work() -> tuple[_Work, object]:
    """A "0" in cell 1 that reaches well into cell 2, which holds a "1" of its own."""
    img, cells, _, line = five_cells()
    cv2.ellipse(img, (line - 6, 40), (18, 24), 0, 0, 360, INK, 4)
    cv2.line(img, (line + 26, 18), (line + 26, 64), INK, 4)
    crop = FieldCrop("account", img, (0, 0, 250, 80), "template:test", cells)
    seg = segment_field(img, cells)
    assert len(seg.segments) == 1 and len(seg.segments[0].options) > 2
    return _Work(crop, seg), seg.segments[0]


def _scripted(seg, readings_of: dict[int, tuple[str, float]]) -> _Batch:
    """Every option's pieces classified: option k reads ``readings_of[k]`` (label, probability)
    for both of its pieces' labels in turn; options not listed read "0" and "1" at 0.9."""
    readings = []
    for k, option in enumerate(seg.options):
        text, prob = readings_of.get(k, ("01", 0.9))
        readings += [(piece, label, prob) for piece, label in zip(option, text, strict=True)]
    return scripted_batch(readings)


def test_a_cut_reading_the_same_digits_gives_way_to_the_glyphs_as_placed() -> None:
    work, seg = _pair_work()
    batch = _scripted(seg, {0: ("01", 0.95), 1: ("01", 0.999)})
    chosen, close, _ = _choose(work, seg, [batch])
    assert chosen is seg.options[0] and not any(p.split for p in chosen)
    assert not close


def test_a_cut_that_reads_other_digits_better_is_kept() -> None:
    work, seg = _pair_work()
    batch = _scripted(seg, {0: ("01", 0.6), 1: ("07", 0.999)})
    chosen, _, _ = _choose(work, seg, [batch])
    assert chosen is seg.options[1] and all(p.split for p in chosen)
