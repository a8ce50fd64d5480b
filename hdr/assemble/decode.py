"""Read the most probable *valid* label sequence, not just the most probable label per glyph.

The classifier sees one glyph at a time; the grammar knows that a ``/`` cannot stand between
digits of an amount, so a slanted ``1`` read as ``/`` (p 0.6) is better read as ``1`` (p 0.35)
when only that makes a value. When the per-glyph best labels give no value, up to two glyphs are
changed to a runner-up label (never to or from the reject class: a letter stays a letter), and
the valid sequence with the highest joint probability wins. The confidence computed afterwards
(:func:`hdr.assemble.decide.same_value_probs`) tells how much that correction can be trusted.

>>> import numpy as np
>>> from hdr.assemble.amount import parse_amount
>>> from hdr.classify.labels import LABELS
>>> probs = np.full((3, len(LABELS)), 1e-4)
>>> probs[0, LABELS.index("5")] = 0.99
>>> probs[1, LABELS.index("/")], probs[1, LABELS.index("1")] = 0.6, 0.35
>>> probs[2, LABELS.index("0")] = 0.99
>>> labels, reading = decode(probs, parse_amount)
>>> "".join(labels), reading.value
('510', '510.00')
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from hdr.assemble.reading import Reading
from hdr.classify.labels import LABELS, REJECT

_REJECT = LABELS.index(REJECT)
MIN_ALTERNATIVE = 0.001  # runner-up labels less likely than this are not tried (a slanted
# '1' read as '/' at 0.99 still leaves the '1' a few thousandths; the confidence that follows,
# not this cut-off, keeps such a correction in review)
MAX_ALTERNATIVES = 12  # the cheapest changes considered (pairs of them: 66 parses at most)


def decode(probs: np.ndarray, parse: Callable[[list[str]], Reading]) -> tuple[list[str], Reading]:
    """Labels and reading of the most probable sequence that ``parse`` accepts (value not None).

    ``probs`` is N x len(LABELS). When no sequence within two changes is valid, the per-glyph
    best labels are returned with their (valueless) reading.
    """
    best = [int(k) for k in np.argmax(probs, axis=1)] if len(probs) else []
    labels = [LABELS[k] for k in best]
    reading = parse(labels)
    if reading.value is not None:
        return labels, reading
    logp = np.log(np.clip(probs, 1e-12, 1.0))
    changes: list[tuple[float, int, int]] = []
    for i, k0 in enumerate(best):
        if k0 == _REJECT:
            continue
        for alt in (int(a) for a in np.nonzero(probs[i] >= MIN_ALTERNATIVE)[0]):
            if alt not in (k0, _REJECT):
                changes.append((float(logp[i, alt] - logp[i, k0]), i, alt))
    changes.sort(key=lambda c: -c[0])
    changes = changes[:MAX_ALTERNATIVES]
    found: tuple[float, list[str], Reading] | None = None
    combos = itertools.chain(((c,) for c in changes), itertools.combinations(changes, 2))
    for combo in combos:
        if len({i for _, i, _ in combo}) < len(combo):
            continue
        cost = sum(c for c, _, _ in combo)
        if found is not None and cost <= found[0]:
            continue
        trial = list(labels)
        for _, pos, label in combo:
            trial[pos] = LABELS[label]
        attempt = parse(trial)
        if attempt.value is not None:
            found = (cost, trial, attempt)
    if found is None:
        return labels, reading
    return found[1], Reading(found[2].value, (*found[2].flags, "grammar_corrected"))
