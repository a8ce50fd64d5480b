"""Assembly: glyph labels -> field values (amount grammar, account rules) -> confidence and status.

>>> from hdr.assemble import parse_amount
>>> parse_amount(list("₹1,25,000/-")).value
'125000.00'
"""

from hdr.assemble.account import parse_account
from hdr.assemble.amount import parse_amount
from hdr.assemble.decide import decide_field, decide_page, field_confidence, same_value_probs
from hdr.assemble.reading import Reading

__all__ = [
    "Reading",
    "decide_field",
    "decide_page",
    "field_confidence",
    "parse_account",
    "parse_amount",
    "same_value_probs",
]
