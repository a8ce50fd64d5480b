"""What an assembly rule returns: a value (or None) and the flags that explain it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hdr.classify.labels import DIGITS, REJECT


@dataclass(frozen=True)
class Reading:
    """A field's value as assembled from its glyph labels.

    ``value`` is None whenever the labels do not make a valid value; ``flags`` say why, or warn
    about something that needs a person even though a value was found.
    """

    value: str | None
    flags: tuple[str, ...] = ()


def digit_span(tokens: Sequence[str]) -> tuple[int, int] | Reading:
    """Index of the first and last digit, or the reading of a field without any digit."""
    digit_at = [i for i, t in enumerate(tokens) if t in DIGITS]
    if digit_at:
        return digit_at[0], digit_at[-1]
    flags = ("unexpected_symbol",) if REJECT in tokens else ()
    return Reading(None, (*flags, "field_empty"))
