"""Two neighbours that may be one glyph whose stroke broke: the segmenter offers them joined, the
recognizer reads them joined only when that reads better than apart and no whole glyph is lost."""

from __future__ import annotations

import cv2
import numpy as np

from hdr.recognize import _Batch, _plans, _Work
from hdr.segment import segment_field
from hdr.types import FieldCrop
from tests.helpers.batches import scripted_batch
from tests.helpers.fields import INK, blank


def _field(gap_deg: int = 14, dot_at: int | None = None) -> np.ndarray:
    """A "1", a "0" drawn as two arcs (the pen skipped at its top and bottom), a "7"."""
    img = blank(90, 320)
    cv2.line(img, (50, 22), (46, 68), INK, 4)  # 1
    for start, end in ((90 + gap_deg, 270 - gap_deg), (-90 + gap_deg, 90 - gap_deg)):
        cv2.ellipse(img, (130, 45), (16, 23), 0, start, end, INK, 4)
    cv2.line(img, (200, 22), (232, 22), INK, 4)  # 7
    cv2.line(img, (232, 22), (212, 68), INK, 4)
    if dot_at is not None:
        cv2.circle(img, (dot_at, 66), 3, INK, -1)
    return img


def test_the_halves_of_a_broken_zero_are_offered_as_one_glyph() -> None:
    seg = segment_field(_field())
    boxes = [s.piece.box for s in seg.segments]
    assert len(boxes) == 4, boxes  # 1, the two arcs, 7
    assert len(seg.joins) == 3
    assert seg.joins[0] is None and seg.joins[2] is None  # whole glyphs far apart
    join = seg.joins[1]
    assert join is not None
    assert join.box == (
        boxes[1][0],
        min(boxes[1][1], boxes[2][1]),
        boxes[2][2],
        max(boxes[1][3], boxes[2][3]),
    )
    # the joined image holds the ink of both arcs
    assert (join.mask > 0).sum() >= (seg.segments[1].piece.mask > 0).sum() + (
        seg.segments[2].piece.mask > 0
    ).sum() - 4


def test_pieces_far_apart_are_not_offered() -> None:
    seg = segment_field(_field(gap_deg=40))  # the arcs now lie a digit's width apart at most ...
    halves = [s for s in seg.segments if 100 <= (s.piece.box[0] + s.piece.box[2]) / 2 <= 160]
    assert len(halves) == 2
    i = seg.segments.index(halves[0])
    # ... but their ink is well over two stroke widths apart
    assert seg.joins[i] is None


def test_a_dot_beside_a_digit_is_not_offered_unless_it_touches() -> None:
    seg = segment_field(_field(dot_at=246))
    assert [s.piece.box[0] for s in seg.segments][-1] > 240  # the dot is a segment of its own
    assert seg.joins[-1] is None


def _scripted(seg, labels: list[tuple[str, float]], *joins: tuple[str, float]) -> _Batch:
    """Segment k reads ``labels[k]``; the offered joins read ``joins``, left to right."""
    pieces = [s.piece for s in seg.segments] + [j for j in seg.joins if j is not None]
    readings = [*labels, *joins]
    assert len(pieces) == len(readings), (len(pieces), len(readings))
    return scripted_batch((p, lab, prob) for p, (lab, prob) in zip(pieces, readings, strict=True))


def _read_sure(work, seg, digits: str):
    """The field's result with its pieces read as ``digits``, each at 0.9999 (joins unsure)."""
    from hdr.config import load_pipeline_config
    from hdr.recognize import _result

    labels = [(d, 0.9999) for d in digits]
    joins = [("0", 0.5)] * sum(j is not None for j in seg.joins)
    return _result(work, [_scripted(seg, labels, *joins)], load_pipeline_config())


def _work(img: np.ndarray):
    seg = segment_field(img)
    crop = FieldCrop("amount", img, (0, 0, img.shape[1], img.shape[0]), "template:test")
    return _Work(crop, seg), seg


def _read(plan) -> list[tuple[int, bool]]:
    return [(len(pieces), joined) for pieces, _, joined, _ in plan]


def test_a_join_that_reads_a_sure_digit_replaces_two_unsure_pieces() -> None:
    work, seg = _work(_field())
    batch = _scripted(seg, [("1", 0.99), ("6", 0.55), ("3", 0.6), ("7", 0.99)], ("0", 0.99))
    plan = _plans(work, [batch])[0]
    assert _read(plan) == [(1, False), (1, True), (1, False)]
    assert plan[1][0][0] is seg.joins[1]
    assert not plan[1][1]  # not a close call


def test_two_sure_pieces_stay_apart_when_the_join_reads_worse() -> None:
    work, seg = _work(_field())
    batch = _scripted(seg, [("1", 0.99), ("6", 0.99), ("3", 0.99), ("7", 0.99)], ("0", 0.4))
    assert _read(_plans(work, [batch])[0]) == [(1, False)] * 4


def test_a_decimal_point_is_never_joined_to_a_digit() -> None:
    # a dot written so close to the "0" that the segmenter offers the two as one glyph
    work, seg = _work(_field(dot_at=150))
    assert len(seg.segments) == 5 and [j is not None for j in seg.joins] == [
        False,
        True,
        True,
        False,
    ]
    labels = [("1", 0.99), ("6", 0.5), ("3", 0.5), (".", 0.99), ("7", 0.99)]
    # the right arc with the dot reads a sure "3", but the dot reads as a decimal point
    batch = _scripted(seg, labels, ("0", 0.999), ("3", 0.999))
    plan = _plans(work, [batch])[0]
    assert _read(plan) == [(1, False), (1, True), (1, False), (1, False)]
    assert plan[1][0][0] is seg.joins[1] and plan[2][0][0] is seg.segments[3].piece


def test_a_tall_one_is_never_joined() -> None:
    work, seg = _work(_field())
    # the left arc, as tall as the digits, reads "1": a whole glyph, whatever the join reads
    batch = _scripted(seg, [("1", 0.99), ("1", 0.99), ("3", 0.5), ("7", 0.99)], ("0", 0.999))
    assert _read(_plans(work, [batch])[0]) == [(1, False)] * 4


def test_a_near_tie_is_a_close_call() -> None:
    work, seg = _work(_field())
    # apart: the two arcs' scores (log p minus the width prior) sum to about the join's score
    found = []
    for p in np.linspace(0.3, 0.999, 60):
        batch = _scripted(seg, [("1", 0.99), ("6", 0.9), ("3", 0.9), ("7", 0.99)], ("0", float(p)))
        plan = _plans(work, [batch])[0]
        found.append((float(p), any(close for _, close, _, _ in plan)))
    closes = [p for p, close in found if close]
    assert closes, found  # somewhere the two readings tie ...
    assert not found[0][1] and not found[-1][1]  # ... but not where one clearly wins


def _five_with_bar() -> np.ndarray:
    """A "1", a "5" whose top bar was drawn apart (it sticks out to the right), a "3"."""
    img = blank(90, 320)
    cv2.line(img, (50, 22), (46, 68), INK, 4)  # 1
    cv2.line(img, (118, 26), (116, 44), INK, 4)  # the stem of the 5 ...
    cv2.ellipse(img, (128, 55), (14, 13), 0, -150, 150, INK, 4)  # ... and its bowl
    cv2.line(img, (132, 20), (168, 17), INK, 4)  # the bar, apart
    cv2.line(img, (210, 22), (236, 22), INK, 4)  # 3 (its shape does not matter here)
    cv2.line(img, (236, 22), (222, 44), INK, 4)
    cv2.ellipse(img, (222, 56), (14, 13), 0, -90, 150, INK, 4)
    return img


def test_a_plan_the_grammar_rules_out_gives_way_to_the_next_best() -> None:
    from hdr.config import load_pipeline_config
    from hdr.recognize import _result

    work, seg = _work(_five_with_bar())
    assert len(seg.segments) == 4, [s.piece.box for s in seg.segments]
    assert [j is not None for j in seg.joins] == [False, True, False]
    # alone, the bowl is a sure "5" and the bar a sure dash: "15-3" is no amount; joined they
    # are a "5" a little less sure, which reads "153"
    labels = [("1", 0.99), ("5", 0.99), ("-", 0.99), ("3", 0.99)]
    batch = _scripted(seg, labels, ("5", 0.9))
    plans = _plans(work, [batch])
    assert _read(plans[0]) == [(1, False)] * 4 and _read(plans[1])[1] == (1, True)
    result = _result(work, [batch], load_pipeline_config())
    assert result.value == "153.00"
    assert {"strokes_joined", "grammar_corrected"} <= set(result.flags)
    assert result.status.value == "review"  # the confidence carries the doubt of the join


def test_a_plan_that_parses_is_kept_whatever_the_others_read() -> None:
    from hdr.config import load_pipeline_config
    from hdr.recognize import _result

    work, seg = _work(_five_with_bar())
    labels = [("1", 0.99), ("5", 0.99), ("7", 0.99), ("3", 0.99)]  # "1573" parses
    result = _result(work, [_scripted(seg, labels, ("5", 0.9))], load_pipeline_config())
    assert result.value == "1573.00" and "strokes_joined" not in result.flags


def test_a_crumb_read_as_a_comma_is_left_out_when_nothing_else_parses() -> None:
    """``36,7680``: a speck between the digits, above the baseline, that the classifier calls a
    comma. No grouping allows it; without it the amount reads, and a person checks."""
    from hdr.config import load_pipeline_config
    from hdr.recognize import _result

    img = blank(90, 420)
    for k in range(6):  # six digits (their shapes do not matter: their readings are scripted)
        x = 30 + k * 60 + (30 if k >= 2 else 0)
        cv2.rectangle(img, (x, 22), (x + 26, 70), INK, 4)
    cv2.circle(img, (146, 58), 4, INK, -1)  # the crumb, well above the baseline (70)
    work, seg = _work(img)
    assert len(seg.segments) == 7 and seg.segments[2].piece.box[0] > 130
    labels = [(d, 0.999) for d in "36"] + [(",", 0.99)] + [(d, 0.999) for d in "7680"]
    joins = [("0", 0.5)] * sum(j is not None for j in seg.joins)
    result = _result(work, [_scripted(seg, labels, *joins)], load_pipeline_config())
    assert result.value == "367680.00"
    assert "mark_dropped" in result.flags and result.status.value == "review"
    assert [g.label for g in result.glyphs] == list("367680")


def test_a_comma_on_the_baseline_is_never_left_out() -> None:
    from hdr.config import load_pipeline_config
    from hdr.recognize import _result

    img = blank(90, 420)
    for k in range(6):
        x = 30 + k * 60 + (30 if k >= 2 else 0)
        cv2.rectangle(img, (x, 22), (x + 26, 70), INK, 4)
    cv2.circle(img, (146, 68), 4, INK, -1)  # on the baseline: a comma, if a misplaced one
    work, seg = _work(img)
    labels = [(d, 0.999) for d in "36"] + [(",", 0.99)] + [(d, 0.999) for d in "7680"]
    joins = [("0", 0.5)] * sum(j is not None for j in seg.joins)
    result = _result(work, [_scripted(seg, labels, *joins)], load_pipeline_config())
    assert result.value is None and "mark_dropped" not in result.flags


def test_best_path_over_alone_and_joined() -> None:
    from hdr.recognize import _best_path

    assert _best_path([], []) == (0.0, [])
    assert _best_path([-0.5], []) == (-0.5, [1])
    # two weak pieces that join well, then one alone
    assert _best_path([-1.0, -1.0, -0.1], [-0.5, None]) == (-0.6, [2, 1])
    # overlapping joins: the better pair wins, the other piece stays alone
    score, steps = _best_path([-1.0, -1.0, -1.0], [-0.4, -0.2])
    assert steps == [1, 2] and abs(score + 1.2) < 1e-9
    # a pair that must be joined, even at a loss; its neighbours' joins are then ruled out
    score, steps = _best_path([-0.1, -0.1, -0.1], [-5.0, -0.1], must=0)
    assert steps == [2, 1] and abs(score + 5.1) < 1e-9


def test_a_dash_between_digits_is_left_out_when_nothing_else_parses() -> None:
    """``20,1-41``: the foot of a ``1`` broke off and reads as a dash, which no amount has
    between two digits."""
    from hdr.config import load_pipeline_config
    from hdr.recognize import _result

    img = blank(90, 420)
    for k in range(6):
        x = 30 + k * 60 + (30 if k >= 2 else 0)
        cv2.rectangle(img, (x, 22), (x + 26, 70), INK, 4)
    cv2.line(img, (132, 68), (160, 68), INK, 4)  # flat, on the baseline, between two digits
    work, seg = _work(img)
    assert len(seg.segments) == 7
    labels = [(d, 0.999) for d in "36"] + [("-", 0.99)] + [(d, 0.999) for d in "7680"]
    joins = [("0", 0.5)] * sum(j is not None for j in seg.joins)
    result = _result(work, [_scripted(seg, labels, *joins)], load_pipeline_config())
    assert result.value == "367680.00" and "mark_dropped" in result.flags
    # a dash after the last digit is the amount's closing dash, never left out (here a glyph
    # as big as a digit, so the amount does not parse with it either)
    labels = (
        [(d, 0.999) for d in "36"] + [("7", 0.99)] + [(d, 0.999) for d in "768"] + [("-", 0.99)]
    )
    result = _result(work, [_scripted(seg, labels, *joins)], load_pipeline_config())
    assert result.value is None and "mark_dropped" not in result.flags


def test_a_round_zero_in_a_narrow_hand_is_offered_joined() -> None:
    """The other digits are narrow, so a round "0" is wider than 1.25 of their widths; it is
    still no wider than it is tall, and its halves are offered as one glyph."""
    img = blank(90, 420)
    for x in (40, 80, 120):  # narrow digits: they set the field's digit width
        cv2.line(img, (x, 22), (x + 14, 22), INK, 4)
        cv2.line(img, (x + 14, 22), (x + 6, 68), INK, 4)
    for start, end in ((104, 256), (-76, 76)):  # a round "0", broken at its top and bottom
        cv2.ellipse(img, (220, 45), (24, 23), 0, start, end, INK, 4)
    seg = segment_field(img)
    halves = [i for i, s in enumerate(seg.segments) if s.piece.box[0] >= 190]
    assert len(halves) == 2, [s.piece.box for s in seg.segments]
    width = seg.segments[halves[1]].piece.box[2] - seg.segments[halves[0]].piece.box[0]
    assert width > 1.25 * seg.metrics.digit_width
    assert seg.joins[halves[0]] is not None


def _with_faint_dot(dot_x: int) -> np.ndarray:
    """Five digits (shapes scripted), the last two a little apart, and a dot too faint for the
    ink threshold on the baseline at ``dot_x``: segmentation drops it and keeps its place."""
    img = blank(90, 420)
    for k in range(5):
        x = 30 + k * 60 + (30 if k >= 3 else 0)
        cv2.rectangle(img, (x, 22), (x + 26, 70), INK, 4)
    cv2.circle(img, (dot_x, 68), 4, 185, -1)
    return img


def test_a_dropped_dot_where_a_decimal_point_changes_the_value_is_flagged() -> None:
    """``245 50`` with a faint dot lost between the fives: ``24550`` or ``245.50``."""

    work, seg = _work(_with_faint_dot(208))
    assert len(seg.segments) == 5 and len(seg.lost_marks) == 1
    result = _read_sure(work, seg, "24550")
    assert result.value == "24550.00"
    assert "mark_dropped" in result.flags and result.status.value == "review"


def test_a_dropped_dot_where_no_decimal_point_can_stand_says_nothing() -> None:
    """The same dot before three digits: ``24.550`` is no amount, ``24,550`` is the same
    value; the dot could not have been the decimal point."""

    work, seg = _work(_with_faint_dot(133))
    assert len(seg.segments) == 5 and len(seg.lost_marks) == 1
    result = _read_sure(work, seg, "24550")
    assert result.value == "24550.00" and "mark_dropped" not in result.flags


def test_a_dash_between_the_digits_and_a_group_mark_is_left_out_when_nothing_else_parses() -> None:
    """``235-,000``: the bar of a ``5`` drawn apart, read as a dash before the comma. No amount
    has a dash there; without it the amount reads, and a person checks."""
    from hdr.config import load_pipeline_config
    from hdr.recognize import _result

    img = blank(90, 560)
    for x in (30, 90, 150, 330, 390, 450):  # six digits (their readings are scripted)
        cv2.rectangle(img, (x, 22), (x + 26, 70), INK, 4)
    cv2.line(img, (210, 46), (240, 46), INK, 4)  # the dash, at mid height
    cv2.circle(img, (290, 70), 5, INK, -1)  # the comma, on the baseline
    work, seg = _work(img)
    assert len(seg.segments) == 8
    labels = [(d, 0.999) for d in "235"] + [("-", 0.95), (",", 0.99)]
    labels += [(d, 0.999) for d in "000"]
    joins = [("0", 0.5)] * sum(j is not None for j in seg.joins)
    result = _result(work, [_scripted(seg, labels, *joins)], load_pipeline_config())
    assert result.value == "235000.00"
    assert "mark_dropped" in result.flags and result.status.value == "review"
    assert "-" not in [g.label for g in result.glyphs]


def _with_joined_dot(pale: int, dot_x: int = 229) -> np.ndarray:
    """Five digits (shapes scripted), the last two a little apart, and a dark dot on the
    baseline at ``dot_x`` joined to the fourth digit by pixels of gray ``pale``."""
    img = blank(90, 420)
    for k in range(5):
        x = 30 + k * 60 + (30 if k >= 3 else 0)
        cv2.rectangle(img, (x, 22), (x + 26, 70), INK, 4)
    cv2.circle(img, (dot_x, 66), 4, INK, -1)
    cv2.rectangle(img, (dot_x + 4, 64), (240, 68), pale, -1)
    return img


def test_a_dot_joined_to_a_digit_by_pale_ink_is_found_and_flagged() -> None:
    """``245.50`` with the point against the second five: one piece with it, ``24550``. The
    dot stays apart from the digit in the darker ink, so the field goes to a person."""

    work, seg = _work(_with_joined_dot(pale=120))
    assert len(seg.segments) == 5 and not seg.lost_marks
    assert len(seg.joined_marks) == 1
    x0, y0, x1, y1 = seg.joined_marks[0]
    assert x0 < 229 < x1 and y0 < 66 < y1
    result = _read_sure(work, seg, "24550")
    assert result.value == "24550.00"
    assert "mark_joined" in result.flags and result.status.value == "review"


def test_a_digit_without_a_dot_or_with_one_in_the_same_ink_is_not_flagged() -> None:
    """The same digits without the dot: nothing found. A dot drawn in one stroke with the
    digit (no paler pixels between them) cannot be told from the glyph's own ink: nothing."""
    img = blank(90, 420)
    for k in range(5):
        x = 30 + k * 60 + (30 if k >= 3 else 0)
        cv2.rectangle(img, (x, 22), (x + 26, 70), INK, 4)
    assert segment_field(img).joined_marks == ()
    assert segment_field(_with_joined_dot(pale=INK)).joined_marks == ()


def test_on_a_bilevel_scan_a_dot_hanging_on_a_thin_neck_is_found() -> None:
    """No paler ink on a bilevel scan: the dot is told by the neck, thinner than the dot,
    that joins it to the digit. A digit with a corner at its foot (a ``2``'s) is no dot."""
    img = blank(90, 420)
    for k in range(5):
        x = 30 + k * 60 + (30 if k >= 3 else 0)
        cv2.rectangle(img, (x, 22), (x + 26, 70), INK, 4)
    cv2.circle(img, (226, 66), 6, INK, -1)
    cv2.line(img, (226, 68), (240, 68), INK, 1)  # a hairline neck to the fourth digit
    seg = segment_field(img)
    assert len(seg.segments) == 5 and len(seg.joined_marks) == 1
    assert seg.joined_marks[0][0] < 226 < seg.joined_marks[0][2]
    two = blank(90, 420)
    for k, x in enumerate((30, 90, 150, 240, 300)):
        cv2.line(two, (x + 26, 22), (x, 70), INK, 5)  # the diagonal of a "2" ...
        cv2.line(two, (x, 70), (x + 28, 70), INK, 5 + k % 2)  # ... and its foot
    assert segment_field(two).joined_marks == ()


def test_a_dot_pressed_against_a_digit_in_the_same_dark_ink_is_found_by_its_neck() -> None:
    """A shaded scan, the dot as dark as the digit and joined to its foot by a short stroke
    thinner than the dot (``32.00`` read ``3200.00``): no darkness threshold sets it apart,
    the neck does. The same digits without the dot give nothing."""
    img = blank(90, 420)
    for k in range(5):
        x = 30 + k * 60 + (30 if k >= 3 else 0)
        cv2.rectangle(img, (x, 22), (x + 26, 70), INK, 4)
    plain = cv2.GaussianBlur(img, (3, 3), 0)
    cv2.circle(img, (226, 66), 6, INK, -1)
    cv2.line(img, (226, 67), (240, 67), INK, 2)
    shaded = cv2.GaussianBlur(img, (3, 3), 0)
    seg = segment_field(shaded)
    assert len(seg.segments) == 5 and len(seg.joined_marks) == 1
    assert seg.joined_marks[0][0] < 226 < seg.joined_marks[0][2]
    assert segment_field(plain).joined_marks == ()


def _with_comma_tail(tail_at: int = 3, low: int = 0, tail_x: float = 0.0) -> np.ndarray:
    """Five digits (shapes scripted) standing on y = 70, the ``tail_at``-th lowered by ``low``
    px, and a comma's tail in the same solid ink hanging below the baseline from that digit's
    foot (``tail_x``: 0 at its left end, 1 at its right end)."""
    img = blank(100, 420)
    for k in range(5):
        x = 30 + k * 60 + (30 if k >= 3 else 0)
        drop = low if k == tail_at else 0
        cv2.rectangle(img, (x, 22 + drop), (x + 26, 70 + drop), INK, 4)
        if k == tail_at and low == 0:
            fx = round(x + tail_x * 26)
            cv2.line(img, (fx, 68), (fx - 5, 82), INK, 4)
    return img


def test_a_comma_tail_joined_in_solid_ink_is_found_and_flagged() -> None:
    """``245,50`` with the comma written against the second five: one piece with it in the
    same ink, so no darkness threshold sets it apart; it hangs below the baseline of the
    digits around it, at the piece's left end, so the field goes to a person."""
    work, seg = _work(_with_comma_tail())
    assert len(seg.segments) == 5 and not seg.lost_marks
    assert len(seg.joined_marks) == 1
    x0, y0, x1, y1 = seg.joined_marks[0]
    assert x0 < 238 < x1 and y0 >= 70 and y1 > 78  # the fourth digit stands at x = 240
    result = _read_sure(work, seg, "24550")
    assert "mark_joined" in result.flags and result.status.value == "review"


def test_a_low_digit_a_tail_mid_glyph_or_at_the_line_end_is_no_comma() -> None:
    """A digit written lower than the rest has its whole foot below the line; a stroke that
    runs below it from the middle of a glyph is the glyph's own; and a comma never stands
    before the first digit."""
    assert segment_field(_with_comma_tail(low=10)).joined_marks == ()
    assert segment_field(_with_comma_tail(tail_x=0.5)).joined_marks == ()
    assert segment_field(_with_comma_tail(tail_at=0)).joined_marks == ()
