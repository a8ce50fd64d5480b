"""bench/pressed_points.py: the point is drawn against the digit, on the baseline."""

from __future__ import annotations

import cv2
import numpy as np

from bench.pressed_points import press_point
from tests.helpers.fields import INK, PAPER


def test_the_point_is_slid_along_the_baseline_until_it_meets_the_digit() -> None:
    image = np.full((80, 120), PAPER, np.uint8)
    cv2.ellipse(image, (70, 40), (12, 20), 0, 0, 360, INK, 4)  # a zero, its foot at y = 62
    before = image.copy()
    press_point(image, (56, 18, 85, 63), 62, 3)
    added = (image < 128) & (before >= 128)
    ys, xs = np.nonzero(added)
    assert 0 < len(ys) <= 50  # a point, not a stroke
    assert ys.max() <= 62 and ys.min() >= 62 - 2 * 3 - 1  # standing on the baseline
    assert xs.max() < 70  # left of the zero's middle
    n, _ = cv2.connectedComponents((image < 128).astype(np.uint8))
    assert n == 2  # one piece with the zero: it touches
