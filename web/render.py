"""Images for reviewers: a field crop with each glyph shaded by confidence, and the page
around a field with the field's box drawn on it.

>>> png = shaded_crop(field.crop_png, [(g.box, g.prob) for g in field.glyphs])
>>> png = page_with_box(document_path, page_index=0, box=(692, 202, 962, 286), cfg=cfg)

Shading: green above ``SURE`` (0.97), amber above ``UNSURE`` (0.90), red below, so the eye
goes straight to the digit the machine doubted. The page is prepared exactly as the pipeline
prepared it (deskewed), so the box, in the pipeline's page pixels, falls where it should.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from hdr.config import PipelineConfig
from hdr.errors import InputError, ReasonCode

SURE = 0.97
UNSURE = 0.90
PAGE_MAX_WIDTH = 1400
CROP_MIN_HEIGHT = 140  # small crops are scaled up so that the shading stays visible

# BGR
_GREEN = (80, 170, 40)
_AMBER = (0, 170, 240)
_RED = (40, 40, 220)


def confidence_class(prob: float) -> str:
    """``sure`` | ``unsure`` | ``doubtful``: the CSS class of a glyph's chip."""
    if prob >= SURE:
        return "sure"
    return "unsure" if prob >= UNSURE else "doubtful"


def _colour(prob: float) -> tuple[int, int, int]:
    return {"sure": _GREEN, "unsure": _AMBER, "doubtful": _RED}[confidence_class(prob)]


def _decode(png: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(ReasonCode.DECODE_FAILED, "the stored crop is not a readable PNG")
    return image


def _encode(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 image
        raise InputError(ReasonCode.INTERNAL, "cannot encode the image")
    return bytes(data)


def shaded_crop(png: bytes, glyphs: Sequence[tuple[Sequence[int], float]]) -> bytes:
    """The crop with a translucent tint and an outline per glyph, by confidence."""
    image = _decode(png)
    scale = max(1.0, CROP_MIN_HEIGHT / max(1, image.shape[0]))
    if scale > 1.0:
        size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
        image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    tint = image.copy()
    for box, prob in glyphs:
        x0, y0, x1, y1 = (round(v * scale) for v in box)
        cv2.rectangle(tint, (x0, y0), (x1, y1), _colour(prob), thickness=-1)
    shaded = cv2.addWeighted(tint, 0.28, image, 0.72, 0)
    for box, prob in glyphs:
        x0, y0, x1, y1 = (round(v * scale) for v in box)
        cv2.rectangle(shaded, (x0, y0), (x1, y1), _colour(prob), thickness=2)
    return _encode(shaded)


def page_with_box(
    path: Path,
    page_index: int,
    box: Sequence[int] | None,
    cfg: PipelineConfig,
    turn: int = 0,
    cut: Sequence[int] | None = None,
) -> bytes:
    """The prepared page ``page_index`` of the file at ``path``, the box outlined, as PNG.

    ``cut`` and ``turn``: the part of the prepared page the fields were located on and the
    clockwise turn it was read at (its result's reasons say: :func:`hdr.preprocess.extent.
    cropped_of`, :func:`hdr.preprocess.orient.turn_of`); boxes are in the pixels of the page
    as it was read, which is drawn.
    """
    from hdr.io import PageError, iter_pages, triage
    from hdr.preprocess import prepare_page
    from hdr.preprocess.orient import turn_image

    source = triage(path, cfg.limits)
    for page in iter_pages(source, cfg):
        if isinstance(page, PageError):
            if page.index == page_index:
                raise page.error
            continue
        if page.index != page_index:
            continue
        if cut is not None:  # the part of the prepared page the fields were found on
            x0, y0, x1, y1 = (int(v) for v in cut)
            whole = prepare_page(page, cfg)
            page = replace(page, image=whole.gray[y0:y1, x0:x1].copy(), dpi=whole.dpi)
        if turn:
            page = replace(page, image=turn_image(page.image, turn))
        gray = prepare_page(page, cfg).gray
        image = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
        if box is not None:
            x0, y0, x1, y1 = (int(v) for v in box)
            pad = 6
            cv2.rectangle(image, (x0 - pad, y0 - pad), (x1 + pad, y1 + pad), (0, 120, 255), 4)
        if image.shape[1] > PAGE_MAX_WIDTH:
            factor = PAGE_MAX_WIDTH / image.shape[1]
            size = (PAGE_MAX_WIDTH, max(1, round(image.shape[0] * factor)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        return _encode(image)
    raise InputError(ReasonCode.NOT_FOUND, f"the document has no page {page_index + 1}")
