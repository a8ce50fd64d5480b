"""The closing ``/-`` of an amount: geometry reads what the glyph classifier cannot."""

from __future__ import annotations

import cv2
import numpy as np

from hdr.assemble.amount import parse_amount
from hdr.classify.labels import LABELS, NUM_CLASSES, REJECT
from hdr.recognize import _Work, one_reads, read_tail, wide_gap
from hdr.segment import segment_field
from hdr.types import FieldCrop


def _crop(slash_top: int, tail: str, stars: bool = False) -> FieldCrop:
    """ "00", a stroke from ``slash_top`` down to below the baseline, then a dash or a flourish
    (and with ``stars``, two stars after it)."""
    img = np.full((120, 420), 255, np.uint8)
    cv2.ellipse(img, (40, 60), (14, 22), 0, 0, 360, 0, 4)  # "0" stands in for digits
    cv2.ellipse(img, (90, 60), (14, 22), 0, 0, 360, 0, 4)
    cv2.line(img, (135, 86), (135 + (86 - slash_top) // 3, slash_top), 0, 4)  # "/" or "1"
    if tail == "dash":
        cv2.line(img, (180, 62), (215, 62), 0, 4)
    else:  # a long, wavy flourish
        pts = np.array([[180, 70], [220, 55], [260, 72], [300, 58]], np.int32)
        cv2.polylines(img, [pts], False, 0, 4)
    for x in (340, 380) if stars else ():
        for angle in (0, 60, 120):  # a six-armed star
            dx, dy = np.cos(np.radians(angle)) * 12, np.sin(np.radians(angle)) * 12
            cv2.line(img, (int(x - dx), int(50 - dy)), (int(x + dx), int(50 + dy)), 0, 3)
    return FieldCrop("amount", img, (0, 0, 420, 120), "generic")


def _posts(n: int, labels: list[str]) -> list[np.ndarray]:
    out = []
    for lab in labels[:n]:
        p = np.full(NUM_CLASSES, 1e-5)
        p[LABELS.index(lab)] = 1.0
        out.append(p / p.sum())
    return out


def _read(crop: FieldCrop, labels: list[str]) -> tuple[bool, str]:
    seg = segment_field(crop.image, crop.cells)
    work = _Work(crop, seg)
    assert len(seg.segments) == len(labels), [s.piece.box for s in seg.segments]
    pieces = [
        (s.piece, post, s.cell)
        for s, post in zip(seg.segments, _posts(len(labels), labels), strict=True)
    ]
    flipped = read_tail(pieces, work)
    text = "".join(LABELS[int(post.argmax())] for _, post, _ in pieces)
    if flipped is not None:
        assert LABELS[int(pieces[flipped][1].argmax())] == "/"
    return flipped is not None, text.replace(REJECT, "?")


def test_a_tall_one_before_the_closing_dash_is_read_as_a_slash() -> None:
    flipped, text = _read(_crop(18, "dash"), ["0", "0", "1", "-"])
    assert (flipped, text) == (True, "00/-")


def test_stars_after_the_closing_dash_do_not_hide_it() -> None:
    flipped, text = _read(_crop(18, "dash", stars=True), ["0", "0", "1", "-", "*", "*"])
    assert (flipped, text) == (True, "00/-**")


def test_a_flourish_after_the_slash_is_read_as_the_dash() -> None:
    flipped, text = _read(_crop(18, "wave"), ["0", "0", "1", REJECT])
    assert (flipped, text) == (True, "00/-")


def test_a_short_stroke_before_a_dash_is_left_to_the_classifier() -> None:
    flipped, text = _read(_crop(56, "dash"), ["0", "0", "1", "-"])
    assert (flipped, text) == (False, "001-")


def test_the_tail_is_only_read_after_the_amount() -> None:
    # a letter before the stroke: not the end of an amount, nothing is changed
    flipped, text = _read(_crop(18, "dash"), ["0", REJECT, "1", "-"])
    assert (flipped, text) == (False, "0?1-")


def _line(text: str, gaps: dict[int, int]) -> tuple[list[tuple[int, int, int, int]], list[str]]:
    """Boxes of ``text`` written left to right, 20 px wide glyphs (marks 6 px), 8 px apart,
    with extra space after position i from ``gaps``."""
    boxes, x = [], 0
    for i, ch in enumerate(text):
        w = 6 if ch in ".," else 20
        boxes.append((x, 0, x + w, 40))
        x += w + 8 + gaps.get(i, 0)
    return boxes, list(text)


def test_a_wide_gap_between_digits_is_where_a_mark_was_lost() -> None:
    assert not wide_gap(*_line("1225385", {}))
    assert wide_gap(*_line("1225385", {4: 18}))  # "12253 85": the comma was not seen
    assert not wide_gap(*_line("12253,85", {}))  # the comma read: nothing missing
    assert not wide_gap(*_line("12253,85", {4: 6, 5: 6}))  # a mark with room around it
    assert not wide_gap(*_line("12", {0: 40}))  # too few digits to know a usual gap


def test_the_one_is_asked_about_only_where_it_would_make_an_amount() -> None:
    # "2501-" is an amount too: a person chooses
    assert one_reads(list("250/-"), 3, parse_amount)
    # the group marks rule the "1" out: "21,13,0001-" has a group of four digits
    assert not one_reads(list("21,13,000/-"), 9, parse_amount)
    assert not one_reads(list("159,000/-"), 7, parse_amount)
    # a decimal part after a dot: "250.001-" is 250,001 written with a dot
    assert one_reads(list("250.00/-"), 6, parse_amount)
