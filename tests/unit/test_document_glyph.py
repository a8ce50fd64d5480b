"""Training digits written, scanned and read back as the pipeline reads a page."""

from __future__ import annotations

import numpy as np

from hdr.classify.normalize import SIZE
from hdr.datasets import document
from hdr.datasets.document import document_glyph, read_like_pipeline, scan_like


def _seven() -> np.ndarray:
    img = np.zeros((28, 28), np.uint8)
    img[5:8, 6:22] = 255  # the bar
    for y in range(8, 24):  # the stem, leaning left
        x = 21 - (y - 8) // 2
        img[y, x - 1 : x + 2] = 255
    return img


def test_a_glyph_is_normalised_like_the_readers() -> None:
    g = document_glyph(_seven(), np.random.default_rng(0))
    assert g.shape == (SIZE, SIZE) and g.dtype == np.float32
    assert float(g.min()) >= 0.0 and float(g.max()) <= 1.0
    ys, xs = np.nonzero(g > 0.2)
    assert max(np.ptp(ys), np.ptp(xs)) >= 17  # scaled so its longer side is ~20 px


def test_same_seed_same_glyph_and_seeds_differ() -> None:
    a = document_glyph(_seven(), np.random.default_rng(3))
    b = document_glyph(_seven(), np.random.default_rng(3))
    c = document_glyph(_seven(), np.random.default_rng(4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_scan_keeps_the_ink_dark_on_light_paper() -> None:
    alpha = np.zeros((40, 30), np.float32)
    alpha[5:35, 12:18] = 1.0
    gray = scan_like(alpha, np.random.default_rng(1))
    assert gray.dtype == np.uint8
    pad = (gray.shape[0] - 40) // 2
    stroke = gray[pad + 10 : pad + 30, pad + 13 : pad + 17]
    assert float(stroke.mean()) < float(np.median(gray)) - 40


def test_specks_are_dropped_as_the_segmenter_drops_them() -> None:
    gray = np.full((60, 40), 230, np.uint8)
    gray[10:50, 18:24] = 40  # the stroke
    gray[2:4, 2:4] = 40  # a speck far smaller than MIN_PART of it
    g = read_like_pipeline(gray)
    only_stroke = gray.copy()
    only_stroke[2:4, 2:4] = 230
    assert np.allclose(g, read_like_pipeline(only_stroke), atol=1e-6)
    assert document.MIN_PART < 0.5
