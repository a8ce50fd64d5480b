"""Grayscale, illumination correction and binarisation.

Illumination: paper is the brightest thing on a page, so a large grey-level dilation (a local
maximum, wider than any pen stroke) followed by a median blur estimates the paper's brightness
everywhere; dividing by it flattens shadows, gradients and tinted paper to white while ink keeps
its contrast. Binarisation is Sauvola (local mean and deviation, computed with box filters) AND a
global ceiling from Otsu: a pixel is ink only when it is locally dark *and* dark overall, which
keeps the faint guilloche or dotted security backgrounds of bank documents out of the ink mask.

>>> import numpy as np
>>> page = np.full((200, 300), 230, np.uint8); page[90:110, 50:250] = 40
>>> ink = binarize(correct_illumination(page))
>>> int(ink[100, 150]), int(ink[20, 20])
(255, 0)
"""

from __future__ import annotations

import cv2
import numpy as np

SAUVOLA_K = 0.2
SAUVOLA_R = 128.0
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
    background = np.maximum(background, 1).astype(np.float32)
    corrected = gray.astype(np.float32) * (255.0 / background)
    return np.clip(corrected, 0, 255).astype(np.uint8)


def sauvola_threshold(gray: np.ndarray, window: int) -> np.ndarray:
    """Per-pixel Sauvola threshold m * (1 + k (s / R - 1)), from box-filtered moments."""
    g = gray.astype(np.float32)
    mean = cv2.boxFilter(g, cv2.CV_32F, (window, window), borderType=cv2.BORDER_REFLECT)
    sq = cv2.boxFilter(g * g, cv2.CV_32F, (window, window), borderType=cv2.BORDER_REFLECT)
    std = np.sqrt(np.maximum(sq - mean * mean, 0))
    return mean * (1.0 + SAUVOLA_K * (std / SAUVOLA_R - 1.0))


def binarize(gray: np.ndarray, dpi: int | None = None) -> np.ndarray:
    """Ink mask (uint8, 255 = ink) of an illumination-corrected gray page."""
    window = _odd((dpi or 300) / 300 * 31)
    otsu, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ceiling = float(np.clip(otsu, *INK_CEILING))
    ink = (gray.astype(np.float32) < sauvola_threshold(gray, window)) & (gray < ceiling)
    return ink.astype(np.uint8) * 255
