"""What gets written: amount values in the many ways people write them, and account numbers.

Every written form obeys one rule a reader can rely on: a decimal part always has exactly two
digits and comes after the *last* separator; a group of three (or, in Indian grouping, two)
digits follows every grouping separator. The canonical value is a two-decimal string.

>>> import numpy as np
>>> from hdr.synth.amounts import format_amount
>>> format_amount(123456700, "indian", decimal_mark=".")
'12,34,567'
>>> format_amount(125050, "grouped", decimal_mark=",")
'1.250,50'
"""

from __future__ import annotations

import numpy as np

from hdr.fields.templates import Template

LETTERS = "AKMHRWxekn"  # clearly not digits in any hand: they belong to the reject class
FILLERS = ("*", "*", "**", "#")
_ONES_TEXT = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
)
_ONES = _ONES_TEXT.split()
_TENS_TEXT = "_ _ twenty thirty forty fifty sixty seventy eighty ninety"
_TENS = _TENS_TEXT.split()


def canonical(cents: int) -> str:
    """Integer cents -> ``"1250.50"``."""
    return f"{cents // 100}.{cents % 100:02d}"


def _group(whole: str, sep: str, size: int) -> str:
    """Thousands, then groups of ``size`` digits: 3 is 1,234,567; 2 is Indian 12,34,567."""
    out, rest = whole[-3:], whole[:-3]
    while rest:
        out, rest = rest[-size:] + sep + out, rest[:-size]
    return out


def format_amount(cents: int, style: str, decimal_mark: str = ".") -> str:
    """The written digits and separators of an amount, in one of the template ``amount_styles``.

    ``currency`` and ``filler`` are decorations (see :func:`decorate`); here they write plain.
    """
    whole, frac = str(cents // 100), cents % 100
    group_sep = "," if decimal_mark == "." else "."
    if style in ("grouped", "indian"):
        text = _group(whole, group_sep, 3 if style == "grouped" else 2)
    else:
        text = whole
    if style == "slash_dash":
        return text + "/-"  # only ever used for whole amounts
    if frac or style == "cents":
        text += f"{decimal_mark}{frac:02d}"
    return text


def decorate(text: str, template: Template, rng: np.random.Generator) -> str:
    """Maybe add a handwritten currency mark in front, or filler stars around the amount."""
    styles = template.amount_styles
    if "currency" in styles and template.currency and rng.random() < 0.3:
        text = template.currency + text
    if "filler" in styles and rng.random() < 0.25:
        filler = FILLERS[int(rng.integers(len(FILLERS)))]
        text = filler + text + (filler if rng.random() < 0.6 else "")
    return text


def draw_amount(template: Template, rng: np.random.Generator) -> tuple[str, str]:
    """A random amount for this layout: (written text, canonical two-decimal value)."""
    base = [s for s in template.amount_styles if s not in ("currency", "filler")] or ["plain"]
    style = base[int(rng.integers(len(base)))]
    top = 7.0 if template.currency == "₹" else 5.5  # log10 of the largest whole amount
    whole = int(10 ** rng.uniform(1.0, top))
    if style == "slash_dash" or rng.random() < 0.55:
        frac = 0
    else:
        frac = (
            int(rng.choice([50, 25, 75, 99, 10]))
            if rng.random() < 0.5
            else int(rng.integers(1, 100))
        )
    cents = max(whole, 1) * 100 + frac
    text = format_amount(cents, style, template.decimal_mark)
    return decorate(text, template, rng), canonical(cents)


def draw_account(template: Template, rng: np.random.Generator) -> str:
    """A random account number whose length the layout allows (leading zeros are common)."""
    lo, hi = template.fields.account.length
    length = int(rng.integers(lo, hi + 1))
    digits = rng.integers(0, 10, size=length)
    if rng.random() < 0.3:
        digits[: int(rng.integers(1, 3))] = 0
    return "".join(str(int(d)) for d in digits)


def insert_letter(text: str, rng: np.random.Generator) -> str:
    """Replace one digit (never the first) by a letter: the value is no longer a number."""
    positions = [i for i, c in enumerate(text) if c.isdigit()][1:] or [0]
    i = positions[int(rng.integers(len(positions)))]
    return text[:i] + LETTERS[int(rng.integers(len(LETTERS)))] + text[i + 1 :]


def _words_below_thousand(n: int) -> str:
    parts = []
    if n >= 100:
        parts.append(_ONES[n // 100] + " hundred")
        n %= 100
    if n >= 20:
        parts.append(_TENS[n // 10] + ("-" + _ONES[n % 10] if n % 10 else ""))
    elif n or not parts:
        parts.append(_ONES[n])
    return " ".join(parts)


def amount_in_words(value: str) -> str:
    """``"1250.50"`` -> ``"one thousand two hundred fifty and 50/100"`` (Western scale)."""
    whole_s, frac_s = value.split(".")
    whole = int(whole_s)
    chunks = []
    for scale, name in ((10**9, "billion"), (10**6, "million"), (10**3, "thousand")):
        if whole >= scale:
            chunks.append(_words_below_thousand(whole // scale) + " " + name)
            whole %= scale
    if whole or not chunks:
        chunks.append(_words_below_thousand(whole))
    text = " ".join(chunks)
    return text + (f" and {frac_s}/100" if frac_s != "00" else " only")
