"""Quality checks that flag a page instead of guessing: too dark, too light, blurred, too small.

Each check measures one thing a person would see, with its threshold in ``quality:`` of
configs/pipeline.yaml. A flagged page is still read, but it is never auto-accepted.

- ``quality_too_dark``: mean brightness of the page *as scanned* (before illumination correction,
  which would hide it) under ``too_dark_mean``.
- ``quality_too_light``: ink on less than ``too_light_ink_fraction`` of the page: washed out, or
  blank.
- ``quality_blurred``: variance of the Laplacian under ``blur_laplacian_var``, measured only in
  a band around the ink (blank paper would make any page look blurred) at 150 dpi equivalent, so
  the figure does not depend on the scan resolution.
- ``quality_too_small``: under 100 dpi, or (dpi unknown) a short side under 300 pixels: digits
  would be a dozen pixels tall.
"""

from __future__ import annotations

import cv2
import numpy as np

from hdr.config import QualityConfig

MIN_DPI = 100
MIN_SHORT_SIDE_PX = 300
_BLUR_DPI = 150


def quality_flags(
    raw_gray: np.ndarray,
    gray: np.ndarray,
    ink: np.ndarray,
    dpi: int | None,
    cfg: QualityConfig,
) -> tuple[str, ...]:
    """The quality flags of a page (empty when the page looks fine)."""
    flags: list[str] = []
    if float(raw_gray.mean()) < cfg.too_dark_mean:
        flags.append("quality_too_dark")
    ink_fraction = float(np.count_nonzero(ink)) / max(ink.size, 1)
    if ink_fraction < cfg.too_light_ink_fraction:
        flags.append("quality_too_light")
    elif blur_measure(gray, ink, dpi) < cfg.blur_laplacian_var:
        flags.append("quality_blurred")
    if (dpi is not None and dpi < MIN_DPI) or (dpi is None and min(gray.shape) < MIN_SHORT_SIDE_PX):
        flags.append("quality_too_small")
    return tuple(flags)


def blur_measure(gray: np.ndarray, ink: np.ndarray, dpi: int | None) -> float:
    """Variance of the Laplacian near ink, at 150 dpi equivalent (higher is sharper)."""
    scale = min(1.0, _BLUR_DPI / dpi) if dpi else min(1.0, 1200 / max(gray.shape))
    if scale < 1.0:
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        ink = cv2.resize(ink, size, interpolation=cv2.INTER_NEAREST)
    band = cv2.dilate(ink, np.ones((5, 5), np.uint8)) > 0
    if not band.any():
        return 0.0
    laplacian = cv2.Laplacian(gray, cv2.CV_32F)
    return float(laplacian[band].var())
