"""A digit as the reading pipeline sees it on a scanned page: written, scanned, read back.

MNIST digits are clean 20 px strokes; on a page the same digit is redrawn with a pen of the
writer's width and slant, 50-130 px tall, scanned with blur, noise and JPEG, then binarised and
shaded by the pipeline (:mod:`hdr.segment`). :func:`document_glyph` takes a digit image through
that whole path, with the same functions the synthetic documents and the reader use, so the model
learns the glyphs it will be given, not only MNIST's. Only training images go through it (MNIST
train split, rendered fonts); the synthetic benchmark documents use the MNIST test split.

>>> import numpy as np
>>> from hdr.datasets.document import document_glyph
>>> img = np.zeros((28, 28), np.uint8); img[4:24, 12:16] = 255
>>> document_glyph(img, np.random.default_rng(0)).shape
(28, 28)
"""

from __future__ import annotations

import cv2
import numpy as np

from hdr.classify.normalize import SIZE, normalize_glyph
from hdr.segment.binarize import binarize_crop
from hdr.segment.segment import ink_level

WORK_HEIGHT = 56  # px: see document_glyph
MIN_PART = 0.15  # pieces smaller than this share of the largest are specks the reader drops


def _fit_height(ink: np.ndarray, height: int) -> np.ndarray:
    ys, xs = np.nonzero(ink > 40)
    if len(ys) == 0:
        return np.zeros((max(height, 1), 1), np.uint8)
    ink = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    scale = height / ink.shape[0]
    size = (max(1, round(ink.shape[1] * scale)), max(1, height))
    return cv2.resize(ink, size, interpolation=cv2.INTER_LINEAR)


def _pen(ink: np.ndarray, pen_px: float) -> np.ndarray:
    """Thin or thicken the strokes towards ``pen_px``; returns ink alpha in [0, 1]."""
    mask = (ink > 110).astype(np.uint8)
    area = int(mask.sum())
    outline = area - int(cv2.erode(mask, np.ones((3, 3), np.uint8)).sum())
    width = 2.0 * area / max(outline, 1) if area else pen_px
    r = round(abs(pen_px - width) / 2)
    if r >= 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        ink = cv2.dilate(ink, kernel) if pen_px > width else cv2.erode(ink, kernel)
    return np.clip((ink.astype(np.float32) / 255.0 - 0.22) / 0.45, 0.0, 1.0)


def _slant(alpha: np.ndarray, k: float) -> np.ndarray:
    h, w = alpha.shape
    extra = int(abs(k) * h) + 1
    shift = extra if k > 0 else 0
    mat = np.array([[1.0, -k, shift], [0.0, 1.0, 0.0]], np.float32)
    return cv2.warpAffine(alpha, mat, (w + extra, h), flags=cv2.INTER_LINEAR)


def _keep_main(mask: np.ndarray) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        (mask > 0).astype(np.uint8), connectivity=8
    )
    if n <= 2:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.zeros(n, bool)
    keep[1:] = areas >= MIN_PART * areas.max()
    return (keep[labels] * 255).astype(np.uint8)


def scan_like(alpha: np.ndarray, rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
    """Ink alpha on paper, through scanner blur, noise and maybe JPEG: a uint8 gray crop."""
    pad = max(3, alpha.shape[0] // 5)
    alpha = cv2.copyMakeBorder(alpha, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    paper = rng.uniform(200, 250)
    ink = rng.uniform(20, 140)
    gray: np.ndarray = (paper - (paper - ink) * alpha).astype(np.float32)
    if rng.random() < 0.7:
        gray = np.asarray(cv2.GaussianBlur(gray, (0, 0), max(0.3, rng.uniform(0.4, 1.6) * scale)))
    gray = gray + rng.normal(0, rng.uniform(0, 10), gray.shape)
    out = np.clip(gray, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 90))])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return out


def read_like_pipeline(gray: np.ndarray) -> np.ndarray:
    """Binarise, drop specks and shade as :mod:`hdr.segment` does; a normalised glyph."""
    mask = _keep_main(binarize_crop(gray))
    if not mask.any():
        return np.zeros((SIZE, SIZE), np.float32)
    level = ink_level(gray, mask)
    grown = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    shaded = np.where(grown > 0, level, 0).astype(np.uint8)
    shaded = np.maximum(shaded, (mask > 0).astype(np.uint8) * 128)
    return normalize_glyph(shaded)


def document_glyph(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``image``: a digit, white ink on black (an MNIST image, any size). A 28 x 28 glyph.

    The page is drawn at most :data:`WORK_HEIGHT` px tall (pen and blur scaled alike): the
    glyph ends up 20 px tall anyway, and a full 300 dpi digit costs four times as much.
    """
    dpi = float(rng.uniform(150, 300))
    height = max(12, int(dpi * rng.uniform(0.2, 0.42)))
    pen_px = max(1.6, rng.uniform(0.3, 0.7) * dpi / 25.4)
    scale = min(1.0, WORK_HEIGHT / height)
    alpha = _pen(_fit_height(np.asarray(image, np.uint8), round(height * scale)), pen_px * scale)
    alpha = _slant(alpha, float(rng.uniform(-0.2, 0.25)))
    return read_like_pipeline(scan_like(alpha, rng, scale))
