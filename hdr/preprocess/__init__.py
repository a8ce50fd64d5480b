"""Preprocess a decoded page: grayscale, scale, illumination correction, binarise, deskew, quality.

>>> import numpy as np
>>> from hdr.config import PipelineConfig
>>> from hdr.types import Page
>>> page = Page(index=0, image=np.full((600, 1400), 235, np.uint8), dpi=200)
>>> prepared = prepare_page(page, PipelineConfig())
>>> prepared.gray.shape, prepared.flags
((600, 1400), ('quality_too_light',))
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from hdr.config import PipelineConfig, PreprocessConfig
from hdr.preprocess.binarize import binarize, correct_illumination, to_gray
from hdr.preprocess.deskew import MIN_CORRECTION_DEG, estimate_skew, rotate
from hdr.preprocess.quality import quality_flags
from hdr.types import Page

__all__ = ["PreparedPage", "prepare_page"]

# Pages scanned finer than cfg.preprocess.max_dpi are brought down to its target_dpi (see
# hdr.config.PreprocessConfig). Pages of unknown dpi are only shrunk when they are huge.
MAX_SIDE_UNKNOWN_DPI = 6000


@dataclass(frozen=True)
class PreparedPage:
    """A page ready for field location: deskewed gray, its ink mask, and quality flags."""

    index: int  # page number in the source, 0-based
    gray: np.ndarray  # HxW uint8, deskewed, illumination-corrected, dark ink on light paper
    ink: np.ndarray  # HxW uint8 {0,255}, 255 = ink (binarised gray), same geometry as gray
    dpi: int | None  # from the file or the PDF raster dpi; None when unknown
    skew_deg: float  # rotation that was removed (counter-clockwise, degrees)
    flags: tuple[str, ...]  # quality_too_dark, quality_too_light, quality_blurred, ...


def _scale_down(
    gray: np.ndarray, dpi: int | None, cfg: PreprocessConfig
) -> tuple[np.ndarray, int | None]:
    h, w = gray.shape
    if dpi is not None and dpi > cfg.max_dpi:
        factor = cfg.target_dpi / dpi
        new_dpi: int | None = cfg.target_dpi
    elif dpi is None and max(h, w) > MAX_SIDE_UNKNOWN_DPI:
        factor = MAX_SIDE_UNKNOWN_DPI / max(h, w)
        new_dpi = None
    else:
        return gray, dpi
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), new_dpi


def prepare_page(page: Page, cfg: PipelineConfig) -> PreparedPage:
    """Turn a decoded :class:`hdr.types.Page` into a :class:`PreparedPage`."""
    raw = to_gray(page.image)
    raw, dpi = _scale_down(raw, page.dpi, cfg.preprocess)
    gray = correct_illumination(raw, dpi)
    ink = binarize(gray, dpi)
    skew = estimate_skew(ink)
    if abs(skew) >= MIN_CORRECTION_DEG:
        gray = rotate(gray, -skew)
        # Rotating the mask (and re-thresholding its smoothed edges) matches binarising the
        # rotated page to within a pixel of stroke edge, at a third of the cost.
        _, ink = cv2.threshold(rotate(ink, -skew, fill=0), 127, 255, cv2.THRESH_BINARY)
    else:
        skew = 0.0
    flags = quality_flags(raw, gray, ink, dpi, cfg.quality)
    return PreparedPage(index=page.index, gray=gray, ink=ink, dpi=dpi, skew_deg=skew, flags=flags)
