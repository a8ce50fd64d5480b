"""Segmentation: from a field crop to glyph candidates (box-line removal, components, splits).

>>> import numpy as np
>>> from hdr.segment import segment_field
>>> gray = np.full((60, 200), 235, np.uint8); gray[15:45, 30:34] = 30
>>> len(segment_field(gray).segments)
1
"""

from hdr.segment.binarize import binarize_crop
from hdr.segment.components import Metrics
from hdr.segment.lines import Lines, remove_lines
from hdr.segment.segment import Piece, Segment, Segmentation, segment_field

__all__ = [
    "Lines",
    "Metrics",
    "Piece",
    "Segment",
    "Segmentation",
    "binarize_crop",
    "remove_lines",
    "segment_field",
]
