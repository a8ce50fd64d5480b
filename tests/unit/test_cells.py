"""hdr.fields.cells: faint separators found on the gray page, against a plain re-statement."""

from __future__ import annotations

import numpy as np
import pytest

from hdr.fields.cells import MAX_BUSY, _dark_columns
from hdr.fields.lines import Rule


def _reference(gray, x0, x1, y0, y1, rules, busy_level):  # type: ignore[no-untyped-def]
    """The rule of _dark_columns' docstring, written the slow, obvious way."""
    band = gray[y0:y1, x0:x1].astype(np.float64)
    sample = np.sort(gray[y0:y1:2, x0:x1:2].ravel())
    paper, ink_grey = float(sample[len(sample) // 2]), float(sample[len(sample) // 50])
    lines = np.concatenate([gray[r.pos - 1 : r.pos + 2, x0:x1].min(axis=0) for r in rules])
    rule_grey = float(np.median(lines))
    dark = band < paper - max(8.0, min(0.5 * (paper - rule_grey), 0.25 * (paper - ink_grey)))
    cover = dark.mean(axis=0)
    if float(np.mean(cover >= busy_level)) > MAX_BUSY:
        return []
    # a row is dark at a column when it is dark there or in a column next to it
    padded = np.pad(dark, ((0, 0), (1, 1)))
    cover = (padded[:, :-2] | padded[:, 1:-1] | padded[:, 2:]).mean(axis=0)
    xs = np.flatnonzero(cover >= 0.85)
    runs = np.split(xs, np.flatnonzero(np.diff(xs) > 1) + 1) if xs.size else []
    thin = [r for r in runs if r.size <= max(3, 0.02 * (x1 - x0))]
    return [(x0 + round(float(r.mean())), int(r.size)) for r in thin]


@pytest.mark.parametrize("seed", range(6))
def test_dark_columns_match_the_plain_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    gray = rng.normal(235, 6, (160, 700)).clip(0, 255).astype(np.uint8)
    top, bottom = Rule(True, 20, 680, 30, 2), Rule(True, 20, 680, 130, 2)
    shade = int(rng.integers(120, 215))  # from dark ink to a separator barely off the paper
    for r in (top, bottom):
        gray[r.pos - 1 : r.pos + 1, 20:680] = shade
    for x in range(60, 660, 48):  # separators, some broken by the scan
        gray[31:130, x : x + 2] = shade
        if rng.random() < 0.3:
            gray[70:75, x : x + 2] = 240
    gray[60:100, 300:330] = int(rng.integers(20, 90))  # a digit's blob
    found = _dark_columns(gray, 20, 680, 34, 127, (top, bottom), 0.7)
    assert found == _reference(gray, 20, 680, 34, 127, (top, bottom), 0.7)
    if shade <= 200:
        assert len(found) >= 8


def _bands_reference(h_rules, width, height):  # type: ignore[no-untyped-def]
    """_boxed_bands as it was written before it compared the rules as arrays: every pair of
    lines, each rule's pieces looked up in a Python loop."""
    tol = 0.02 * width
    pairs = []
    for ref in h_rules:
        if ref.length < 0.05 * width:
            continue
        for other_pos in {
            r.pos for r in h_rules if 0.02 * height <= abs(r.pos - ref.pos) <= 0.25 * height
        }:
            pieces = [
                r
                for r in h_rules
                if abs(r.pos - other_pos) <= 2
                and r.start >= ref.start - tol
                and r.end <= ref.end + tol
            ]
            covered = sum(min(r.end, ref.end) - max(r.start, ref.start) for r in pieces)
            if not pieces or covered < 0.7 * ref.length:
                continue
            if (
                min(r.start for r in pieces) > ref.start + tol
                or max(r.end for r in pieces) < ref.end - tol
            ):
                continue
            other = Rule(True, ref.start, ref.end, other_pos, max(r.thickness for r in pieces))
            pair = (ref, other) if other_pos > ref.pos else (other, ref)
            if all(
                (p[0].pos, p[1].pos, p[0].start) != (pair[0].pos, pair[1].pos, pair[0].start)
                for p in pairs
            ):
                pairs.append(pair)
    return pairs


@pytest.mark.parametrize("seed", range(8))
def test_boxed_bands_match_the_plain_loop(seed: int) -> None:
    """Rows of cells and their broken sides, stray rules and text lines: the same pairs, in
    the same order, as the loop over every pair of rules gives."""
    from hdr.fields.cells import _boxed_bands

    rng = np.random.default_rng(seed)
    width, height = 2000, 900
    rules = []
    for _ in range(int(rng.integers(3, 8))):  # boxes: a top rule and a bottom one, in pieces
        x0 = int(rng.integers(0, 1200))
        x1 = x0 + int(rng.integers(100, 800))
        y0 = int(rng.integers(20, 700))
        y1 = y0 + int(rng.integers(25, 200))
        rules.append(Rule(True, x0, x1, y0, int(rng.integers(1, 4))))
        cuts = sorted(int(c) for c in rng.integers(x0, x1, int(rng.integers(0, 4))))
        for a, b in zip([x0, *cuts], [*cuts, x1], strict=True):
            if b - a > 10:  # a piece of the bottom rule, a pixel or two off its line
                rules.append(Rule(True, a + 3, b - 3, y1 + int(rng.integers(-2, 3)), 2))
    for _ in range(int(rng.integers(10, 120))):  # short strokes of print and writing
        x0 = int(rng.integers(0, 1900))
        rules.append(Rule(True, x0, x0 + int(rng.integers(5, 300)), int(rng.integers(0, 900)), 1))
    order = [int(i) for i in rng.permutation(len(rules))]
    shuffled = [rules[i] for i in order]
    got = _boxed_bands(shuffled, width, height)
    assert got == _bands_reference(shuffled, width, height)
    assert got  # the boxes give pairs: the comparison is not between two empty lists
