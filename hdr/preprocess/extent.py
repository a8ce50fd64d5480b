"""Where the document lies on a larger sheet: a cheque scanned on a flatbed's A4 bed, or
placed on a PDF page, fills a corner of the page and leaves the rest white.

Field location judges a layout by where things stand on the page (the amount box in the right
half, the account row below it); on an A4 sheet whose top third is a cheque, nothing stands
where a cheque's fields would, and the page is taken for no document. :func:`content_box`
finds the part of the page that holds ink (components larger than a speck, padded by a few
millimetres); when that is well under the page, the pipeline locates the fields on that part
alone (:mod:`hdr.pipeline`), and the page's reasons say where it was cut
(``page_cropped:x0,y0,x1,y1`` in the prepared page's pixels, :func:`cropped_of`), so the review
app draws the same part.

>>> import numpy as np
>>> ink = np.zeros((3500, 2480), np.uint8)                    # an A4 sheet at 300 dpi ...
>>> ink[200:1200, 100:2300:40] = 255                           # ... a cheque's ink at the top
>>> content_box(ink, 300)
(65, 165, 2296, 1235)
>>> cropped_of(["amount:low_confidence", crop_reason((65, 165, 2296, 1235))])
(65, 165, 2296, 1235)
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from hdr.types import Box

SPECK_MM2 = 0.3  # components smaller than this (dust, scanner noise) do not count as content
PAD_MM = 3.0  # margin kept around the content
MAX_SHARE = 0.6  # the content must cover less than this share of the page to be cut out
MIN_SIDE_MM = 40.0  # ... and be at least this long on each side (a document, not a stamp)
CROPPED = "page_cropped"


def content_box(ink: np.ndarray, dpi: int | None) -> Box | None:
    """The padded box around the page's ink, when it covers well under the page; else None."""
    px_per_mm = (dpi or 300) / 25.4
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count <= 1:
        return None
    stats = stats[1:]
    kept = stats[stats[:, 4] >= SPECK_MM2 * px_per_mm**2]
    if not len(kept):
        return None
    h, w = ink.shape[:2]
    pad = round(PAD_MM * px_per_mm)
    x0 = max(0, int(kept[:, 0].min()) - pad)
    y0 = max(0, int(kept[:, 1].min()) - pad)
    x1 = min(w, int((kept[:, 0] + kept[:, 2]).max()) + pad)
    y1 = min(h, int((kept[:, 1] + kept[:, 3]).max()) + pad)
    if min(x1 - x0, y1 - y0) < MIN_SIDE_MM * px_per_mm:
        return None
    if (x1 - x0) * (y1 - y0) >= MAX_SHARE * w * h:
        return None
    return (x0, y0, x1, y1)


def crop_reason(box: Box) -> str:
    """The note a page cut to ``box`` carries in its result's reasons."""
    return f"{CROPPED}:" + ",".join(str(int(v)) for v in box)


def cropped_of(reasons: Sequence[str]) -> Box | None:
    """The box a page was cut to before reading (:func:`crop_reason`), or None."""
    for reason in reasons:
        kind, _, rest = reason.partition(":")
        if kind == CROPPED:
            x0, y0, x1, y1 = (int(v) for v in rest.split(","))
            return (x0, y0, x1, y1)
    return None
