"""The label set: one place, a fixed order that the shipped model's card must match."""

from __future__ import annotations

import json

import pytest

from hdr.classify.labels import (
    CURRENCY,
    DIGITS,
    FILLERS,
    LABELS,
    NON_DIGITS,
    NUM_CLASSES,
    REJECT,
    SEPARATORS,
    index_of,
    is_digit,
)


def test_order_is_digits_then_symbols_then_reject() -> None:
    assert LABELS[:10] == tuple("0123456789")
    assert LABELS[10:] == SEPARATORS + CURRENCY + FILLERS + (REJECT,)
    assert LABELS[-1] == "reject"
    assert NUM_CLASSES == 20 == len(set(LABELS))


def test_index_of_round_trips_and_rejects_unknown_labels() -> None:
    assert [index_of(label) for label in LABELS] == list(range(NUM_CLASSES))
    assert index_of("₹") == LABELS.index("₹")
    with pytest.raises(KeyError):
        index_of("£")


def test_digits_and_non_digits_partition_the_labels() -> None:
    assert all(is_digit(d) for d in DIGITS)
    assert not any(is_digit(s) for s in NON_DIGITS)
    assert set(DIGITS) | set(NON_DIGITS) == set(LABELS)


def test_shipped_model_card_uses_this_label_set(repo_root) -> None:
    card = json.loads((repo_root / "models" / "digits.card.json").read_text(encoding="utf-8"))
    assert tuple(card["labels"]) == LABELS
