"""Rendered glyphs: deterministic by seed, normalised like the pipeline's, every class drawable."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hdr.classify.labels import LABELS, NON_DIGITS, index_of
from hdr.classify.normalize import normalize_glyph
from hdr.datasets import augment, glyphs
from hdr.datasets.symbols import (
    RenderSpec,
    _draw_reject,
    draw_ink,
    make_glyph,
    rendered_dataset,
    spec_hash,
)

SMALL = RenderSpec(digits_per_class=2, symbols_per_class=3, rejects=12)


def test_same_seed_same_glyphs_other_seed_other_glyphs() -> None:
    x1, y1 = rendered_dataset(SMALL, seed=11)
    x2, y2 = rendered_dataset(SMALL, seed=11)
    x3, _ = rendered_dataset(SMALL, seed=12)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    assert not np.array_equal(x1, x3)
    assert spec_hash(SMALL, 11) != spec_hash(SMALL, 12)


def test_every_class_is_present_and_glyphs_are_normalised() -> None:
    x, y = rendered_dataset(SMALL, seed=3)
    assert x.shape == (10 * 2 + 9 * 3 + 12, 28, 28) and x.dtype == np.float32
    assert set(y.tolist()) == set(range(len(LABELS)))
    assert (y == index_of("reject")).sum() == 12
    assert x.min() >= 0.0 and x.max() <= 1.0
    peaks = x.reshape(len(x), -1).max(axis=1)
    assert (peaks > 0.1).all(), "every glyph has ink"
    # Hair-thin lines (box edges) fade when scaled down, as they do in the pipeline; most
    # glyphs keep solid strokes.
    assert (peaks > 0.5).mean() > 0.9


@pytest.mark.parametrize("label", NON_DIGITS)
def test_each_non_digit_class_varies_between_samples(label: str) -> None:
    spec = RenderSpec(p_noise=0.0)
    samples = [make_glyph(label, np.random.default_rng([5, i]), spec) for i in range(6)]
    distinct = {s.tobytes() for s in samples}
    assert len(distinct) == 6


def test_currency_marks_without_handwriting_font_still_render() -> None:
    # No handwriting font draws the rupee sign: printed fonts and pen strokes stand in.
    assert glyphs.fonts_for("₹"), "a printed font with the rupee sign is installed"
    inks = [draw_ink("₹", np.random.default_rng(i)) for i in range(8)]
    assert all(ink.max() > 0 for ink in inks)
    assert all(f.name != "Humor-Sans.ttf" for f in glyphs.fonts_for("€"))


def test_reject_letters_leave_out_digit_lookalikes() -> None:
    for confusable in "OoIlZzSsBbGgq":
        assert confusable not in glyphs.REJECT_LETTERS
    assert "K" in glyphs.REJECT_LETTERS and "x" in glyphs.REJECT_LETTERS


def test_augmentations_keep_the_ink_and_the_dtype() -> None:
    ink = np.zeros((60, 30), np.uint8)
    ink[8:52, 12:18] = 255
    rng = np.random.default_rng(0)
    for out in (
        augment.affine(ink, rng),
        augment.elastic(ink, rng),
        augment.stroke_width(ink, rng, thicker=True),
        augment.stroke_width(ink, rng, thicker=False),
        augment.blur(ink, rng),
        augment.clip_by_box_edge(ink, rng),
    ):
        assert out.dtype == np.uint8 and np.count_nonzero(out) > 0.3 * np.count_nonzero(ink)
    thick = augment.stroke_width(ink, rng, thicker=True)
    assert np.count_nonzero(thick) > np.count_nonzero(ink)


def test_box_edge_clip_crops_or_adds_a_line() -> None:
    ink = np.zeros((60, 40), np.uint8)
    ink[10:50, 10:30] = 255
    changed = [augment.clip_by_box_edge(ink, np.random.default_rng(s)) for s in range(20)]
    kinds = {np.sign(np.count_nonzero(c) - np.count_nonzero(ink)) for c in changed}
    assert kinds == {-1, 1}  # some cropped (less ink), some with a line (more ink)


def test_normalised_like_the_reading_pipeline() -> None:
    # Same ink through make_glyph's last step and through normalize_glyph directly.
    ink = glyphs.render_char("7", np.random.default_rng(1))
    assert np.array_equal(normalize_glyph(ink), normalize_glyph(ink.copy()))
    glyph = normalize_glyph(ink)
    ys, xs = np.nonzero(glyph)
    assert max(ys.max() - ys.min(), xs.max() - xs.min()) + 1 == 20


def test_context_marks_touch_the_glyph_and_keep_it_whole() -> None:
    # A "0": what segmentation would keep with it must be attached (one component), and the
    # glyph's own ink must all still be there.
    ink = np.zeros((60, 40), np.uint8)
    cv2.ellipse(ink, (20, 30), (12, 22), 0, 0, 360, 255, 4)
    kinds = set()
    for seed in range(40):
        out = augment.context_marks(ink, np.random.default_rng(seed))
        assert out.dtype == np.uint8 and np.count_nonzero(out) > np.count_nonzero(ink)
        n, _ = cv2.connectedComponents((out > 0).astype(np.uint8))
        kinds.add(n - 1)
        ys, xs = np.nonzero(out)
        kinds.add(("wide" if np.ptp(xs) > 30 else "narrow", "tall" if np.ptp(ys) > 50 else "short"))
    assert 1 in kinds  # attached marks, not a second glyph beside it
    assert ("wide", "short") in kinds or ("wide", "tall") in kinds  # rules and ticks widen it


def test_bleed_thickens_and_break_cuts_without_losing_the_glyph() -> None:
    ink = np.zeros((60, 40), np.uint8)
    cv2.ellipse(ink, (20, 30), (12, 22), 0, 0, 360, 255, 3)
    thick = augment.bleed(ink, np.random.default_rng(0))
    assert np.count_nonzero(thick) > 1.5 * np.count_nonzero(ink)
    broken = [augment.break_strokes(ink, np.random.default_rng(s)) for s in range(10)]
    assert all(np.count_nonzero(b) > 0.6 * np.count_nonzero(ink) for b in broken)
    assert any(np.count_nonzero(b) < np.count_nonzero(ink) for b in broken)


def test_new_augmentations_are_off_unless_configured() -> None:
    # Older training configs must still draw the very same samples.
    ink = glyphs.render_char("4", np.random.default_rng(3))
    a = augment.augment_ink(ink, np.random.default_rng(5), augment.AugmentConfig())
    b = augment.augment_ink(
        ink, np.random.default_rng(5), augment.AugmentConfig(p_context=0.0, p_bleed=0.0)
    )
    assert np.array_equal(a, b)
    c = augment.augment_ink(ink, np.random.default_rng(5), augment.AugmentConfig(p_context=1.0))
    assert not np.array_equal(a, c)


CURSIVE = RenderSpec(digits_per_class=2, symbols_per_class=3, rejects=12, cursive_zeros=5)


def test_cursive_zeros_come_after_everything_else_and_are_zeros() -> None:
    plan, base = CURSIVE.class_plan(), SMALL.class_plan()
    assert len(plan) == len(base) + 5
    assert np.array_equal(plan[: len(base)], base), "the older plan is untouched"
    assert (plan[len(base) :] == index_of("0")).all()
    assert [CURSIVE.is_cursive(i) for i in range(len(plan))] == [False] * len(base) + [True] * 5
    x, _ = rendered_dataset(CURSIVE, seed=3)
    x0, y0 = rendered_dataset(SMALL, seed=3)
    kept = y0 != index_of("reject")  # rejects draw from another letter set with cursive zeros
    assert np.array_equal(x[: len(base)][kept], x0[kept])
    assert (x[len(base) :].reshape(5, -1).max(axis=1) > 0.5).all()


def test_recipes_without_cursive_zeros_keep_their_data_hash() -> None:
    # the shipped model before cursive zeros recorded this hash of its training glyphs
    from hdr.train.run import load_train_config

    data = load_train_config("configs/train/digits-v4.yaml").data
    recorded = "bbffca1a0b5a5ef0eaeb35583dac25493fafa8849c8e1ae03014de2aacbf7d9b"
    assert spec_hash(data.train_render, data.seed) == recorded
    assert spec_hash(CURSIVE, 1) != spec_hash(SMALL, 1)


def test_cursive_recipes_stop_teaching_u_and_v_as_reject() -> None:
    assert SMALL.reject_letters == glyphs.REJECT_LETTERS
    for letter in "UuVv":
        assert letter in glyphs.REJECT_LETTERS and letter not in CURSIVE.reject_letters
    assert set(CURSIVE.reject_letters) < set(glyphs.REJECT_LETTERS)


def _holes(ink: np.ndarray) -> int:
    """Closed loops of an ink image (contours inside another contour)."""
    _, binary = cv2.threshold(ink, 127, 255, cv2.THRESH_BINARY)
    _, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    return 0 if hierarchy is None else int((hierarchy[0][:, 3] >= 0).sum())


def test_cursive_zeros_are_drawn_open_and_closed_and_repeat_by_seed() -> None:
    inks = [glyphs.draw_cursive_zero(np.random.default_rng(i)) for i in range(40)]
    again = glyphs.draw_cursive_zero(np.random.default_rng(0))
    assert np.array_equal(inks[0], again)
    assert len({ink.tobytes() for ink in inks}) == 40
    holes = [_holes(ink) for ink in inks]
    # open at the top like a u or v (no loop), and closed like an o, both common
    assert 8 <= sum(h == 0 for h in holes) <= 32
    assert all(ink.max() == 255 for ink in inks)
    # never a stroke so small it would normalise into a dot
    assert all(min(cv2.boundingRect(ink)[2:]) >= 12 for ink in inks)


def test_joined_zeros_are_rejects_only_where_a_recipe_asks() -> None:
    joined = RenderSpec(digits_per_class=1, symbols_per_class=1, rejects=40, p_joined_zeros=0.5)
    plain = RenderSpec(digits_per_class=1, symbols_per_class=1, rejects=40)
    kinds = [_draw_reject(np.random.default_rng([4, i]), p_joined=0.5)[1] for i in range(40)]
    assert 8 <= kinds.count("joined") <= 32
    plain_kinds = [_draw_reject(np.random.default_rng([4, i]))[1] for i in range(40)]
    assert "joined" not in plain_kinds
    assert spec_hash(joined, 1) != spec_hash(plain, 1)
    ink = glyphs.draw_joined_zero(np.random.default_rng(3))
    _, _, w, h = cv2.boundingRect(ink)
    assert w > h, "a zero and what it runs into are wider than high"
    n, _ = cv2.connectedComponents((ink > 127).astype(np.uint8))
    assert n == 2, "one stroke: background and one component"


def test_dotted_digits_are_rejects_only_where_a_recipe_asks() -> None:
    dotted = RenderSpec(digits_per_class=1, symbols_per_class=1, rejects=40, p_dotted=0.5)
    kinds = [_draw_reject(np.random.default_rng([4, i]), p_dotted=0.5)[1] for i in range(40)]
    assert 8 <= kinds.count("dotted") <= 32
    plain_kinds = [_draw_reject(np.random.default_rng([4, i]))[1] for i in range(40)]
    assert "dotted" not in plain_kinds
    plain = RenderSpec(digits_per_class=1, symbols_per_class=1, rejects=40)
    assert spec_hash(dotted, 1) != spec_hash(plain, 1)
    # recipes without it keep their data hash (the setting is left out of it when zero)
    assert spec_hash(
        RenderSpec(digits_per_class=1, symbols_per_class=1, rejects=40, p_dotted=0.0), 1
    ) == spec_hash(plain, 1)


@pytest.mark.parametrize("seed", range(12))
def test_a_dotted_digit_is_the_digit_with_a_point_against_its_foot(seed: int) -> None:
    char = str(seed % 10)
    # draw_dotted_digit renders its digit with the generator first: the same digit as this
    digit = glyphs.render_char(char, np.random.default_rng([seed, 1]))
    ink = glyphs.draw_dotted_digit(np.random.default_rng([seed, 1]), char)
    assert np.array_equal(ink, glyphs.draw_dotted_digit(np.random.default_rng([seed, 1]), char))
    mask, plain = (ink > 127).astype(np.uint8), (digit > 127).astype(np.uint8)
    bx, by, bw, bh = cv2.boundingRect(plain)
    plain = plain[by : by + bh, bx : bx + bw]
    # the digit is all there, unmoved but for the crop: find it, and what was added to it
    _, _, _, (x, y) = cv2.minMaxLoc(cv2.matchTemplate(mask * 255, plain * 255, cv2.TM_CCORR))
    added = mask.copy()
    added[y : y + plain.shape[0], x : x + plain.shape[1]] &= 1 - plain
    assert plain.sum() > 0 and mask[y : y + plain.shape[0], x : x + plain.shape[1]][plain > 0].all()
    # a point: a compact blob, a fraction of the digit's height, touching it (no new piece)
    ys, xs = np.nonzero(added)
    height = np.ptp(np.nonzero(plain)[0]) + 1
    assert 0.05 * height <= max(np.ptp(ys), np.ptp(xs)) + 1 <= 0.45 * height
    assert cv2.connectedComponents(mask)[0] <= cv2.connectedComponents(plain)[0]
    # low on the line: its centre in the lowest fifth of the digit's height, or below it
    base = y + np.nonzero(plain)[0].max()
    assert ys.mean() >= base - 0.2 * height


OPEN_FOURS = RenderSpec(
    digits_per_class=2, symbols_per_class=3, rejects=12, cursive_zeros=2, open_fours=4
)


def test_open_fours_come_last_are_fours_and_leave_the_rest_of_the_plan_alone() -> None:
    plan, cursive = OPEN_FOURS.class_plan(), CURSIVE.class_plan()
    before = len(cursive) - 5  # CURSIVE ends in 5 cursive zeros, this plan in 2 and 4 fours
    assert np.array_equal(plan[: before + 2], cursive[: before + 2])
    assert (plan[before + 2 :] == index_of("4")).all() and len(plan) == before + 6
    drawn = [OPEN_FOURS.drawn(i) for i in range(len(plan))]
    assert drawn == [""] * before + ["cursive_zero"] * 2 + ["open_four"] * 4
    assert [OPEN_FOURS.is_cursive(i) for i in range(len(plan))] == [
        d == "cursive_zero" for d in drawn
    ]
    x, y = rendered_dataset(OPEN_FOURS, seed=3)
    x_again, _ = rendered_dataset(OPEN_FOURS, seed=3)
    assert np.array_equal(x, x_again) and (y[-4:] == index_of("4")).all()
    assert (x[-4:].reshape(4, -1).max(axis=1) > 0.5).all()
    assert spec_hash(OPEN_FOURS, 1) != spec_hash(
        RenderSpec(digits_per_class=2, symbols_per_class=3, rejects=12, cursive_zeros=2), 1
    )


def test_the_shipped_recipes_keep_their_data_hash_beside_open_fours() -> None:
    # the shipped members' cards recorded these hashes of their rendered training glyphs
    import json
    from pathlib import Path

    from hdr.train.run import load_train_config

    card = json.loads(Path("models/digits.card.json").read_text())
    for member, recipe in enumerate(("digits-narrow.yaml", "digits-narrow-b.yaml")):
        data = load_train_config(f"configs/train/{recipe}").data
        recorded = card["data_hashes"][f"member{member}.rendered_train"]
        assert spec_hash(data.train_render, data.seed) == recorded


def test_open_fours_are_open_with_the_right_stroke_running_on_below_the_bowl() -> None:
    inks = [glyphs.draw_open_four(np.random.default_rng(i)) for i in range(60)]
    assert np.array_equal(inks[0], glyphs.draw_open_four(np.random.default_rng(0)))
    assert len({ink.tobytes() for ink in inks}) == 60
    open_top = 0
    for ink in inks:
        mask = ink > 127
        x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
        # the lowest ink is the right stroke's end, right of the middle but for the slant
        low = np.nonzero(mask[y + h - max(2, h // 12) : y + h].any(axis=0))[0]
        assert low.mean() > x + 0.3 * w
        open_top += _holes(ink) == 0
    # (a pen wide enough can close the bowl's top now and then, as a hurried hand does)
    assert open_top >= 50
