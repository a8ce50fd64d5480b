"""The amount grammar: glyph labels as read -> a two-decimal string, or None and a flag.

What people write in a courtesy-amount box, and what we accept:

- leading currency marks (``₹ $ €``), filler stars ``*``, ``#``, dashes, and the dot of "Rs."
  (never a ``/`` or a ``,``: before the digits that is a misread ``1``)
- digits, grouped or not: western ``1,234,567``, Indian ``12,34,567``, with ``,`` ``.`` or ``'``
  as the group separator (mixed, as on real cheques: ``71,00.000``)
- a decimal part of one or two digits after the last separator (``.5`` -> ``.50``); a group
  separator is always followed by three digits, so the last separator followed by one or two
  digits is the decimal mark, whichever of ``.`` or ``,`` it is
- trailing ``/-``, ``-``, ``=/-``, ``.-``, stars and currency marks: no cents, or fillers

Everything else gives ``value=None`` and a flag: ``field_empty`` (no digit), ``amount_grammar``
(impossible grouping, a ``/`` or ``-`` between digits, a leading zero), ``amount_ambiguous``
(two readings are possible, e.g. ``.50`` may be 0.50 or "Rs. 50"), ``unexpected_symbol`` (a
glyph of the reject class between digits; at the ends it is dropped but still flagged),
``amount_zero``, ``amount_too_long``. A reject glyph right after the last digit (or after a
group mark that follows it) that is as tall as a digit (``digit_sized``, from the field's
geometry) is a character we could not read, not a crumb or a label: the value is unknown
(``unexpected_symbol``), so ``1234`` with its ``4`` unread is never taken for ``123``. Nothing
is guessed. A one-digit decimal part is read (``.5`` -> ``.50``) but flagged ``short_cents``: it
is rare, and often a lost digit.

>>> parse_amount(list("12,34,567/-")).value
'1234567.00'
>>> parse_amount(list("*1.250,5*")).value
'1250.50'
>>> parse_amount(list("1,2500"))
Reading(value=None, flags=('amount_grammar',))
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from hdr.assemble.reading import Reading, digit_span
from hdr.classify.labels import CURRENCY, DIGITS, REJECT

GROUP_MARKS = frozenset({",", ".", "'"})  # "'" is a "," or "." written high (an apostrophe)
DECIMAL_MARKS = frozenset({",", "."})
LEAD_FILLERS = frozenset({*CURRENCY, "*", "#", "-", "="})  # no "/": it is a "1" more often
TRAIL_FILLERS = frozenset({*CURRENCY, "*", "#", "-", "/", "=", *GROUP_MARKS})
NO_CENTS = frozenset({"/", "-", "="})  # "/-" "-" "=/-": a whole amount
MAX_WHOLE_DIGITS = 12
_DIGITS = frozenset(DIGITS)


def _valid_grouping(groups: Sequence[str]) -> bool:
    """Western 1,234,567 or Indian 12,34,567 (the first group may be shorter)."""
    first, rest = groups[0], groups[1:]
    western = 1 <= len(first) <= 3 and all(len(g) == 3 for g in rest)
    indian = 1 <= len(first) <= 2 and len(rest[-1]) == 3 and all(len(g) == 2 for g in rest[:-1])
    return western or indian


def _core(tokens: Sequence[str]) -> tuple[list[str], list[str]] | str:
    """Split digits-and-separators into digit groups and separators, or return a flag."""
    groups: list[str] = [""]
    seps: list[str] = []
    for tok in tokens:
        if tok in _DIGITS:
            groups[-1] += tok
        elif tok in GROUP_MARKS:
            if not groups[-1]:
                return "amount_grammar"  # two separators in a row
            seps.append(tok)
            groups.append("")
        elif tok == REJECT or tok not in LEAD_FILLERS | TRAIL_FILLERS:
            return "unexpected_symbol"
        else:
            return "amount_grammar"  # "/", "-", a currency mark or a star between digits
    return groups, seps


def _whole_and_cents(groups: list[str], seps: list[str]) -> tuple[str, str] | str:
    cents = ""
    if seps and len(groups[-1]) <= 2:
        decimal = seps[-1]
        if decimal not in DECIMAL_MARKS:
            return "amount_grammar"
        if decimal in seps[:-1]:
            return "amount_ambiguous"  # "1,234,50": the decimal mark is also a group mark
        cents = groups[-1].ljust(2, "0")
        groups, seps = groups[:-1], seps[:-1]
    if seps and not _valid_grouping(groups):
        return "amount_grammar"
    whole = "".join(groups)
    if len(whole) > 1 and whole.startswith("0"):
        return "amount_grammar"  # "0500", "0,500": not how an amount is written
    return whole, cents or "00"


def parse_amount(labels: Sequence[str], digit_sized: Collection[int] = ()) -> Reading:
    """Assemble an amount from glyph labels in reading order (see the module docstring).

    ``digit_sized``: indices of the glyphs as tall as a digit and on the line of the digits.

    >>> parse_amount(["₹", "5", "0", "/", "-"]).value
    '50.00'
    >>> parse_amount(["1", "2", "reject"], digit_sized={0, 1, 2})
    Reading(value=None, flags=('unexpected_symbol',))
    """
    tokens = list(labels)
    span = digit_span(tokens)
    if isinstance(span, Reading):
        return span
    first, last = span
    after = last + 1
    while after < len(tokens) and tokens[after] in GROUP_MARKS:
        after += 1  # "44,20,?": the group mark says digits follow, and one was not read
    if after < len(tokens) and tokens[after] == REJECT and after in digit_sized:
        return Reading(None, ("unexpected_symbol",))  # a digit we could not read, most likely
    flags: list[str] = []
    lead, core, trail = tokens[:first], tokens[first : last + 1], tokens[last + 1 :]
    if any(t not in LEAD_FILLERS | GROUP_MARKS for t in lead if t != REJECT):
        return Reading(None, ("amount_grammar",))  # e.g. "/250": a "1" misread, not a filler
    if trail[:2] == ["/", "/"]:
        return Reading(None, ("amount_grammar",))  # "24//-": a slanted "1" before the "/-"
    if REJECT in lead or any(t not in TRAIL_FILLERS for t in trail):
        flags.append("unexpected_symbol")  # a scribble or letter next to the amount
    parts = _core(core)
    if isinstance(parts, str):
        return Reading(None, (*flags, parts) if parts not in flags else tuple(flags))
    groups, seps = parts
    # A mark right before the digits: ".50" is 0.50, or the "Rs." of "Rs.50"; "Rs.50/-" says
    # no cents, so it is 50. Before three or more digits (".1250") it cannot be a decimal mark.
    lead_mark = bool(lead) and lead[-1] in GROUP_MARKS
    if lead_mark and lead[-1] != ".":
        # ",1250": no abbreviation ends in a comma or an apostrophe; a "1" broken or written
        # short, read as a comma, most likely (and the value would lose a digit)
        return Reading(None, (*flags, "amount_grammar"))
    if lead_mark and not seps and len(groups[0]) <= 2 and not any(t in NO_CENTS for t in trail):
        return Reading(None, (*flags, "amount_ambiguous"))
    split = _whole_and_cents(groups, seps)
    if isinstance(split, str):
        return Reading(None, (*flags, split))
    whole, cents = split
    if seps and len(groups[-1]) == 1:
        flags.append("short_cents")  # "12.5": valid, but rarely written; a digit may be lost
    if len(whole) > MAX_WHOLE_DIGITS:
        return Reading(None, (*flags, "amount_too_long"))
    if int(whole) == 0 and cents == "00":
        return Reading(None, (*flags, "amount_zero"))
    return Reading(f"{int(whole)}.{cents}", tuple(flags))


TAIL_AS_DIGITS = 2  # labels the line reader may put where the glyph reader read the "/-" tail


def tail_read_as_digits(line: Sequence[str], glyphs: Sequence[str], value: str | None) -> bool:
    """Whether the line reader read ``value`` too, but for the closing ``/-``.

    ``glyphs`` are the glyph reader's labels, which end in a ``/`` and dashes after the last
    digit (its tail reading placed them by their shape: a stroke taller than the digits, then
    flat ones); ``line`` are the line reader's. That reader never saw a ``/-`` written the way
    Indian cheques close an amount (an upright stroke with the dash high at its top or far
    out), and reads it as a ``1`` and at most one more character: ``99,0001`` for ``99,000/-``.
    Such a reading agrees with the glyph reader where, cut before that ``1``, it gives the same
    value. Whether the stroke is a ``/`` or a ``1`` is the glyph reader's own question
    (``slash_or_one``), which stays with the field.

    >>> tail_read_as_digits(list("99,0001"), list("99,000/-"), "99000.00")
    True
    >>> tail_read_as_digits(list("99,0001"), list("99,0001"), "990001.00")  # no tail was read
    False
    >>> tail_read_as_digits(list("98,0001"), list("99,000/-"), "99000.00")  # another value
    False
    """
    if value is None:
        return False
    at = [i for i, t in enumerate(glyphs) if t in _DIGITS]
    tail = list(glyphs[at[-1] + 1 :]) if at else []
    if tail[:1] != ["/"] or "-" not in tail or any(t not in ("/", "-") for t in tail):
        return False
    labels = list(line)
    for cut in range(max(1, len(labels) - TAIL_AS_DIGITS), len(labels)):
        if labels[cut] == "1" and parse_amount(labels[:cut], set(range(cut))).value == value:
            return True
    return False


def line_missed_marks(line: Sequence[str], glyphs: Sequence[str], value: str | None) -> bool:
    """Whether the line reader read the glyph reader's digits and only left marks out.

    ``line`` are the line reader's labels and ``glyphs`` the glyph reader's, whose value is
    ``value``. They agree on the digits where the line reader's labels are the glyph reader's
    with some marks (separators, the ``/-`` tail) left out, and that loss is why they make no
    amount: the line reader reads a comma of Indian grouping poorly (``4,76500/-`` for
    ``4,76,500/-``), and the grammar then refuses the grouping. What the marks mean stays the
    glyph reader's reading (each mark is a glyph it read, and its probability is in the field's
    confidence). A mark the line reader read where the glyph reader read none (``1,8700`` for
    ``18700``), a digit either reads that the other does not, or a line reading that makes
    another amount (``187.00`` for ``18700``) is a disagreement.

    >>> line_missed_marks(list("4,76500/-"), list("4,76,500/-"), "476500.00")
    True
    >>> line_missed_marks(list("7100,000"), list("71,00,000/-"), "7100000.00")
    True
    >>> line_missed_marks(list("1,8700"), list("18700"), "18700.00")  # a mark of its own
    False
    >>> line_missed_marks(list("2,6000"), list("2,60,000"), "260000.00")  # a digit lost
    False
    """
    if value is None or [t for t in line if t in _DIGITS] != [t for t in glyphs if t in _DIGITS]:
        return False
    if parse_amount(list(line), set(range(len(line)))).value is not None:
        return False  # it reads an amount of its own: the same one, or a disagreement
    rest = iter(glyphs)
    return all(any(t == g for g in rest) for t in line)  # the line's labels in order, none added
