"""Glyph normalisation shared by training and reading: the model sees glyphs only through here.

MNIST convention: the glyph's bounding box is scaled (aspect kept) so its longer side is 20 px,
placed in a 28 x 28 frame and shifted so its centre of mass is the frame's centre. Ink is white
(1.0) on black (0.0).

>>> import numpy as np
>>> from hdr.classify.normalize import normalize_glyph
>>> ink = np.zeros((40, 12), np.uint8); ink[5:35, 4:8] = 255   # a "1"
>>> normalize_glyph(ink).shape
(28, 28)
"""

from __future__ import annotations

import cv2
import numpy as np

SIZE = 28
BOX = 20


def normalize_glyph(ink: np.ndarray) -> np.ndarray:
    """Turn an ink mask or ink-intensity crop (ink > 0, any size) into a 28 x 28 float32 glyph."""
    img = np.asarray(ink)
    if img.dtype == np.bool_:
        img = img.astype(np.uint8) * 255
    elif img.dtype != np.uint8:
        img = np.clip(img.astype(np.float32) * (255.0 if img.max() <= 1.0 else 1.0), 0, 255)
        img = img.astype(np.uint8)
    ys, xs = np.nonzero(img)
    out = np.zeros((SIZE, SIZE), np.float32)
    if len(ys) == 0:
        return out
    img = img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = img.shape
    scale = BOX / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(img, (nw, nh), interpolation=interp).astype(np.float32) / 255.0
    total = float(small.sum())
    if total <= 0:
        return out
    cy = float((small.sum(axis=1) * np.arange(nh)).sum()) / total
    cx = float((small.sum(axis=0) * np.arange(nw)).sum()) / total
    top = round(SIZE / 2 - cy - 0.5)
    left = round(SIZE / 2 - cx - 0.5)
    top = min(max(top, 0), SIZE - nh)
    left = min(max(left, 0), SIZE - nw)
    out[top : top + nh, left : left + nw] = small
    return out


def normalize_batch(crops: list[np.ndarray]) -> np.ndarray:
    """Stack normalised glyphs into an N x 28 x 28 float32 array."""
    if not crops:
        return np.zeros((0, SIZE, SIZE), np.float32)
    return np.stack([normalize_glyph(c) for c in crops])


SHIFTS = ((1, 0), (-1, 0), (0, 1), (0, -1))  # (rows, columns): down, up, right, left


def shifted_views(glyphs: np.ndarray) -> np.ndarray:
    """The glyphs moved one pixel down, up, right and left: 4N x 28 x 28, in that order.

    Pixels shifted in are blank. A normalised glyph's ink stays inside its 20-pixel box, so a
    one-pixel move loses none of it. Where a glyph falls between two shapes, the classifier's
    answer changes with such moves, and averaging the views shows the doubt
    (``model.average_shifts`` in configs/pipeline.yaml).

    >>> g = np.zeros((1, SIZE, SIZE), np.float32); g[0, 10, 12] = 1.0
    >>> [tuple(int(v) for v in np.argwhere(v)[0]) for v in shifted_views(g)]
    [(11, 12), (9, 12), (10, 13), (10, 11)]
    """
    x = np.asarray(glyphs, np.float32)
    out = np.zeros((len(SHIFTS), *x.shape), np.float32)
    for k, (dy, dx) in enumerate(SHIFTS):
        dst_y = slice(max(dy, 0), SIZE + min(dy, 0))
        src_y = slice(max(-dy, 0), SIZE + min(-dy, 0))
        dst_x = slice(max(dx, 0), SIZE + min(dx, 0))
        src_x = slice(max(-dx, 0), SIZE + min(-dx, 0))
        out[k][:, dst_y, dst_x] = x[:, src_y, src_x]
    return out.reshape(-1, SIZE, SIZE)
