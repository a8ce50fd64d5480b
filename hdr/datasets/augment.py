"""Glyph augmentation on ink images (uint8, ink > 0 on 0, any size), before normalisation.

Each function takes a numpy ``Generator`` so a sample is a pure function of its seed. The
chain in :func:`augment_ink` mimics what scanned handwriting does to a glyph: slant, rotation
and uneven scale (affine), wobbly strokes (elastic), pens of other widths (dilate / erode),
soft scans (blur) and a box edge cutting or touching the glyph (clip).

>>> import numpy as np
>>> from hdr.datasets.augment import AugmentConfig, augment_ink
>>> ink = np.zeros((40, 20), np.uint8); ink[5:35, 8:12] = 255
>>> out = augment_ink(ink, np.random.default_rng(0), AugmentConfig())
>>> out.dtype, out.max() > 0
(dtype('uint8'), np.True_)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of each augmentation (probabilities are per sample)."""

    p_affine: float = 0.9
    max_rotation_deg: float = 12.0
    max_shear: float = 0.3  # horizontal shear factor: handwriting slant
    scale_range: tuple[float, float] = (0.8, 1.15)  # per axis, so the aspect ratio varies too
    p_elastic: float = 0.4
    elastic_alpha: float = 0.06  # displacement, as a fraction of the glyph's larger side
    elastic_sigma: float = 0.12  # smoothness, as a fraction of the glyph's larger side
    p_thicken: float = 0.35  # scanned cheque handwriting is often thicker than MNIST
    p_thin: float = 0.1
    p_blur: float = 0.2
    p_clip: float = 0.12  # a box edge cuts the glyph or runs along it
    # What segmentation leaves with a glyph on a real form (0 in the configs of older models):
    p_context: float = 0.0  # a cell border, a comb tick or a neighbour's stroke end touches it
    p_bleed: float = 0.0  # ink spreads: strokes much thicker, small loops close up
    p_break: float = 0.0  # a faded pen or a harsh threshold cuts a stroke


def pad(ink: np.ndarray, margin: int) -> np.ndarray:
    return cv2.copyMakeBorder(ink, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=0)


def affine(
    ink: np.ndarray,
    rng: np.random.Generator,
    max_rotation_deg: float = 12.0,
    max_shear: float = 0.3,
    scale_range: tuple[float, float] = (0.8, 1.15),
) -> np.ndarray:
    """Rotate, slant and scale each axis independently, on a canvas large enough to keep the ink."""
    h, w = ink.shape
    angle = np.deg2rad(rng.uniform(-max_rotation_deg, max_rotation_deg))
    shear = rng.uniform(-max_shear, max_shear)
    sx, sy = rng.uniform(*scale_range, size=2)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    mat = rot @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([sx, sy])
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64) - [w / 2, h / 2]
    moved = corners @ mat.T
    out_w = int(np.ceil(np.ptp(moved[:, 0]))) + 4
    out_h = int(np.ceil(np.ptp(moved[:, 1]))) + 4
    offset = np.array([out_w / 2, out_h / 2]) - mat @ np.array([w / 2, h / 2])
    m = np.hstack([mat, offset[:, None]]).astype(np.float32)
    return cv2.warpAffine(ink, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=0)


def elastic(
    ink: np.ndarray, rng: np.random.Generator, alpha: float = 0.06, sigma: float = 0.12
) -> np.ndarray:
    """Smooth random displacement field (Simard et al. 2003), scaled to the glyph's size."""
    h, w = ink.shape
    size = max(h, w)
    k = max(3, int(sigma * size) * 2 + 1)
    dx = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (k, k), 0)
    dy = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (k, k), 0)
    # Blurred uniform noise has a tiny spread: rescale so alpha is the typical displacement.
    scale = alpha * size / max(float(np.abs(dx).max()), float(np.abs(dy).max()), 1e-6)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(ink, xs + dx * scale, ys + dy * scale, cv2.INTER_LINEAR, borderValue=0)


def stroke_width(ink: np.ndarray, rng: np.random.Generator, thicker: bool) -> np.ndarray:
    """Dilate (a broader pen) or erode (a finer one) by a kernel sized to the glyph."""
    size = max(ink.shape)
    radius = int(rng.integers(1, max(1, size // 36) + 1))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    if thicker:
        return cv2.dilate(ink, kernel)
    thinned = cv2.erode(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    # Never erode a stroke away: keep the original when too little ink would remain.
    return thinned if np.count_nonzero(thinned) > 0.45 * np.count_nonzero(ink) else ink


def blur(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    sigma = rng.uniform(0.4, 0.8) * max(ink.shape) / 56
    return cv2.GaussianBlur(ink, (0, 0), sigmaX=max(sigma, 0.3))


def clip_by_box_edge(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A box edge meets the glyph: crop a sliver off one side, or draw a straight line there.

    The crop is what a cell border does to a digit written over it; the line is what box-line
    removal leaves behind when it misses a bit. Both keep the glyph's label.
    """
    out = ink.copy()
    ys, xs = np.nonzero(out)
    if len(ys) == 0:
        return out
    y0, y1, x0, x1 = ys.min(), ys.max(), xs.min(), xs.max()
    side = int(rng.integers(4))
    if rng.random() < 0.5:  # partial crop: lose up to 12 % of the glyph on one side
        frac = rng.uniform(0.04, 0.12)
        if side == 0:
            out[: y0 + int(frac * (y1 - y0)) + 1] = 0
        elif side == 1:
            out[y1 - int(frac * (y1 - y0)) :] = 0
        elif side == 2:
            out[:, : x0 + int(frac * (x1 - x0)) + 1] = 0
        else:
            out[:, x1 - int(frac * (x1 - x0)) :] = 0
        return out if np.count_nonzero(out) else ink
    # A line along (or just inside) one border, a little longer than the glyph, thinner
    # than the strokes: horizontal lines at top or bottom only, since a vertical line beside
    # a digit would make it another glyph (a '1' next to it) rather than a clipped one.
    thickness = int(rng.integers(1, max(2, (y1 - y0) // 25) + 1))
    y = (
        int(y1 - rng.uniform(0, 0.08) * (y1 - y0))
        if side % 2
        else int(y0 + rng.uniform(0, 0.08) * (y1 - y0))
    )
    ext = int(0.15 * (x1 - x0))
    cv2.line(out, (max(0, x0 - ext), y), (min(out.shape[1] - 1, x1 + ext), y), 255, thickness)
    return out


def _ink_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(ink)
    if len(ys) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def context_marks(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Marks from around the glyph that stay attached to it after segmentation; label kept.

    One of: a thin cell border running the full height past one side (touching or cutting the
    glyph's edge), a comb tick rising from below into the glyph, a printed rule under it, or the
    end of a neighbour's stroke poking in at one side. All are thinner or smaller than the
    glyph's own strokes, as on a scanned form after line removal missed a bit.
    """
    box = _ink_box(ink)
    if box is None:
        return ink
    x0, y0, x1, y1 = box
    h, w = y1 - y0 + 1, x1 - x0 + 1
    margin = max(4, h // 4)
    out = pad(ink, margin)
    x0, y0, x1, y1 = x0 + margin, y0 + margin, x1 + margin, y1 + margin
    thick = int(rng.integers(1, max(2, h // 28) + 1))
    kind = int(rng.integers(4))
    if kind == 0:  # a cell border beside the glyph, longer than it
        x = (
            x0 + int(rng.uniform(0.0, 0.08) * w)
            if rng.random() < 0.5
            else x1 - int(rng.uniform(0.0, 0.08) * w)
        )
        top = y0 - int(rng.uniform(0.03, 0.15) * h)
        bottom = y1 + int(rng.uniform(0.03, 0.15) * h)
        cv2.line(out, (x, max(0, top)), (x, min(out.shape[0] - 1, bottom)), 255, thick)
    elif kind == 1:  # a comb tick rising from below into the glyph
        x = int(rng.uniform(x0 + 0.1 * w, x1 - 0.1 * w)) if w > 4 else x0
        top = y1 - int(rng.uniform(0.1, 0.35) * h)
        cv2.line(out, (x, top), (x, min(out.shape[0] - 1, y1 + h // 6)), 255, thick)
        if rng.random() < 0.5:  # and the rule it stands on
            yb = min(out.shape[0] - 1, y1 + int(rng.uniform(0.0, 0.15) * h))
            cv2.line(
                out, (max(0, x0 - w // 6), yb), (min(out.shape[1] - 1, x1 + w // 6), yb), 255, thick
            )
    elif kind == 2:  # a rule under the glyph, touching its lowest strokes
        yb = y1 - int(rng.uniform(0.0, 0.06) * h)
        cv2.line(
            out, (max(0, x0 - w // 8), yb), (min(out.shape[1] - 1, x1 + w // 8), yb), 255, thick
        )
    else:  # a neighbour's stroke end poking in at one side
        side = 1 if rng.random() < 0.5 else -1
        xa = x1 + int(0.12 * w) if side > 0 else x0 - int(0.12 * w)
        xb = (
            x1 - int(rng.uniform(0.0, 0.12) * w)
            if side > 0
            else x0 + int(rng.uniform(0.0, 0.12) * w)
        )
        ya, yb = (int(rng.uniform(y0, y1)) for _ in range(2))
        cv2.line(out, (xa, ya), (xb, yb), 255, max(1, thick + int(rng.integers(0, 2))))
    return out


def bleed(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A pen that soaks the paper: strokes two to three times as broad, small holes closing."""
    box = _ink_box(ink)
    if box is None:
        return ink
    size = max(box[2] - box[0], box[3] - box[1]) + 1
    radius = max(1, int(size * rng.uniform(0.035, 0.07)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(pad(ink, radius + 1), kernel)


def break_strokes(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One to three thin gaps across the strokes, as a faded pen or a harsh threshold leaves."""
    box = _ink_box(ink)
    if box is None:
        return ink
    out = ink.copy()
    x0, y0, x1, y1 = box
    size = max(x1 - x0, y1 - y0) + 1
    for _ in range(int(rng.integers(1, 4))):
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        angle = rng.uniform(0, np.pi)
        half = size * 0.12
        dx, dy = np.cos(angle) * half, np.sin(angle) * half
        gap = max(1, int(size * rng.uniform(0.02, 0.05)))
        p0 = (int(cx - dx), int(cy - dy))
        p1 = (int(cx + dx), int(cy + dy))
        cv2.line(out, p0, p1, 0, gap)
    return out if np.count_nonzero(out) > 0.6 * np.count_nonzero(ink) else ink


def augment_ink(ink: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Apply the augmentation chain of ``cfg`` to one ink image; returns a new uint8 image."""
    out = pad(ink, max(2, max(ink.shape) // 8))
    if rng.random() < cfg.p_affine:
        out = affine(out, rng, cfg.max_rotation_deg, cfg.max_shear, cfg.scale_range)
    if rng.random() < cfg.p_elastic:
        out = elastic(out, rng, cfg.elastic_alpha, cfg.elastic_sigma)
    r = rng.random()
    if r < cfg.p_thicken:
        out = stroke_width(out, rng, thicker=True)
    elif r < cfg.p_thicken + cfg.p_thin:
        out = stroke_width(out, rng, thicker=False)
    if rng.random() < cfg.p_blur:
        out = blur(out, rng)
    if rng.random() < cfg.p_clip:
        out = clip_by_box_edge(out, rng)
    # Drawn last, and only when asked for, so older configs produce the very same samples.
    if cfg.p_bleed and rng.random() < cfg.p_bleed:
        out = bleed(out, rng)
    elif cfg.p_break and rng.random() < cfg.p_break:
        out = break_strokes(out, rng)
    if cfg.p_context and rng.random() < cfg.p_context:
        out = context_marks(out, rng)
    return out


def add_noise(glyph: np.ndarray, rng: np.random.Generator, amount: float = 0.08) -> np.ndarray:
    """Mild Gaussian noise and a few specks on a normalised float32 glyph, clipped to [0, 1]."""
    out = glyph + rng.normal(0.0, amount * rng.uniform(0.2, 1.0), glyph.shape).astype(np.float32)
    n_specks = int(rng.integers(0, 4))
    if n_specks:
        idx = rng.integers(0, glyph.size, n_specks)
        out.reshape(-1)[idx] = rng.uniform(0.3, 1.0, n_specks)
    return np.clip(out, 0.0, 1.0).astype(np.float32)
