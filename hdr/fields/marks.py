"""Printed currency marks (₹, $, €, £) near an amount box, found by shape.

A mark is one compact printed component; it is compared with the same mark rendered in the
DejaVu fonts that Debian ships (every style of the family draws ₹), after both are brought to a
common size. The score is a normalised correlation in [-1, 1]; a mark counts from
:data:`MARK_MIN_SCORE` on.

>>> from hdr.fields.marks import render_mark, mark_score
>>> round(mark_score(render_mark("₹", 0) > 0), 2) >= MARK_MIN_SCORE
True
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from hdr.types import Box

CURRENCY_MARKS = ("₹", "$", "€", "£")
MARK_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
)
NORM = 32  # side of the normalised glyph
MARK_MIN_SCORE = 0.72  # handwritten digits reach ~0.69 (a "1" looks like £); printed ₹ ~0.8


def _fonts() -> list[Path]:
    return [Path(p) for p in MARK_FONTS if Path(p).exists()]


def render_mark(mark: str, font_index: int, size: int = 64) -> np.ndarray:
    """``mark`` drawn in the ``font_index``-th available font: uint8, 255 = ink, cropped."""
    fonts = _fonts()
    font = ImageFont.truetype(str(fonts[font_index % len(fonts)]), size)
    img = Image.new("L", (size * 2, size * 2), 0)
    ImageDraw.Draw(img).text((size // 2, size // 4), mark, fill=255, font=font)
    arr = np.asarray(img)
    ys, xs = np.nonzero(arr > 127)
    return (arr[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] > 127).astype(np.uint8) * 255


def normalise_glyph(mask: np.ndarray) -> np.ndarray:
    """A binary glyph centred in a NORM x NORM square, aspect kept, blurred a little, float32."""
    h, w = mask.shape
    side = max(h, w)
    square = np.zeros((side, side), np.uint8)
    y0, x0 = (side - h) // 2, (side - w) // 2
    square[y0 : y0 + h, x0 : x0 + w] = (mask > 0).astype(np.uint8) * 255
    small = cv2.resize(square, (NORM, NORM), interpolation=cv2.INTER_AREA).astype(np.float32)
    return cv2.GaussianBlur(small, (3, 3), 0.8)


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / den if den > 0 else 0.0


@lru_cache(maxsize=1)
def _references() -> tuple[tuple[str, np.ndarray], ...]:
    refs: list[tuple[str, np.ndarray]] = []
    for mark in CURRENCY_MARKS:
        for i in range(len(_fonts())):
            refs.append((mark, normalise_glyph(render_mark(mark, i))))
    return tuple(refs)


def classify_mark(mask: np.ndarray) -> tuple[str, float]:
    """The currency mark a binary glyph looks most like, and the score."""
    glyph = normalise_glyph(mask)
    best = max(((m, _ncc(glyph, ref)) for m, ref in _references()), key=lambda t: t[1])
    return best


def mark_score(mask: np.ndarray) -> float:
    """How much a binary glyph looks like any currency mark (normalised correlation)."""
    return classify_mark(mask)[1]


def find_mark(ink: np.ndarray, region: Box, min_h: int, max_h: int) -> tuple[str, float, Box]:
    """The best currency-mark-like component whose box lies in ``region`` (page px).

    Returns ``(mark, score, box)``; score 0 and an empty box when no component fits the size.
    """
    x0, y0, x1, y1 = (max(0, v) for v in region)
    patch = ink[y0:y1, x0:x1]
    if patch.size == 0:
        return "", 0.0, (0, 0, 0, 0)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        (patch > 0).astype(np.uint8), connectivity=8
    )
    best: tuple[str, float, Box] = ("", 0.0, (0, 0, 0, 0))
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if not min_h <= h <= max_h or not 0.25 * h <= w <= 1.2 * h:
            continue
        if x == 0 or y == 0 or x + w >= patch.shape[1] or y + h >= patch.shape[0]:
            continue  # cut by the region: a rule or a stroke from outside, not a mark
        mark, score = classify_mark(labels[y : y + h, x : x + w] == i)
        if score > best[1]:
            best = (mark, score, (x0 + x, y0 + y, x0 + x + w, y0 + y + h))
    return best
