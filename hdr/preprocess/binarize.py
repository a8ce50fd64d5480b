"""Grayscale, illumination correction and binarisation.

Illumination: paper is the brightest thing on a page, so a large grey-level dilation (a local
maximum, wider than any pen stroke) followed by a median blur estimates the paper's brightness
everywhere; dividing by it flattens shadows, gradients and tinted paper to white while ink keeps
its contrast. Binarisation is local (darker than the neighbourhood's mean by a margin) AND
global (darker than a ceiling from Otsu): a pixel is ink only when it is locally dark *and* dark
overall, which keeps the faint guilloche or dotted security backgrounds of bank documents out
of the ink mask.

>>> import numpy as np
>>> page = np.full((200, 300), 230, np.uint8); page[90:110, 50:250] = 40
>>> ink = binarize(correct_illumination(page))
>>> int(ink[100, 150]), int(ink[20, 20])
(255, 0)
"""

from __future__ import annotations

import cv2
import numpy as np

LOCAL_MARGIN = 12  # grey levels under the local mean (window ~2.6 mm) to count as ink
# Ink is never lighter than this after illumination correction, whatever Otsu says; and never
# forced darker than the floor (a page with very little ink makes Otsu split paper noise).
INK_CEILING = (100, 175)


def to_gray(image: np.ndarray) -> np.ndarray:
    """HxW uint8 luminance from a gray or BGR page."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _odd(n: float) -> int:
    k = max(3, round(n))
    return k if k % 2 else k + 1


def correct_illumination(gray: np.ndarray, dpi: int | None = None) -> np.ndarray:
    """Divide by an estimate of the paper brightness so paper becomes ~255 everywhere."""
    h, w = gray.shape
    # Work at a quarter of the size: the background is smooth, and this is 16x cheaper.
    factor = 4 if min(h, w) >= 64 else 1
    small = cv2.resize(
        gray, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA
    )
    stroke_px = (dpi or 300) / 300 * 12 / factor  # wider than a thick pen stroke at this dpi
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (_odd(stroke_px * 2), _odd(stroke_px * 2)))
    background = cv2.dilate(small, kernel)
    background = cv2.medianBlur(background, _odd(stroke_px * 3))
    background = cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(gray, np.maximum(background, 1), scale=255)


def binarize(gray: np.ndarray, dpi: int | None = None) -> np.ndarray:
    """Ink mask (uint8, 255 = ink) of an illumination-corrected gray page.

    A pixel is ink when it is darker than its neighbourhood's mean by a margin (local contrast:
    a flat tint or a faint pattern has none) and darker than a global ceiling from Otsu.
    """
    window = _odd((dpi or 300) / 300 * 31)
    otsu, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ceiling = float(np.clip(otsu, *INK_CEILING))
    local = cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, window, LOCAL_MARGIN
    )
    _, dark = cv2.threshold(gray, ceiling - 1, 255, cv2.THRESH_BINARY_INV)
    return cv2.bitwise_and(local, dark)
