"""Fuzzing the amount grammar and the account rules on random label sequences.

The grammar sees whatever the classifier says, in any order: it must return a
:class:`Reading` (a value in canonical form, or None with flags), never raise anything but
the project's own errors.
"""

from __future__ import annotations

import contextlib
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hdr.assemble import parse_account, parse_amount
from hdr.assemble.decode import decode
from hdr.assemble.reading import Reading
from hdr.classify.labels import LABELS, NUM_CLASSES
from hdr.errors import HdrError
from tests.fuzz.fuzzing import examples

pytestmark = pytest.mark.fuzz

AMOUNT = re.compile(r"\d+\.\d\d")
labels = st.lists(st.sampled_from(LABELS), max_size=40)
# Mostly digits and separators: the sequences a real amount field gives, where bugs hide.
amountish = st.lists(st.sampled_from([*"0123456789", ",", ".", "-", "/", "₹", "*"]), max_size=24)


def _check_amount(reading: Reading) -> None:
    assert isinstance(reading, Reading)
    if reading.value is not None:
        assert AMOUNT.fullmatch(reading.value), reading


@settings(settings.get_profile("hdr-fuzz"), max_examples=examples(10000))
@given(st.one_of(labels, amountish))
def test_amount_grammar_never_crashes(seq: list[str]) -> None:
    with contextlib.suppress(HdrError):  # a refusal with a reason code is fine
        _check_amount(parse_amount(seq))


@settings(settings.get_profile("hdr-fuzz"), max_examples=examples(5000))
@given(labels, st.tuples(st.integers(1, 20), st.integers(0, 20)))
def test_account_rules_never_crash(seq: list[str], bounds: tuple[int, int]) -> None:
    low, extra = bounds
    try:
        reading = parse_account(seq, (low, low + extra))
    except HdrError:
        return
    if reading.value is not None:
        assert reading.value.isdigit()
        # a length outside the layout's range keeps the value but must be flagged
        if not low <= len(reading.value) <= low + extra:
            assert "account_length" in reading.flags, reading


@settings(settings.get_profile("hdr-fuzz"), max_examples=examples(2000))
@given(st.integers(0, 16), st.integers(0, 2**32 - 1))
def test_decoding_random_probabilities_gives_a_reading(n: int, seed: int) -> None:
    probs = np.random.default_rng(seed).dirichlet(np.full(NUM_CLASSES, 0.3), size=n)
    try:
        chosen, reading = decode(probs.astype(np.float32), parse_amount)
    except HdrError:
        return
    assert len(chosen) == n and all(label in LABELS for label in chosen)
    _check_amount(reading)
