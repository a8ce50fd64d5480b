"""The label set, kept in one place. The order is the model's output order; never reorder.

>>> from hdr.classify.labels import LABELS, index_of
>>> LABELS[index_of("7")]
'7'
"""

from __future__ import annotations

DIGITS: tuple[str, ...] = tuple("0123456789")
SEPARATORS: tuple[str, ...] = (",", ".", "-", "/")
CURRENCY: tuple[str, ...] = ("$", "₹", "€")
FILLERS: tuple[str, ...] = ("*", "#")
REJECT = "reject"  # "not a character we read": letters, scribbles, box fragments, blobs, noise

LABELS: tuple[str, ...] = DIGITS + SEPARATORS + CURRENCY + FILLERS + (REJECT,)
NUM_CLASSES = len(LABELS)
NON_DIGITS: tuple[str, ...] = LABELS[len(DIGITS) :]

_INDEX = {label: i for i, label in enumerate(LABELS)}


def index_of(label: str) -> int:
    """Class index of a label; raises KeyError for a label we do not have."""
    return _INDEX[label]


def is_digit(label: str) -> bool:
    return label in DIGITS
