"""hdr.preprocess.components: 16-bit labelling gives what OpenCV's 32-bit labelling gives."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hdr.preprocess.components import connected_components


@pytest.mark.parametrize("connectivity", [4, 8])
@pytest.mark.parametrize("density", [0.05, 0.3, 0.6])
def test_same_labels_stats_and_centroids_as_opencv(connectivity: int, density: float) -> None:
    rng = np.random.default_rng(int(density * 100) + connectivity)
    mask = ((rng.random((240, 410)) < density) * 255).astype(np.uint8)
    n, labels, stats, centroids = connected_components(mask, connectivity)
    ref_n, ref_labels, ref_stats, ref_centroids = cv2.connectedComponentsWithStats(
        mask, connectivity=connectivity
    )
    assert labels.dtype == np.uint16
    assert n == ref_n > 1
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_array_equal(stats, ref_stats)
    np.testing.assert_allclose(centroids, ref_centroids)


def test_too_many_components_for_16_bits_fall_back_to_32() -> None:
    mask = np.zeros((600, 600), np.uint8)
    mask[::2, ::2] = 255  # 90,000 isolated dots
    n, labels, stats, _ = connected_components(mask)
    assert labels.dtype == np.int32
    assert n == 300 * 300 + 1
    assert int(labels.max()) == n - 1
    assert (stats[1:, cv2.CC_STAT_AREA] == 1).all()
