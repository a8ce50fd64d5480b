"""Scan effects: the document lands on a scanner bed, a little rotated and skewed, then picks up
uneven light, blur, sensor noise, JPEG artefacts, and maybe loses its colour.

The geometry is one affine map from document pixels to image pixels; truth boxes go through the
same map (:func:`map_box`), so they stay exact under rotation and skew.

>>> import numpy as np
>>> from hdr.synth.scan import ScanParams, scan
>>> params = ScanParams.draw(np.random.default_rng(0), clean=True)
>>> image, m = scan(np.full((100, 200, 3), 255, np.uint8), params, np.random.default_rng(0))
>>> image.shape
(100, 200, 3)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class ScanParams:
    angle: float  # degrees, counter-clockwise
    shear: float  # x per y
    margin: float  # scanner bed around the document, as a fraction of its width
    bed: int  # grey level of the scanner bed
    light: float  # strength of the uneven lighting (0 = even)
    blur: float  # Gaussian sigma in pixels (0 = sharp)
    noise: float  # sensor noise sigma in grey levels
    jpeg_quality: int | None  # an earlier JPEG generation, or None
    mode: str  # "RGB" | "L" | "1" (bilevel, written as G4 TIFF)

    @classmethod
    def draw(
        cls,
        rng: np.random.Generator,
        clean: bool = False,
        bilevel_ok: bool = False,
    ) -> ScanParams:
        if clean:
            return cls(0.0, 0.0, 0.0, 255, 0.0, 0.0, 0.0, None, "RGB")
        big_turn = rng.random() < 0.4
        angle = rng.uniform(-5, 5) if big_turn else rng.normal(0, 0.6)
        mode = "RGB" if rng.random() < 0.6 else "L"
        if bilevel_ok and rng.random() < 0.35:
            mode = "1"
        return cls(
            angle=float(np.clip(angle, -5, 5)),
            shear=float(rng.uniform(-0.03, 0.03)) if rng.random() < 0.5 else 0.0,
            margin=float(rng.uniform(0.0, 0.04)),
            bed=int(rng.choice([250, 240, 225, 90])) if rng.random() < 0.7 else 255,
            light=float(rng.uniform(0.0, 0.2)) if rng.random() < 0.6 else 0.0,
            blur=float(rng.uniform(0.4, 1.3)) if rng.random() < 0.5 else 0.0,
            noise=float(rng.uniform(0.8, 3.0) if rng.random() < 0.6 else rng.uniform(3.0, 7.0)),
            jpeg_quality=int(rng.integers(30, 75)) if rng.random() < 0.3 else None,
            mode=mode,
        )


def _affine(w: int, h: int, p: ScanParams) -> tuple[np.ndarray, tuple[int, int]]:
    """The document -> image map and the image size that holds the turned document."""
    a = np.deg2rad(p.angle)
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    lin = rot @ np.array([[1.0, p.shear], [0.0, 1.0]])
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64) @ lin.T
    pad = p.margin * w
    offset = -corners.min(axis=0) + pad
    size = np.ceil(corners.max(axis=0) - corners.min(axis=0) + 2 * pad).astype(int)
    m = np.hstack([lin, offset[:, None]])
    return m, (int(size[0]), int(size[1]))


def map_box(m: np.ndarray, box: tuple[float, ...], size: tuple[int, int]) -> list[int]:
    """The axis-aligned pixel box, clipped to the image, that holds ``box`` mapped by ``m``."""
    x0, y0, x1, y1 = (float(v) for v in box)
    pts = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]]) @ m.T
    lo = np.floor(pts.min(axis=0))
    hi = np.ceil(pts.max(axis=0))
    w, h = size
    return [
        int(np.clip(lo[0], 0, w)),
        int(np.clip(lo[1], 0, h)),
        int(np.clip(hi[0], 0, w)),
        int(np.clip(hi[1], 0, h)),
    ]


def scan(
    doc: np.ndarray,
    p: ScanParams,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Scan an RGB uint8 document: returns (image, 2x3 affine map document -> image).

    The image is HxWx3 RGB for mode RGB, HxW for modes L and 1 (bilevel is 0/255 uint8 here).
    """
    h, w = doc.shape[:2]
    m, size = _affine(w, h, p)
    bed = (p.bed, p.bed, p.bed)
    if np.allclose(m, [[1, 0, 0], [0, 1, 0]]):
        img = doc.copy()
    else:
        img = cv2.warpAffine(
            doc, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=bed
        )
    if p.mode != "RGB":
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    if p.blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), p.blur)
    H, W = img.shape[:2]
    if p.light > 0 or p.noise > 0:
        out = img.astype(np.float32)
        if p.light > 0:  # a smooth ramp and a soft bright spot: lamp and lid never light evenly
            gx, gy = rng.uniform(-1, 1, 2)
            cx, cy = rng.uniform(0.2, 0.8, 2)
            ys = np.linspace(0, 1, 16, dtype=np.float32)[:, None]
            xs = np.linspace(0, 1, 32, dtype=np.float32)[None, :]
            field = gx * (xs - 0.5) + gy * (ys - 0.5) - ((xs - cx) ** 2 + (ys - cy) ** 2)
            field = (field - field.max()) / max(float(np.ptp(field)), 1e-6)  # -1 .. 0
            gain = cv2.resize(1.0 + p.light * field, (W, H), interpolation=cv2.INTER_LINEAR)
            out *= gain if out.ndim == 2 else gain[:, :, None]
        if p.noise > 0:
            noise = rng.standard_normal((H, W), dtype=np.float32)
            noise *= np.float32(p.noise)
            out += noise if out.ndim == 2 else noise[:, :, None]
        np.clip(out, 0, 255, out=out)
        img = out.astype(np.uint8)
    if p.jpeg_quality is not None:
        code = cv2.IMWRITE_JPEG_QUALITY
        ok, buf = cv2.imencode(".jpg", img, [code, p.jpeg_quality])
        if ok:
            flag = cv2.IMREAD_GRAYSCALE if img.ndim == 2 else cv2.IMREAD_COLOR
            img = np.asarray(cv2.imdecode(buf, flag))
    if p.mode == "1":
        img = np.where(img < 150, 0, 255).astype(np.uint8)
    return img, m
