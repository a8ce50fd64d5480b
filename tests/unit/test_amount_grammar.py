"""The amount grammar: what people write in an amount box, and what must never become a value."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hdr.assemble.amount import parse_amount
from hdr.assemble.reading import Reading
from hdr.classify.labels import LABELS, REJECT

R = REJECT


def read(text: str | list[str]) -> tuple[str | None, tuple[str, ...]]:
    labels = list(text) if isinstance(text, str) else text
    reading = parse_amount(labels)
    return reading.value, reading.flags


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("1250", "1250.00"),
        ("7", "7.00"),
        ("1,250", "1250.00"),
        ("1,234,567", "1234567.00"),
        ("12,34,567", "1234567.00"),  # Indian grouping
        ("1,00,000", "100000.00"),
        ("1.250", "1250.00"),  # a dot between groups of three is a group mark
        ("1'250", "1250.00"),
        ("71,00.000", "7100000.00"),  # mixed group marks, as on real Indian cheques
        ("1,250.50", "1250.50"),
        ("1.250,50", "1250.50"),  # decimal comma
        ("1250,5", "1250.50"),
        ("1250.5", "1250.50"),
        ("0.50", "0.50"),
        ("12,50", "12.50"),
        ("1250/-", "1250.00"),
        ("12,34,567/-", "1234567.00"),
        ("1250-", "1250.00"),
        ("1250=/-", "1250.00"),
        ("1250.-", "1250.00"),
        ("1250.", "1250.00"),
        ("1250.00/-", "1250.00"),
        ("₹1,25,000/-", "125000.00"),
        ("$1,250.00", "1250.00"),
        ("€12,50", "12.50"),
        ("1250€", "1250.00"),
        ("*1250*", "1250.00"),
        ("**1,250.00**", "1250.00"),
        ("#1250#", "1250.00"),
        ("--1250--", "1250.00"),
        (".50/-", "50.00"),  # "Rs.50/-": the dot is the abbreviation's, "/-" says no cents
        ("₹.1250", "1250.00"),  # a dot before four digits cannot be a decimal mark
    ],
)
def test_valid_amounts_read_as_two_decimal_strings(written: str, value: str) -> None:
    got, flags = read(written)
    assert got == value
    assert "amount_grammar" not in flags and "unexpected_symbol" not in flags


@pytest.mark.parametrize(
    ("written", "flag"),
    [
        ("", "field_empty"),
        ("***", "field_empty"),
        ("₹/-", "field_empty"),
        ("1,2500", "amount_grammar"),  # a group of four
        ("12,3,456", "amount_grammar"),
        ("12,34,5678", "amount_grammar"),
        ("1,234,5", "amount_ambiguous"),  # the decimal mark is also the group mark
        ("1,234,50", "amount_ambiguous"),
        ("1.234.50", "amount_ambiguous"),
        ("1250/50", "amount_grammar"),  # a slash between digits
        ("/250", "amount_grammar"),  # a slash before the digits is a misread "1"
        (",250", "amount_grammar"),  # ... and so is a comma: "Rs." ends in a dot
        ("₹,250/-", "amount_grammar"),
        ("'250", "amount_grammar"),
        ("12-50", "amount_grammar"),
        ("12*50", "amount_grammar"),
        ("1,,250", "amount_grammar"),
        ("1'50", "amount_grammar"),  # an apostrophe is never a decimal mark
        ("0500", "amount_grammar"),  # leading zero
        ("0,500", "amount_grammar"),
        (".50", "amount_ambiguous"),  # 0.50, or "Rs.50"?
        ("0", "amount_zero"),
        ("0.00", "amount_zero"),
        ("1234567890123", "amount_too_long"),
    ],
)
def test_impossible_or_ambiguous_amounts_give_no_value(written: str, flag: str) -> None:
    got, flags = read(written)
    assert got is None
    assert flag in flags


def test_one_digit_cents_are_read_but_flagged() -> None:
    assert read("12.5") == ("12.50", ("short_cents",))
    assert read("1.250,5") == ("1250.50", ("short_cents",))


def test_a_reject_between_digits_gives_no_value() -> None:
    assert read(["1", "2", R, "5", "0"]) == (None, ("unexpected_symbol",))


def test_a_reject_at_the_ends_is_dropped_but_flagged() -> None:
    value, flags = read([R, "1", "2", "5", "0", "/", "-", R])
    assert value == "1250.00"
    assert flags == ("unexpected_symbol",)


def test_a_digit_sized_reject_right_after_the_digits_leaves_no_value() -> None:
    # "1234" with its "4" unread (a letter, a struck digit) is not "123"
    labels = ["1", "2", "3", R]
    assert parse_amount(labels, digit_sized={0, 1, 2, 3}) == Reading(None, ("unexpected_symbol",))
    # nor is "44,20," with the next group unread 44.20
    unread_group = ["4", "4", ",", "2", "0", ",", R]
    assert parse_amount(unread_group, digit_sized={0, 1, 3, 4, 6}).value is None
    # a crumb of the box border or a smudge after the digits is still dropped and flagged
    assert parse_amount(labels, digit_sized={0, 1, 2}) == Reading("123.00", ("unexpected_symbol",))
    # after the closing "/-" a tall glyph is a word ("only"), not a lost digit
    tail = ["1", "2", "/", "-", R]
    assert parse_amount(tail, digit_sized={0, 1, 4}).value == "12.00"
    # in front of the digits a digit-sized reject is most often a currency mark
    assert parse_amount([R, "1", "2"], digit_sized={0, 1, 2}).value == "12.00"


def test_only_rejects_is_empty_and_flagged() -> None:
    assert read([R, R]) == (None, ("unexpected_symbol", "field_empty"))


# --------------------------------------------------------------------------- properties


def _group(whole: str, sep: str, indian: bool) -> str:
    out, rest = whole[-3:], whole[:-3]
    size = 2 if indian else 3
    while rest:
        out, rest = rest[-size:] + sep + out, rest[:-size]
    return out


@st.composite
def written_amounts(draw: st.DrawFn) -> tuple[str, str]:
    cents = draw(st.integers(min_value=1, max_value=10**11))
    whole, frac = str(cents // 100), cents % 100
    style = draw(st.sampled_from(["plain", "western", "indian"]))
    decimal = draw(st.sampled_from([".", ","]))
    group = draw(st.sampled_from([s for s in (",", ".", "'") if s != decimal]))
    text = whole if style == "plain" else _group(whole, group, style == "indian")
    if frac or draw(st.booleans()):
        text += decimal + f"{frac:02d}"
        tail = draw(st.sampled_from(["", "*", "**", "#"]))
    else:
        tail = draw(st.sampled_from(["", "/-", "-", "=/-", "*", ".-"]))
    lead = draw(st.sampled_from(["", "₹", "$", "€", "*", "**", "#"]))
    value = f"{cents // 100}.{cents % 100:02d}"
    return lead + text + tail, value


@settings(max_examples=400, deadline=None)
@given(written_amounts())
def test_any_supported_way_of_writing_an_amount_reads_back(case: tuple[str, str]) -> None:
    written, value = case
    assert read(written)[0] == value, written


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(LABELS), max_size=14))
def test_a_value_never_invents_or_drops_digits(labels: list[str]) -> None:
    """Whatever the labels, a value is a two-decimal string whose digits are the ones read
    (only zeros are ever added, to complete the cents)."""
    value, _ = read(labels)
    if value is None:
        return
    assert re.fullmatch(r"\d+\.\d\d", value)
    read_digits = "".join(x for x in labels if x.isdigit()).lstrip("0")
    value_digits = value.replace(".", "").lstrip("0")
    assert value_digits.startswith(read_digits)
    assert set(value_digits[len(read_digits) :]) <= {"0"}


def test_two_slashes_after_the_digits_are_a_one_and_the_tail() -> None:
    from hdr.assemble.amount import parse_amount

    assert parse_amount(list("24//-")).value is None  # the decoder will try "241/-"
    assert parse_amount(list("241/-")).value == "241.00"
    assert parse_amount(list("24/-")).value == "24.00"


@pytest.mark.parametrize(
    ("line", "glyphs", "value", "agree"),
    [
        ("99,0001", "99,000/-", "99000.00", True),  # the tail read as a "1"
        ("21,13,0001", "21,13,000/-", "2113000.00", True),
        ("329,00015", "329,000/-", "329000.00", True),  # and the dash as a "5"
        ("329,000111", "329,000/-", "329000.00", False),  # three labels: more than a tail
        ("329,0007", "329,000/-", "329000.00", False),  # no "1" where the "/" stood
        ("329,0001", "329,000", "329000.00", False),  # the glyph reader read no tail
        ("329,0001", "329,000/", "329000.00", False),  # nor a dash: the "/" may be a "1"
        ("329,0001", "329,000/?", "329000.00", False),  # something else after the "/"
        ("328,0001", "329,000/-", "329000.00", False),  # another value before the "1"
        ("1", "/-", None, False),
    ],
)
def test_the_line_reader_agrees_but_for_the_closing_slash_dash(
    line: str, glyphs: str, value: str | None, agree: bool
) -> None:
    from hdr.assemble.amount import tail_read_as_digits

    labels = ["reject" if ch == "?" else ch for ch in glyphs]
    assert tail_read_as_digits(list(line), labels, value) is agree


@pytest.mark.parametrize(
    ("line", "glyphs", "value", "agree"),
    [
        ("4,76500/-", "4,76,500/-", "476500.00", True),  # a comma of Indian grouping left out
        ("2,60000/-", "2,60,000/-", "260000.00", True),
        ("7100,000", "71,00,000/-", "7100000.00", True),  # a comma and the tail left out
        ("12,50000", "12,50,000", "1250000.00", True),
        ("2,35000", "235,000", "235000.00", False),  # a comma the glyph reader did not read
        ("1,8700", "18700", "18700.00", False),
        ("2,6000", "2,60,000", "260000.00", False),  # a digit lost
        ("2,60,0000", "2,60,000", "260000.00", False),  # a digit more
        ("2,61000", "2,60,000", "260000.00", False),  # another digit
        ("187.00", "18700", "18700.00", False),  # an amount of its own
        ("5,70000", "5,70,000", None, False),  # no value to agree on
        ("5,7?0000", "5,7,0000", "570000.00", False),  # a label the glyph reader did not read
    ],
)
def test_the_line_reader_agrees_on_the_digits_but_left_out_marks(
    line: str, glyphs: str, value: str | None, agree: bool
) -> None:
    from hdr.assemble.amount import line_missed_marks

    def labels(text: str) -> list[str]:
        return ["reject" if ch == "?" else ch for ch in text]

    assert line_missed_marks(labels(line), labels(glyphs), value) is agree
