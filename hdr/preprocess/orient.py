"""Which way the lines of a page run: a document scanned or photographed a quarter turn off.

Deskewing (:mod:`hdr.preprocess.deskew`) undoes a few degrees. A page fed sideways into a
scanner, or a cheque photographed in portrait, is turned by 90 degrees: its printed text runs
from top to bottom, no field is where a layout expects it, and the page would be taken for no
document at all. Printed text gives it away: its characters are small, of a size, and stand in
long rows along the direction of writing. Those characters are found (components from 0.8 to
6 mm, on a copy of the ink mask at about 100 dpi), smeared by a millimetre along each direction
in turn, and the total length of the long, thin rows each direction makes is compared. A
cheque shows metres of text along its width and a few centimetres across; turned, the reverse.

Which of the two quarter turns brings the page upright is not told by the lines themselves
(their ascenders against descenders say too little on cheques printed in capitals, see
docs/BENCHMARKS.md); the pipeline reads the page both ways and keeps the reading that makes
sense (:mod:`hdr.pipeline`). So for a page upside down: it is read a half turn round when,
as it lies, it shows no amount.

>>> import numpy as np
>>> ink = np.zeros((1000, 2400), np.uint8)                    # 300 dpi: 11.8 px per mm
>>> for row in range(100, 900, 80):                           # ten lines of 3 mm "letters"
...     for col in range(100, 2300, 30):
...         ink[row : row + 36, col : col + 18] = 255
>>> text_lines(ink, 300).turned, text_lines(np.ascontiguousarray(ink.T), 300).turned
(False, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WORK_DPI = 100  # the ink mask is looked at about this fine (rows of text stay rows)
CHAR_MIN_MM, CHAR_MAX_MM = 0.8, 6.0  # a printed character's longer side
CHAR_MIN_WIDTH_MM = 0.15  # ... and its shorter side (a rule's fragment is thinner)
SMEAR_MM = 1.0  # characters closer than this along a line join into one row
ROW_MAX_MM = 6.0  # a row of text is no thicker than this across
ROW_ELONGATION = 4.0  # ... and at least this many times longer than thick
ROW_MIN_MM = 8.0  # ... and at least this long
TURNED_RATIO = 2.0  # rows across the page over rows along it, for a page to count as turned
TURNED_MIN_MM = 20.0  # ... with at least this much text across (a few words of print)
TURNS = (90, 270)  # clockwise quarter turns that may bring a turned page upright
TURNED_REASON = "page_turned_{}"  # the note a turned page's result carries (reasons)


@dataclass(frozen=True)
class TextLines:
    """Total length (mm) of the rows of printed text that run along (``along``) and across
    (``across``) the page as it lies."""

    along: float
    across: float

    @property
    def turned(self) -> bool:
        """The text runs from top to bottom: the page lies a quarter turn off."""
        return self.across >= TURNED_MIN_MM and self.across >= TURNED_RATIO * self.along


def turn_image(image: np.ndarray, degrees: int) -> np.ndarray:
    """``image`` turned clockwise by ``degrees`` (0, 90, 180 or 270).

    >>> turn_image(np.arange(6, dtype=np.uint8).reshape(2, 3), 90).tolist()
    [[3, 0], [4, 1], [5, 2]]
    """
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    if degrees % 360 == 0:
        return image
    if degrees % 360 not in codes:
        raise ValueError(f"a page turns by quarter turns, not {degrees} degrees")
    return cv2.rotate(image, codes[degrees % 360])


def turn_of(reasons: tuple[str, ...] | list[str]) -> int:
    """The clockwise turn (degrees) a page was read at, from its result's reasons.

    >>> turn_of(["amount:low_confidence", "page_turned_270"]), turn_of([])
    (270, 0)
    """
    for degrees in (*TURNS, 180):
        if TURNED_REASON.format(degrees) in reasons:
            return degrees
    return 0


def _rows_length(mask: np.ndarray, horizontal: bool, px_per_mm: float) -> float:
    smear = max(3, round(SMEAR_MM * px_per_mm)) | 1
    kernel = np.ones((1, smear) if horizontal else (smear, 1), np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(mask, kernel), connectivity=8)
    w, h = stats[1:, 2].astype(np.float64), stats[1:, 3].astype(np.float64)
    along, across = (w, h) if horizontal else (h, w)
    rows = (
        (across <= ROW_MAX_MM * px_per_mm)
        & (along >= ROW_ELONGATION * across)
        & (along >= ROW_MIN_MM * px_per_mm)
    )
    return float(along[rows].sum() / px_per_mm)


def text_lines(ink: np.ndarray, dpi: int | None) -> TextLines:
    """How much printed text runs along and across the page (``ink``: uint8, 255 = ink)."""
    dpi = dpi or 300
    scale = min(1.0, WORK_DPI / dpi)
    small = ink
    if scale < 1.0:
        small = cv2.resize(ink, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = (small >= 64).astype(np.uint8)  # a pixel is ink when a quarter of it was
    px_per_mm = dpi * scale / 25.4
    _, _, stats, _ = cv2.connectedComponentsWithStats(small, connectivity=8)
    w, h = stats[:, 2].astype(np.float64), stats[:, 3].astype(np.float64)
    longer, shorter = np.maximum(w, h), np.minimum(w, h)
    chars = (
        (longer >= CHAR_MIN_MM * px_per_mm)
        & (longer <= CHAR_MAX_MM * px_per_mm)
        & (shorter >= CHAR_MIN_WIDTH_MM * px_per_mm)
    )
    chars[0] = False  # the background
    mask = np.zeros(small.shape, np.uint8)
    for x, y, bw, bh in stats[chars, :4]:
        mask[y : y + bh, x : x + bw] = 255  # each character as its box: rows, not strokes
    return TextLines(_rows_length(mask, True, px_per_mm), _rows_length(mask, False, px_per_mm))
