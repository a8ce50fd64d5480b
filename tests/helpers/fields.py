"""Draw field crops for segmentation and recognition tests: glyphs in a printed box.

Digits are real handwriting when the caller passes MNIST images (white on black, 28 x 28);
marks (``.`` ``,`` ``-`` ``/`` ``*``) are drawn with OpenCV at the size and place a pen puts them:
a dot on the baseline, a dash at mid height, a slash taller than the digits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

PAPER = 235
INK = 40


@dataclass
class Drawn:
    """A drawn field: the gray crop and the box of every glyph drawn, left to right."""

    image: np.ndarray
    boxes: list[tuple[int, int, int, int]]


def blank(height: int, width: int, border: bool = True, cells: int = 0) -> np.ndarray:
    """Paper with an optional printed box (2 px rules, 6 px inside the crop) and cell lines."""
    img = np.full((height, width), PAPER, np.uint8)
    if border:
        cv2.rectangle(img, (6, 6), (width - 7, height - 7), 70, 2)
    if cells:
        step = (width - 12) / cells
        for i in range(1, cells):
            x = round(6 + i * step)
            cv2.line(img, (x, 6), (x, height - 7), 70, 2)
    return img


def five_cells() -> tuple[np.ndarray, tuple[tuple[int, int, int, int], ...], float, int]:
    """An 80 x 250 box of five cells: the image, the cell boxes, the cell pitch and the x of
    the line between cells 1 and 2 (where the tests write over a line)."""
    img = blank(80, 250, cells=5)
    step = (250 - 12) / 5
    cells = tuple((round(6 + i * step), 6, round(6 + (i + 1) * step), 74) for i in range(5))
    return img, cells, step, round(6 + 2 * step)


def paste_digit(
    img: np.ndarray, digit: np.ndarray, x: int, base: int, height: int
) -> tuple[int, int, int, int]:
    """Paste a white-on-black 28 x 28 digit as dark ink, ``height`` px tall, bottom at ``base``."""
    ys, xs = np.nonzero(digit > 30)
    crop = digit[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32) / 255.0
    scale = height / crop.shape[0]
    w = max(1, round(crop.shape[1] * scale))
    big = cv2.resize(crop, (w, height), interpolation=cv2.INTER_LINEAR)
    y0 = base - height
    region = img[y0:base, x : x + w].astype(np.float32)
    img[y0:base, x : x + w] = np.minimum(region, PAPER - big * (PAPER - INK)).astype(np.uint8)
    return (x, y0, x + w, base)


def draw_mark(
    img: np.ndarray, mark: str, x: int, base: int, height: int, pen: int = 3
) -> tuple[int, int, int, int]:
    """Draw ``.`` ``,`` ``-`` ``/`` or ``*`` after ``x`` on a line of digits ``height`` tall."""
    if mark == ".":
        r = max(2, pen // 2 + 1)
        cv2.circle(img, (x + r, base - r), r, INK, -1)
        return (x, base - 2 * r, x + 2 * r + 1, base + 1)
    if mark == ",":
        r = max(2, pen // 2 + 1)
        cv2.circle(img, (x + r + 2, base - r), r, INK, -1)
        cv2.line(img, (x + 2 * r + 1, base - r), (x + 1, base + height // 6), INK, max(1, pen - 1))
        return (x, base - 2 * r, x + 2 * r + 3, base + height // 6 + 1)
    if mark == "-":
        y = base - height // 2
        w = max(12, int(height * 0.55))
        cv2.line(img, (x, y), (x + w, y), INK, pen)
        return (x, y - pen, x + w + 1, y + pen)
    if mark == "/":
        w = int(height * 0.45)
        cv2.line(img, (x, base + height // 8), (x + w, base - height - height // 8), INK, pen)
        return (x, base - height - height // 8, x + w + 1, base + height // 8 + 1)
    if mark == "*":
        c = (x + height // 5, base - height // 2)
        r = height // 5
        for angle in (0, 60, 120):
            dx = round(r * np.cos(np.radians(angle)))
            dy = round(r * np.sin(np.radians(angle)))
            cv2.line(img, (c[0] - dx, c[1] - dy), (c[0] + dx, c[1] + dy), INK, 2)
        return (x, base - height // 2 - r, x + 2 * r + 1, base - height // 2 + r + 1)
    raise ValueError(f"no drawing for {mark!r}")


def draw_field(
    text: str,
    digits: dict[str, Sequence[np.ndarray]],
    *,
    height: int = 40,
    gap: int = 8,
    box: bool = True,
    rng: np.random.Generator | None = None,
) -> Drawn:
    """Write ``text`` (digits and marks) in a box; ``digits[d]`` holds images of digit ``d``."""
    rng = rng or np.random.default_rng(0)
    width = 30 + sum(height if ch.isdigit() else height // 2 + gap for ch in text) + gap * len(text)
    img = blank(height + 40, width, border=box)
    base = 20 + height
    x = 18
    boxes = []
    for ch in text:
        if ch.isdigit():
            pool = digits[ch]
            b = paste_digit(img, pool[int(rng.integers(len(pool)))], x, base, height)
        else:
            b = draw_mark(img, ch, x, base, height)
        boxes.append(b)
        x = b[2] + gap
    return Drawn(img, boxes)


def digit_pool(
    images: np.ndarray, labels: np.ndarray, per_digit: int = 50
) -> dict[str, list[np.ndarray]]:
    """The first ``per_digit`` images of every digit (MNIST convention)."""
    return {str(d): list(images[labels == d][:per_digit]) for d in range(10)}


def font_digits(thickness: int = 2) -> dict[str, list[np.ndarray]]:
    """Digits drawn with OpenCV's Hershey font, in the MNIST convention (no data needed)."""
    pool: dict[str, list[np.ndarray]] = {}
    for d in "0123456789":
        canvas = np.zeros((60, 50), np.uint8)
        cv2.putText(canvas, d, (5, 50), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 255, thickness)
        pool[d] = [canvas]
    return pool


def comb(height: int, width: int, cells: int) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A comb field: a baseline with short ticks between cells; returns the image and cells."""
    img = np.full((height, width), PAPER, np.uint8)
    base = height - 10
    step = (width - 20) / cells
    cv2.line(img, (10, base), (width - 10, base), 70, 2)
    boxes = []
    for i in range(cells + 1):
        x = round(10 + i * step)
        cv2.line(img, (x, base), (x, base - height // 4), 70, 2)
        if i < cells:
            boxes.append((x, 4, round(10 + (i + 1) * step), base))
    return img, boxes
