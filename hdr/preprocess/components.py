"""Connected components with statistics, labelled in 16 bits when the count allows.

OpenCV labels a mask with 16-bit labels about three times faster than with 32-bit ones (less
memory to fill and read back); the labels, statistics and centroids are the same. A mask with
65,535 components or more (noise) overflows 16 bits and is labelled again in 32.

>>> import numpy as np
>>> mask = np.zeros((5, 9), np.uint8); mask[1:4, 1:3] = 255; mask[2, 5:8] = 255
>>> n, labels, stats, _ = connected_components(mask)
>>> n, labels.dtype.name, stats[1:, 4].tolist()
(3, 'uint16', [6, 3])
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["connected_components"]


def connected_components(
    mask: np.ndarray, connectivity: int = 8
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """``cv2.connectedComponentsWithStats`` of a uint8 mask: (count, labels, stats, centroids).

    The labels are uint16, or int32 when there are too many components for 16 bits.
    """
    try:
        n, labels, stats, centroids = cv2.connectedComponentsWithStatsWithAlgorithm(
            mask, connectivity, cv2.CV_16U, cv2.CCL_DEFAULT
        )
    except cv2.error:  # over 65,534 components
        n, labels, stats, centroids = cv2.connectedComponentsWithStats(
            mask, connectivity=connectivity
        )
    return int(n), labels, stats, centroids
