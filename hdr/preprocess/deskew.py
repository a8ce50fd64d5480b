"""Deskew: find the rotation (within +-15 degrees) that makes printed lines horizontal.

A scanner's feeder turns a page by a degree or two; a cheque laid crookedly on a flatbed, or
photographed, by ten or more (such a page read at 8 or 12 degrees lost its amount when the
search stopped at 6). A quarter or half turn is :mod:`hdr.preprocess.orient`'s.

Projection profile on the ink: for each candidate angle the ink pixels are projected onto the
rotated vertical and horizontal axes, and the angle whose row (or column) histogram is the most
peaked (largest sum of squares) wins; printed rules, cell rows and text lines all vote for the
same angle, handwriting and vertical strokes only add a flat floor. The columns count for a page
lying a quarter turn off, whose rules stand upright: over 15 degrees its rows alone may line up
at some wrong angle (a cheque tilted by 14 degrees where one of 5 was wanted), which leaves its
text running neither way for :mod:`hdr.preprocess.orient`. On upright pages the rows win, and
the angle found is the rows' alone, as it was. A coarse search (1 degree) is refined twice
(0.25, then 0.05 degree).

>>> import numpy as np, cv2
>>> ink = np.zeros((400, 800), np.uint8); ink[100:104, 50:750] = 255; ink[300:304, 50:750] = 255
>>> m = cv2.getRotationMatrix2D((400, 200), 3.0, 1.0)
>>> round(estimate_skew(cv2.warpAffine(ink, m, (800, 400))), 1)
3.0
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_SKEW_DEG = 15.0
MIN_CORRECTION_DEG = 0.2  # below this, rotating costs sharpness for nothing
_MAX_POINTS = 40_000


def _scores(
    ys: np.ndarray, xs: np.ndarray, angles_deg: np.ndarray, columns: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Per angle, how peaked the row histogram and (when ``columns``) the column histogram
    of the ink are after rotating the page by -angle (undoing a CCW skew of angle)."""
    rows_score = np.empty(len(angles_deg))
    cols_score = np.zeros(len(angles_deg))
    for i, angle in enumerate(np.deg2rad(angles_deg)):
        rows = ys * np.cos(angle) + xs * np.sin(angle)
        hist = np.bincount((rows - rows.min()).astype(np.int64))
        rows_score[i] = float(np.dot(hist, hist))
        if columns:
            cols = xs * np.cos(angle) - ys * np.sin(angle)
            chist = np.bincount((cols - cols.min()).astype(np.int64))
            cols_score[i] = float(np.dot(chist, chist))
    return rows_score, cols_score


def estimate_skew(ink: np.ndarray, max_deg: float = MAX_SKEW_DEG) -> float:
    """Counter-clockwise rotation of the page content, in degrees (0.0 when there is no ink).

    The coarse search scores each angle by the more peaked of the row and column histograms,
    so a page lying a quarter turn off is straightened by its upright rules, not tilted to some
    angle where its rows happen to line up; the finer steps follow the axis that won.
    """
    # Half resolution is plenty for 0.05 degree steps and four times cheaper.
    half = cv2.resize(
        ink, (max(1, ink.shape[1] // 2), max(1, ink.shape[0] // 2)), interpolation=cv2.INTER_NEAREST
    )
    ys, xs = np.nonzero(half)
    if len(ys) < 50:
        return 0.0
    if len(ys) > _MAX_POINTS:
        pick = np.random.default_rng(0).choice(len(ys), _MAX_POINTS, replace=False)
        ys, xs = ys[pick], xs[pick]
    ys = ys.astype(np.float64) - half.shape[0] / 2
    xs = xs.astype(np.float64) - half.shape[1] / 2
    # Coarse to fine: 1 degree over the whole range, then 0.25 and 0.05 around the best.
    angles = np.arange(-max_deg, max_deg + 1e-9, 1.0)
    rows_score, cols_score = _scores(ys, xs, angles, columns=True)
    by_columns = cols_score.max() > rows_score.max()
    best = float(angles[int(np.argmax(cols_score if by_columns else rows_score))])
    for step, span in ((0.25, 1.0), (0.05, 0.25)):
        angles = np.arange(best - span, best + span + 1e-9, step)
        angles = angles[np.abs(angles) <= max_deg + 1e-9]
        rows_score, cols_score = _scores(ys, xs, angles, columns=by_columns)
        best = float(angles[int(np.argmax(cols_score if by_columns else rows_score))])
    return float(round(best, 2))


def rotate(gray: np.ndarray, angle_deg: float, *, fill: int = 255) -> np.ndarray:
    """Rotate a page about its centre by ``angle_deg`` counter-clockwise, same size, white fill."""
    h, w = gray.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    return cv2.warpAffine(
        gray,
        matrix,
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=fill,
    )
