"""bench/open_fours.py: held-out fours of the style asked for, and the MNIST nines it names."""

from __future__ import annotations

import numpy as np
import pytest

from bench.open_fours import NINES, STYLES, open_fours
from hdr.datasets import glyphs


def test_held_out_fours_are_glyphs_of_each_style_and_repeat_by_seed() -> None:
    for style in STYLES:
        x = open_fours(style, 4)
        assert x.shape == (4, 28, 28) and x.dtype == np.float32
        assert np.array_equal(x, open_fours(style, 4))
        assert (x.reshape(4, -1).max(axis=1) > 0.5).all()
        assert len({g.tobytes() for g in x}) == 4
    assert not np.array_equal(open_fours("round", 4), open_fours("hooked", 4))
    assert not np.array_equal(open_fours("hooked", 4), open_fours("hooked", 4, seed=1))
    assert len(NINES) == 2


def test_a_style_is_drawn_as_asked_and_an_unknown_one_refused() -> None:
    # with a style given, the generator draws that style (no draw for the choice)
    for style in STYLES:
        ink = glyphs.draw_open_four(np.random.default_rng(1), style)
        assert ink.max() == 255
    with pytest.raises(ValueError, match="no such style"):
        glyphs.draw_open_four(np.random.default_rng(1), "italic")
    # the weights leave the round one out of training, and add up
    assert glyphs.STYLES_OF_FOUR[0] == 0.0 and sum(glyphs.STYLES_OF_FOUR) == pytest.approx(1.0)
