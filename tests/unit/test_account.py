"""Account numbers: digits only, a length the layout allows, rejects never hidden."""

from __future__ import annotations

import pytest

from hdr.assemble.account import parse_account
from hdr.classify.labels import REJECT

R = REJECT


@pytest.mark.parametrize(
    ("labels", "value"),
    [
        (list("0012345678"), "0012345678"),  # leading zeros are kept
        (list("1234-5678-90"), "1234567890"),  # dashes between groups are dropped
        (list("1234.5678.90"), "1234567890"),
        (["#", *"12345678", "*"], "12345678"),  # fillers at the ends
    ],
)
def test_valid_account_numbers(labels: list[str], value: str) -> None:
    reading = parse_account(labels, (8, 16))
    assert reading.value == value
    assert reading.flags == ()


def test_a_wrong_length_keeps_the_digits_but_is_flagged() -> None:
    short = parse_account(list("1234567"), (8, 16))
    assert short.value == "1234567"
    assert short.flags == ("account_length",)
    long = parse_account(list("12345678901234567"), (8, 16))
    assert long.flags == ("account_length",)


def test_template_length_range_applies() -> None:
    assert parse_account(list("123456789"), (9, 9)).flags == ()
    assert parse_account(list("1234567890"), (9, 9)).flags == ("account_length",)


def test_a_reject_between_digits_gives_no_value() -> None:
    reading = parse_account([*"1234", R, *"5678"], (8, 16))
    assert reading.value is None
    assert reading.flags == ("unexpected_symbol",)


@pytest.mark.parametrize("odd", ["/", "₹", "*", "$"])
def test_a_symbol_between_digits_gives_no_value(odd: str) -> None:
    reading = parse_account([*"1234", odd, *"5678"], (8, 16))
    assert reading.value is None
    assert "unexpected_symbol" in reading.flags


def test_two_separators_in_a_row_give_no_value() -> None:
    reading = parse_account([*"1234", "-", "-", *"5678"], (8, 16))
    assert reading.value is None
    assert reading.flags == ("account_grammar",)


def test_a_reject_at_the_ends_is_flagged() -> None:
    reading = parse_account([R, *"12345678"], (8, 16))
    assert reading.value == "12345678"
    assert reading.flags == ("unexpected_symbol",)


def test_a_reject_in_a_cell_at_the_ends_leaves_no_value() -> None:
    # one glyph per printed cell: an unread first digit is not a label to drop
    labels = [R, *"2345678901"]
    assert parse_account(labels, (8, 16)).value == "2345678901"
    assert parse_account(labels, (8, 16), cells=True).value is None
    assert parse_account([*"2345678901", R], (8, 16), cells=True).flags == ("unexpected_symbol",)


def test_no_digits_is_an_empty_field() -> None:
    assert parse_account([], (8, 16)).flags == ("field_empty",)
    assert parse_account([R], (8, 16)).flags == ("unexpected_symbol", "field_empty")
