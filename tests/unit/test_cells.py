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
