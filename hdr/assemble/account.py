"""Account numbers: digits only, with a length the layout allows.

A dash or dot between digit groups (``1234-5678``) is dropped: people write them
and banks ignore them. A star, ``#`` or currency mark before or after the digits is a filler.
A glyph of the reject class (a letter, a scribble) between digits makes the value unknown
(``unexpected_symbol``); at the ends (a bit of a printed "A/c No." label) it is dropped but still
flagged, except in a row of printed cells, where it is a character of its own. A length outside
``[min, max]`` keeps the value but flags ``account_length``.

>>> parse_account(list("0012345678"), (8, 16)).value
'0012345678'
>>> parse_account(list("12345"), (8, 16))
Reading(value='12345', flags=('account_length',))
"""

from __future__ import annotations

from collections.abc import Sequence

from hdr.assemble.reading import Reading, digit_span
from hdr.classify.labels import CURRENCY, DIGITS, REJECT

SEPARATORS = frozenset({"-", ".", ",", "'"})
END_FILLERS = frozenset({*CURRENCY, "*", "#", *SEPARATORS})
_DIGITS = frozenset(DIGITS)


def parse_account(labels: Sequence[str], length: tuple[int, int], cells: bool = False) -> Reading:
    """Assemble an account number from glyph labels in reading order.

    ``cells``: the glyphs were read one per printed cell. No label is printed inside the cells,
    so a reject glyph there, at the ends too, is a character we could not read: no value.
    """
    tokens = list(labels)
    span = digit_span(tokens)
    if isinstance(span, Reading):
        return span
    if cells and REJECT in tokens:
        return Reading(None, ("unexpected_symbol",))
    first, last = span
    flags: list[str] = []
    ends = tokens[:first] + tokens[last + 1 :]
    if any(t not in END_FILLERS for t in ends):
        flags.append("unexpected_symbol")
    core = tokens[first : last + 1]
    digits = ""
    previous_sep = False
    for tok in core:
        if tok in _DIGITS:
            digits += tok
            previous_sep = False
        elif tok in SEPARATORS and not previous_sep:
            previous_sep = True
        elif tok == REJECT or tok not in SEPARATORS:
            return Reading(None, (*dict.fromkeys([*flags, "unexpected_symbol"]),))
        else:
            return Reading(None, (*flags, "account_grammar"))  # two separators in a row
    lo, hi = length
    if not lo <= len(digits) <= hi:
        flags.append("account_length")
    return Reading(digits, tuple(flags))
