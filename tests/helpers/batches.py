"""A classifier batch with chosen readings: what the recognizer decides from given glyph
probabilities, without a model in the loop."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from hdr.classify.labels import LABELS, NUM_CLASSES
from hdr.recognize import _Batch
from hdr.segment import Piece


def scripted_batch(readings: Iterable[tuple[Piece, str, float]]) -> _Batch:
    """A batch where each piece reads its label at its probability (the rest spread evenly)."""
    batch = _Batch()
    rows = []
    for piece, label, prob in readings:
        batch.add(piece)
        p = np.full(NUM_CLASSES, (1.0 - prob) / (NUM_CLASSES - 1))
        p[LABELS.index(label)] = prob
        rows.append(p)
    batch.probs = np.array(rows)
    return batch
