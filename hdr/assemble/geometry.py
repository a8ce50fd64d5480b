"""Size and position of a glyph against the digits around it: what the 28 x 28 glyph forgets.

Normalisation scales every glyph to the same size, so a ``.`` looks like a blot and a ``-`` like
a bar of any length. This module turns a glyph's box, relative to the field's median digit
height and baseline, into a soft prior over the labels: a small mark low on the line is a ``.``
or ``,`` far more often than a digit; a flat one at mid height is a ``-``; a full-size glyph is
never a ``.``. The prior multiplies the classifier's probabilities, which are then renormalised.

>>> from hdr.segment.components import Metrics
>>> m = Metrics(digit_height=40, digit_width=25, stroke_width=4, top=10, base=50)
>>> p = shape_prior((100, 44, 106, 50), m)                 # a small dot on the baseline
>>> bool(p[LABELS.index(".")] > 0.8 > 0.1 > p[LABELS.index("7")])
True
"""

from __future__ import annotations

import math

import numpy as np

from hdr.classify.labels import CURRENCY, DIGITS, LABELS, REJECT, index_of
from hdr.segment.components import Metrics
from hdr.types import Box

_DIGIT_IDX = [index_of(d) for d in DIGITS]
_CURRENCY_IDX = [index_of(c) for c in CURRENCY]
_REJECT_IDX = index_of(REJECT)
_COMMA_IDX = index_of(",")
_STROKE_IDX = [index_of("1"), index_of("/")]
# Share of the writing's height (top line 0, baseline 1) below which a stroke's top means it
# is a mark, not a digit: commas on real cheques start at 0.45-1.0, digits (small ones
# included) at 0.35 or above.
LONG_COMMA_TOP = 0.42


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


def long_comma(box: Box, band: tuple[float, float]) -> float:
    """How surely a glyph is a long comma by its place in the line (``band``: top, baseline).

    A stroke that starts well below the top of the writing and comes down to the baseline or
    past it, as many hands write the group comma ("5,10,000"). A digit starts near the top line;
    even one written small starts in the upper part of it; wide glyphs (a dash, a flat smudge)
    are left to the other terms of :func:`shape_prior`.
    """
    top, base = band
    body = max(1.0, base - top)
    top_rel, bottom_rel = (box[1] - top) / body, (box[3] - top) / body
    aspect = (box[2] - box[0]) / max(1, box[3] - box[1])
    return (
        _sigmoid((top_rel - LONG_COMMA_TOP) / 0.025)
        * _sigmoid((bottom_rel - 0.85) / 0.04)
        * _sigmoid((1.3 - aspect) / 0.15)
    )


def stroke_as_comma(probs: np.ndarray, share: float) -> np.ndarray:
    """Hand ``share`` of the thin-stroke labels' mass (``1``, ``/``, ``,``'s look-alikes) to ``,``.

    Scaled to 28 x 28, a long comma *is* a ``1``: the classifier can only say "a stroke", and
    the stroke's place in the line says which. Multiplying by a prior is not enough when the
    classifier gives the comma a thousandth of the ``1``'s probability.
    """
    out = np.asarray(probs, np.float64).copy()
    if share <= 0.0:
        return out
    for idx in _STROKE_IDX:
        moved = out[idx] * share
        out[idx] -= moved
        out[_COMMA_IDX] += moved
    return out


def shape_prior(box: Box, metrics: Metrics, comma_like: float = 0.0) -> np.ndarray:
    """A weight in [0, 1] per label for a glyph with this box (see the module docstring).

    ``comma_like`` is :func:`long_comma` of the glyph in the band its neighbours give
    (:func:`hdr.segment.components.neighbour_band`); 0 where it has no neighbour on one side.
    """
    rel_h, _, cy = metrics.relative(box)
    h, w = box[3] - box[1], box[2] - box[0]
    top_rel = (box[1] - metrics.top) / max(1.0, metrics.base - metrics.top)
    aspect = w / max(1, h)
    small = _sigmoid((0.42 - rel_h) / 0.05)
    smallish = _sigmoid((0.6 - rel_h) / 0.06)  # a comma may hang below the line
    flat = _sigmoid((aspect - 1.8) / 0.3) * _sigmoid((0.45 - rel_h) / 0.05)
    low = _sigmoid((cy - 0.62) / 0.08)
    lower_half = _sigmoid((top_rel - 0.45) / 0.06)  # starts below the middle of the line
    mid = _sigmoid((cy - 0.2) / 0.08) * _sigmoid((0.85 - cy) / 0.08)
    full = max(0.02, 1.0 - small)
    bottom_rel = (box[3] - metrics.top) / max(1.0, metrics.base - metrics.top)
    # a glyph in the lower half of the line only, and small, is no digit (cents are raised);
    # nor is one that starts low and hangs well below the baseline: a comma's tail
    hangs = _sigmoid((bottom_rel - 1.08) / 0.03) * _sigmoid((top_rel - 0.4) / 0.05)
    starts_low = _sigmoid((top_rel - 0.5) / 0.04) * _sigmoid((0.75 - rel_h) / 0.04)
    mark_below = max(lower_half * smallish, hangs, starts_low, comma_like)
    not_digit = max(1e-4, 1.0 - mark_below) ** 2  # geometry is surer here than the classifier
    prior = np.ones(len(LABELS), np.float64)
    prior[_DIGIT_IDX] = full * (1.0 - 0.95 * flat) * not_digit
    prior[_CURRENCY_IDX] = full * not_digit
    prior[index_of("/")] = full * not_digit
    prior[index_of("#")] = max(0.05, 1.0 - small)
    prior[index_of(".")] = small * (0.05 + 0.95 * low) * (1.0 - 0.8 * flat)
    prior[index_of(",")] = max(smallish * (0.05 + 0.95 * low), hangs, comma_like) * (
        1.0 - 0.8 * flat
    )
    prior[index_of("-")] = flat * (0.5 + 0.5 * mid)
    # a long thin line is a dash or a filler tail, whatever a 28 x 28 glyph of it looks like
    line = _sigmoid((aspect - 3.5) / 0.3) * _sigmoid((0.35 - rel_h) / 0.04)
    prior[_REJECT_IDX] = 1.0 - 0.99 * line
    return np.clip(prior, 1e-4, 1.0)


def apply_prior(probs: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Classifier probabilities times the prior, renormalised to sum to one."""
    joint = np.asarray(probs, np.float64) * prior
    total = float(joint.sum())
    if total <= 0:
        return np.asarray(probs, np.float64)
    return joint / total


def is_digit_sized(box: Box, metrics: Metrics) -> bool:
    """As tall as the field's digits and centred on their line: a character, not a mark or crumb."""
    rel_h, _, cy = metrics.relative(box)
    return 0.7 <= rel_h <= 1.3 and 0.25 <= cy <= 0.75


def is_high_mark(box: Box, metrics: Metrics) -> bool:
    """A ``,`` or ``.`` written at the top of the line: an apostrophe, i.e. a group mark."""
    _, _, cy = metrics.relative(box)
    return cy < 0.35
