"""Compare located field boxes with ground truth (synthetic truth.jsonl, hand-drawn boxes).

Truth boxes are in the pixels of the file; located boxes are in the pixels of the prepared
page, which :func:`hdr.preprocess.prepare_page` may have rotated (``skew_deg``) about its centre.
A truth box is the bounding box of the printed box as the scan rotated it, so it is also
*inflated* by that rotation; :func:`truth_on_prepared` undoes both.

>>> truth_on_prepared((100, 100, 300, 150), (1000, 2000), 0.0)
(100, 100, 300, 150)
>>> box_iou((0, 0, 10, 10), (5, 0, 15, 10))
0.333...
"""

from __future__ import annotations

import math

from hdr.types import Box


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when either is empty)."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def coverage(truth: Box, crop: Box) -> float:
    """Share of ``truth`` that lies inside ``crop``."""
    ix = max(0, min(truth[2], crop[2]) - max(truth[0], crop[0]))
    iy = max(0, min(truth[3], crop[3]) - max(truth[1], crop[1]))
    area = (truth[2] - truth[0]) * (truth[3] - truth[1])
    return ix * iy / area if area > 0 else 0.0


def truth_on_prepared(box: Box | list[int], shape: tuple[int, int], skew_deg: float) -> Box:
    """A file-pixel truth box in prepared-page pixels (``shape`` = prepared (h, w)).

    The centre is rotated the way prepare_page rotated the page (by ``-skew_deg`` about the page
    centre); the size is the printed box's own, recovered from its rotated bounding box.
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    h, w = shape
    t = math.radians(skew_deg)
    c, s = math.cos(t), abs(math.sin(t))
    bw, bh = x1 - x0, y1 - y0
    den = c * c - s * s
    if den > 0.5:  # undo the rotation's inflation (exact for a rotated rectangle)
        bw, bh = max(1.0, (bw * c - bh * s) / den), max(1.0, (bh * c - bw * s) / den)
    cx, cy = (x0 + x1) / 2 - w / 2, (y0 + y1) / 2 - h / 2
    # cv2.getRotationMatrix2D(angle=-skew) maps (x, y) -> (c x - sin y, sin x + c y) with sin<0
    sn = math.sin(-t)
    rx = c * cx + sn * cy + w / 2
    ry = -sn * cx + c * cy + h / 2
    return (round(rx - bw / 2), round(ry - bh / 2), round(rx + bw / 2), round(ry + bh / 2))
