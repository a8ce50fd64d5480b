"""Segmentation on drawn fields: borders go, glyphs are found one by one, specks are dropped."""

from __future__ import annotations

import cv2
import numpy as np

from hdr.segment import remove_lines, segment_field
from hdr.segment.binarize import binarize_crop
from hdr.segment.components import find_components
from hdr.segment.split import paths_across
from tests.helpers.fields import (
    INK,
    blank,
    comb,
    draw_field,
    five_cells,
    font_digits,
    paste_digit,
)

DIGITS = font_digits(thickness=1)


def boxes_of(gray: np.ndarray, cells: tuple = ()) -> list[tuple[int, int, int, int]]:
    return [s.piece.box for s in segment_field(gray, cells).segments]


def near(a: tuple[int, ...], b: tuple[int, ...], tol: int = 3) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_box_borders_are_removed_and_every_glyph_found() -> None:
    drawn = draw_field("1250", DIGITS)
    found = boxes_of(drawn.image)
    assert len(found) == 4
    for got, truth in zip(found, drawn.boxes, strict=True):
        assert near(got, truth), (got, truth)


def test_lines_are_found_and_the_interior_is_inside_them() -> None:
    drawn = draw_field("7", DIGITS)
    lines = remove_lines(binarize_crop(drawn.image))
    h, w = drawn.image.shape
    assert len(lines.rows) == 2 and len(lines.cols) == 2
    x0, y0, x1, y1 = lines.interior
    assert 0 < x0 < 12 and 0 < y0 < 12 and w - 12 < x1 < w and h - 12 < y1 < h
    assert not lines.ink[:, :4].any() and not lines.ink[:4, :].any()


def test_a_stroke_through_the_border_stays_one_piece() -> None:
    img = blank(80, 200)
    cv2.line(img, (100, 20), (100, 79), INK, 3)  # runs down through the bottom border
    comps = find_components(remove_lines(binarize_crop(img)).ink)
    assert len(comps) == 1
    assert comps[0].height >= 55


def test_specks_are_dropped() -> None:
    drawn = draw_field("1250", DIGITS)
    rng = np.random.default_rng(3)
    img = drawn.image.copy()
    for _ in range(25):
        y, x = int(rng.integers(12, 30)), int(rng.integers(12, img.shape[1] - 12))
        img[y, x] = INK  # one-pixel specks above the writing
    assert len(boxes_of(img)) == 4


def test_decimal_point_and_comma_are_kept_small_and_low() -> None:
    drawn = draw_field("1,250.50", DIGITS)
    seg = segment_field(drawn.image)
    assert len(seg.segments) == 8
    dot = seg.segments[5].piece.box
    rel_h, _, cy = seg.metrics.relative(dot)
    assert rel_h < 0.3 and cy > 0.7


def test_touching_digits_get_candidate_cuts_near_their_boundary() -> None:
    img = blank(80, 200)
    cv2.ellipse(img, (50, 40), (12, 19), 0, 0, 360, INK, 3)  # two round zeros that touch
    cv2.ellipse(img, (74, 40), (12, 19), 0, 0, 360, INK, 3)
    paste_digit(img, DIGITS["7"][0], 110, 59, 38)  # a lone digit sets the width
    seg = segment_field(img)
    assert len(seg.segments) == 2
    pair = seg.segments[0]
    assert pair.eager and pair.options
    boundary = 62
    cuts = [option[0].box[2] for option in pair.options]
    assert min(abs(c - boundary) for c in cuts) <= 4
    assert all(p.split for option in pair.options for p in option)


def test_a_chain_of_four_loops_gets_a_four_piece_cut() -> None:
    """ "0000" written without lifting the pen: one component, four digits wide."""
    img = blank(80, 300)
    for cx in (50, 74, 98, 122):
        cv2.ellipse(img, (cx, 40), (12, 19), 0, 0, 360, INK, 3)
    paste_digit(img, DIGITS["7"][0], 170, 59, 38)  # a lone digit sets the width
    seg = segment_field(img)
    assert len(seg.segments) == 2
    chain = seg.segments[0]
    fours = [option for option in chain.options if len(option) == 4]
    assert chain.eager and fours
    boundaries = (62, 86, 110)
    best = min(
        fours, key=lambda o: sum(abs(p.box[2] - b) for p, b in zip(o, boundaries, strict=False))
    )
    assert all(abs(p.box[2] - b) <= 5 for p, b in zip(best, boundaries, strict=False))


def test_a_box_border_printed_as_micro_text_is_not_read() -> None:
    """CTS-2010 cheques draw the amount box as rows of tiny letters, not ruled lines."""
    img = blank(120, 420, border=False)
    for y in (8, 112):  # "BANKBANKBANK..." 5 px tall along the top and the bottom
        cv2.putText(img, "SYNDICATEBANK" * 6, (4, y), cv2.FONT_HERSHEY_PLAIN, 0.4, 90, 1)
    boxes = [paste_digit(img, DIGITS[d][0], 60 + 45 * i, 90, 50) for i, d in enumerate("2255")]
    seg = segment_field(img)
    assert "microprint_ignored" in seg.flags
    found = [s.piece.box for s in seg.segments]
    assert len(found) == 4
    assert all(near(got, want, 4) for got, want in zip(found, boxes, strict=True))


def test_a_row_of_written_dots_is_not_micro_print() -> None:
    img = blank(120, 420)
    paste_digit(img, DIGITS["5"][0], 60, 90, 50)
    for i in range(14):  # a filler of dots after the amount, written by hand
        cv2.circle(img, (120 + 16 * i, 86), 3, INK, -1)
    assert "microprint_ignored" not in segment_field(img).flags


def test_a_broken_stroke_is_merged_into_one_glyph() -> None:
    img = blank(80, 200)
    cv2.line(img, (60, 20), (80, 20), INK, 3)  # the bar of a "5", lifted from the body
    cv2.ellipse(img, (68, 45), (11, 13), 0, -120, 180, INK, 3)
    cv2.line(img, (60, 26), (58, 36), INK, 3)
    paste_digit(img, DIGITS["1"][0], 110, 60, 40)
    seg = segment_field(img)
    assert len(seg.segments) == 2
    assert seg.segments[0].merged


def test_the_two_strokes_of_a_slanted_three_are_one_glyph() -> None:
    """A "3" written as a hook and a bowl, the bowl further left (the pen slants): the pieces
    lie one over the other but wider apart than a digit is wide."""
    img = blank(90, 260)
    paste_digit(img, DIGITS["1"][0], 40, 70, 46)
    cv2.ellipse(img, (125, 36), (17, 11), 0, -160, 90, INK, 4)  # the hook, to the right
    cv2.ellipse(img, (111, 63), (19, 11), 0, -90, 160, INK, 4)  # the bowl, lower and left
    paste_digit(img, DIGITS["2"][0], 180, 70, 46)
    seg = segment_field(img)
    assert len(seg.segments) == 3, [s.piece.box for s in seg.segments]
    assert seg.segments[1].merged


def test_the_foot_of_a_two_written_apart_joins_it_and_the_tail_dash_does_not() -> None:
    img = blank(90, 300)
    paste_digit(img, DIGITS["1"][0], 40, 70, 46)
    cv2.ellipse(img, (105, 40), (15, 14), 0, -200, 40, INK, 4)  # the bowl and neck of a "2"
    cv2.line(img, (116, 49), (92, 68), INK, 4)
    cv2.line(img, (98, 73), (126, 72), INK, 4)  # its foot, lifted from the neck
    cv2.line(img, (170, 75), (190, 25), INK, 4)  # "/-" after the amount
    cv2.line(img, (188, 52), (215, 52), INK, 4)
    seg = segment_field(img)
    boxes = [s.piece.box for s in seg.segments]
    assert len(boxes) == 4, boxes
    assert seg.segments[1].merged
    assert not seg.segments[2].merged and not seg.segments[3].merged


def test_two_digits_touching_across_a_cell_line_get_cuts_along_their_gap() -> None:
    """A "0" written over the line into the next cell, touching the "7" there: the straight cut
    at the line slices the "0"; a cut where the two meet keeps it whole. Both are offered, the
    uncut pair never (two written cells are two digits)."""
    img, cells, _, line = five_cells()
    cv2.ellipse(img, (line - 8, 40), (16, 22), 0, 0, 360, INK, 4)  # the "0", 8 px over the line
    cv2.line(img, (line + 2, 24), (line + 34, 20), INK, 4)  # the "7", its bar touching the "0"
    cv2.line(img, (line + 34, 20), (line + 18, 62), INK, 4)
    paste_digit(img, DIGITS["4"][0], 20, 64, 44)
    seg = segment_field(img, cells)
    pair = next(s for s in seg.segments if s.options and not s.whole_ok)
    assert pair.cell == 1
    assert all([p.cell for p in option] == [1, 2] for option in pair.options)
    zero_right = line - 8 + 16 + 2  # the right edge of the "0"'s ring
    lefts = [option[0].box[2] for option in pair.options]
    assert lefts[0] <= line + 1  # the straight cut at the line
    assert any(abs(x - zero_right) <= 4 for x in lefts[1:]), (lefts, zero_right)


def test_a_digit_written_far_over_the_cell_line_gets_a_cut_where_it_ends() -> None:
    """The "0" is centred near the line, so its right side lies 0.4 of a cell into the next cell,
    where the "7" touches it: the gap between them is far from the line, and a cut along it is
    still offered (the reader keeps the cut it reads best)."""
    img, cells, step, line = five_cells()
    cv2.ellipse(img, (line, 40), (20, 22), 0, 0, 360, INK, 4)  # right edge at line + 22
    cv2.line(img, (line + 18, 30), (line + 50, 24), INK, 4)  # the "7", its bar touching the "0"
    cv2.line(img, (line + 50, 24), (line + 36, 66), INK, 4)
    paste_digit(img, DIGITS["4"][0], 20, 64, 44)
    seg = segment_field(img, cells)
    pair = next(s for s in seg.segments if s.options and not s.whole_ok)
    zero_right = line + 20 + 2
    assert 0.3 * step < zero_right - line  # beyond the reach of the cuts near the line alone
    lefts = [option[0].box[2] for option in pair.options]
    assert any(abs(x - zero_right) <= 4 for x in lefts), (lefts, zero_right)


def test_a_digit_reaching_into_a_written_cell_is_read_as_placed_or_cut() -> None:
    """The "0" of cell 1 reaches well into cell 2, which has a "1" of its own: the two cells are
    read together, as placed (the "0" whole, the "1" alone) or with the "0" cut, and the reader
    keeps the pair it reads best; the "1" is in every right-hand piece."""
    img, cells, _, line = five_cells()
    cv2.ellipse(img, (line - 6, 40), (18, 24), 0, 0, 360, INK, 4)  # 14 px into cell 2
    cv2.line(img, (line + 26, 18), (line + 26, 64), INK, 4)  # the "1", not touching it
    seg = segment_field(img, cells)
    assert len(seg.segments) == 1
    pair = seg.segments[0]
    assert pair.cell == 1 and not pair.whole_ok and len(pair.options) > 1
    zero, one = pair.options[0]
    assert zero.box[0] < line < zero.box[2] <= line + 16  # as placed: the "0" whole
    assert one.box[0] >= line + 20  # ... and the "1" alone
    assert not zero.split and not one.split  # no cut: no touching_split for the reader
    assert all(left.split and right.split for left, right in pair.options[1:])
    assert all(right.box[2] >= line + 26 for _, right in pair.options)


def test_a_short_part_over_the_line_is_read_with_that_cell_or_left_out() -> None:
    """A long bar runs from cell 1 (which has a hook of its own) over the line into the stem of
    cell 2, so the two make one component that is cut at the line. The bar's short part in cell
    1 may be a stroke of the hook's digit (the foot of a "3" written apart) or the end of the
    bar: both are offered, the part read with cell 1 and the part left out."""
    img, cells, _, line = five_cells()
    cv2.ellipse(img, (line - 20, 30), (12, 14), 0, -160, 90, INK, 4)  # a hook in cell 1
    cv2.line(img, (line - 14, 50), (line + 46, 50), INK, 4)  # the bar, over the line
    cv2.line(img, (line + 36, 14), (line + 36, 66), INK, 4)  # ... joined to the stem in cell 2
    seg = segment_field(img, cells)
    assert len(seg.segments) == 1
    pair = seg.segments[0]
    assert pair.cell == 1 and not pair.whole_ok
    (with_part, right), (hook_alone, right_too) = pair.options[:2]
    assert with_part.box[3] >= 52 and with_part.box[2] >= line - 1  # hook and short part
    assert hook_alone.box[3] < 50 and hook_alone.box[2] < line - 2  # the hook alone
    assert right.box == right_too.box and right.box[0] >= line - 1


def test_paths_across_offer_every_cut_once() -> None:
    mask = np.zeros((40, 60), np.uint8)
    mask[5:35, 10:14] = 255
    mask[5:35, 40:44] = 255
    mask[18:21, 14:40] = 255  # a bar joining two strokes
    paths = paths_across(mask, 30, 20)
    keys = [p[0].tobytes() for p in paths]
    assert len(keys) == len(set(keys)) and len(paths) >= 3
    assert all(int(p[0].min()) >= 1 and int(p[0].max()) <= 58 for p in paths)
    assert paths_across(mask[:, :2], 1, 5) == []


def test_cells_give_one_glyph_per_cell_and_skip_empty_ones() -> None:
    img = blank(60, 412, cells=10)
    step = 400 / 10
    cells = tuple((round(6 + i * step), 6, round(6 + (i + 1) * step), 53) for i in range(10))
    for i, d in zip((0, 1, 2, 5), "4071", strict=True):
        paste_digit(img, DIGITS[d][0], cells[i][0] + 10, 48, 32)
    seg = segment_field(img, cells)
    assert [s.cell for s in seg.segments] == [0, 1, 2, 5]
    # the same row without the cell boxes: the cells are found from the printed lines
    assert [s.cell for s in segment_field(img).segments] == [0, 1, 2, 5]


def test_comb_field_ticks_are_not_glyphs() -> None:
    img, cells = comb(70, 420, 10)
    for i, d in zip((0, 1, 2, 3), "3141", strict=True):
        paste_digit(img, DIGITS[d][0], cells[i][0] + 10, cells[i][3] - 6, 34)
    seg = segment_field(img, tuple(cells))
    assert [s.cell for s in seg.segments] == [0, 1, 2, 3]
    found = segment_field(img)  # ticks alone tell where the cells are
    assert len(found.segments) == 4


def test_a_line_through_the_writing_is_flagged_not_removed() -> None:
    drawn = draw_field("1250", DIGITS)
    img = drawn.image.copy()
    y = (drawn.boxes[0][1] + drawn.boxes[0][3]) // 2
    cv2.line(img, (drawn.boxes[0][0] - 5, y), (drawn.boxes[-1][2] + 5, y), INK, 3)
    seg = segment_field(img)
    assert "struck_through" in seg.flags
    assert len(seg.segments) < 4  # the line holds the digits together: no clean reading


def test_an_empty_box_has_no_glyphs() -> None:
    assert segment_field(blank(80, 300)).segments == ()
    assert segment_field(np.full((0, 0), 255, np.uint8)).segments == ()


def test_small_cursive_zeros_joined_to_a_slash_get_a_four_piece_cut() -> None:
    """ "000/" of ``1,00,000/-`` written fast: zeros smaller and narrower than the digits
    before them, so the run is under three digit widths though it holds four glyphs."""
    img = blank(90, 320)
    for i, digit in enumerate("14"):
        paste_digit(img, DIGITS[digit][0], 20 + 34 * i, 70, 48)  # the digits set the width
    for cx in (110, 131, 152):
        cv2.ellipse(img, (cx, 52), (9, 13), 0, 0, 360, INK, 3)
    cv2.line(img, (161, 52), (186, 52), INK, 3)  # the ligature into the slash
    cv2.line(img, (194, 25), (178, 75), INK, 3)
    seg = segment_field(img)
    run = max(seg.segments, key=lambda s: s.piece.box[2] - s.piece.box[0])
    ratio = (run.piece.box[2] - run.piece.box[0]) / seg.metrics.digit_width
    assert 2.6 <= ratio < 3.2, "narrower than four digits: once offered only three pieces"
    assert any(len(option) == 4 for option in run.options)


def test_a_digit_written_just_left_of_the_box_is_read_and_flagged() -> None:
    img = blank(80, 260, border=False)
    cv2.rectangle(img, (40, 6), (253, 73), 70, 2)  # the box starts 40 px into the crop
    x = 60
    for d in "475":
        x = paste_digit(img, DIGITS[d][0], x, 62, 44)[2] + 10
    paste_digit(img, DIGITS["1"][0], 8, 62, 44)  # the writer began left of the box
    seg = segment_field(img)
    assert "writing_outside_box" in seg.flags
    assert len(seg.segments) == 4 and seg.segments[0].piece.box[0] < 40
    # a small mark outside the box is still left out, as before
    img = blank(80, 260, border=False)
    cv2.rectangle(img, (40, 6), (253, 73), 70, 2)
    x = 60
    for d in "475":
        x = paste_digit(img, DIGITS[d][0], x, 62, 44)[2] + 10
    cv2.circle(img, (25, 40), 4, INK, -1)
    seg = segment_field(img)
    assert "writing_outside_box" not in seg.flags and "outside_box_ignored" in seg.flags
    assert len(seg.segments) == 3


def test_a_hairline_at_the_crop_edge_is_a_box_rule_not_a_one() -> None:
    """What line removal left of the box's side rule (a 1 px upright line at the crop's end)
    is dropped; a pen's "1" at the very same place stays."""
    img = np.full((80, 240), 235, np.uint8)
    for x in (30, 90, 150):
        cv2.ellipse(img, (x, 40), (14, 22), 0, 0, 360, 40, 4)  # three zeros
    ruled = img.copy()
    ruled[8:72, 236] = 90  # a hairline 3 px from the right end, taller than the digits
    seg = segment_field(ruled)
    assert len(seg.segments) == 3 and "noise_ignored" in seg.flags
    assert "stroke_at_edge" not in seg.flags  # as tall as the box: its side rule
    short = img.copy()
    short[30:52, 236] = 90  # as thin, but a third of the box: what is left of a "1" on the side
    seg = segment_field(short)
    assert len(seg.segments) == 3 and "stroke_at_edge" in seg.flags
    corner = img.copy()
    corner[2:16, 236] = 90  # as short, but above the writing: a piece of the rule by a corner
    seg = segment_field(corner)
    assert len(seg.segments) == 3 and "noise_ignored" in seg.flags
    assert "stroke_at_edge" not in seg.flags
    penned = img.copy()
    cv2.line(penned, (228, 18), (228, 62), 40, 4)  # a "1" written with the same pen
    seg = segment_field(penned)
    assert len(seg.segments) == 4 and seg.segments[-1].piece.box[0] >= 224


def test_a_digit_cut_by_the_crop_edge_is_not_taken_for_a_rule() -> None:
    """The writer went past the box and the crop cut the first "1" down to a sliver: thinner
    than the pen, but wider than a printed rule, so it stays."""
    img = np.full((80, 240), 235, np.uint8)
    for x in (60, 120, 180):
        cv2.ellipse(img, (x, 40), (14, 22), 0, 0, 360, 40, 6)
    cv2.line(img, (0, 18), (0, 62), 40, 5)  # a pen stroke, most of it outside the crop
    seg = segment_field(img)
    assert len(seg.segments) == 4 and seg.segments[0].piece.box[0] == 0


def test_a_stroke_along_a_cell_line_touching_it_is_not_taken_for_the_line() -> None:
    # a 9 whose straight stem runs down beside the cell line on its right, touching it
    img, cells, _, line_x = five_cells()
    cv2.ellipse(img, (line_x - 14, 28), (10, 10), 0, 0, 360, INK, 3)
    cv2.line(img, (line_x - 4, 24), (line_x - 4, 70), INK, 3)  # touching the line throughout
    lines = remove_lines(binarize_crop(img), cells)
    assert any(abs(c - line_x) <= 2 for c in lines.cols)  # the line is found where it is
    # the line is gone, the stem stays with the loop: one glyph as tall as the digit
    assert not lines.ink[10:20, line_x - 1 : line_x + 2].any()
    comps = find_components(lines.ink[:, line_x - 40 : line_x])
    assert max(c.height for c in comps) >= 50


def test_a_one_drawn_from_the_top_rule_to_the_bottom_one_is_flagged() -> None:
    """A straight ``1`` as tall as the box goes out with the rules (``21`` read ``2``): a rule
    the box's top and bottom rules run on past both ways, by the writing, is flagged."""
    img = blank(80, 320)
    two = paste_digit(img, DIGITS["2"][0], 20, 60, 40)
    before = img.copy()
    x = two[2] + 14
    cv2.line(img, (x, 7), (x, 72), INK, 3)  # from the top rule to the bottom one
    lines = remove_lines(binarize_crop(img))
    assert [c for c in lines.inner_cols if abs(c - x) <= 3], (lines.cols, lines.inner_cols)
    assert all(20 < c < 300 for c in lines.inner_cols)  # the box's own sides are not inner
    assert "rule_in_writing" in segment_field(img).flags
    assert "rule_in_writing" not in segment_field(before).flags
    far = blank(80, 320)
    paste_digit(far, DIGITS["2"][0], 20, 60, 40)
    cv2.line(far, (250, 7), (250, 72), INK, 2)  # a divider far from any writing
    assert remove_lines(binarize_crop(far)).inner_cols == (250,)
    assert "rule_in_writing" not in segment_field(far).flags


def _written(faint_at: int | None, width: int = 420) -> tuple[np.ndarray, np.ndarray]:
    """``125`` written at 40 px without a box, and an ``8`` traced faintly (45 gray levels
    under the paper, as a pen running dry leaves it) with its left edge at ``faint_at``; and
    the faint 8's own pixels."""
    img = blank(80, width, border=False)
    x = 18
    for d in "125":
        x = paste_digit(img, DIGITS[d][0], x, 60, 40)[2] + 8
    trace = blank(80, width, border=False)
    if faint_at is not None:
        paste_digit(trace, DIGITS["8"][0], faint_at, 60, 40)
    faint = trace < 128
    img[faint] = np.minimum(img[faint], 235 - 45)
    return img, faint


def test_a_faint_digit_beside_the_writing_is_read_and_flagged() -> None:
    img, _ = _written(150)
    seg = segment_field(img)
    assert "faint_ink" in seg.flags
    assert len(seg.segments) == 4  # the faint 8 joined the ink and is read
    plain, _ = _written(None)
    assert "faint_ink" not in segment_field(plain).flags


def test_faint_grain_away_from_the_writing_or_too_sparse_is_not_a_glyph() -> None:
    far, _ = _written(360)  # over five digit heights beyond the last digit
    assert "faint_ink" not in segment_field(far).flags
    assert len(segment_field(far).segments) == 3
    _, faint = _written(150)
    ys, xs = np.nonzero(faint)
    keep = np.random.default_rng(0).random(len(xs)) < 1 / 12  # specks where it stood: grain
    sparse, _ = _written(None)
    sparse[ys[keep], xs[keep]] = 235 - 45
    assert "faint_ink" not in segment_field(sparse).flags
