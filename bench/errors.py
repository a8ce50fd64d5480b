"""Where the reader goes wrong: every misread field of an ``hdr synth`` set, by the stage at fault.

The pipeline reads the set with the configured model; each field whose truth has a value is
compared with what was written (``amount_text`` / ``account_text``, letters standing for the
reject class) and put in one bucket:

- ``ok``: the value is the truth;
- ``not_found``: no field, or no glyph read at all;
- ``fewer`` / ``more``: the reader cut fewer / more glyphs than were written (segmentation:
  merged or lost glyphs, split or extra ones);
- ``glyph``: as many glyphs as written, at least one read as another class (the classifier, or
  a cut in the wrong place that kept the count); the confusions are counted;
- ``assembly``: every glyph read as written, the value still wrong (grammar, decoding).

    .venv/bin/python bench/errors.py --n 300 --seed 1001          # the tuning set
    .venv/bin/python bench/errors.py --data DIR --show 20         # any synth folder, 20 examples

For the account fields whose glyph count came out right, every written digit is also put in one
of three groups by where the generator wrote it, with the share of each group misread:
``in its cell`` (no neighbour reaches in), ``a neighbour reaches in`` (by a tenth of the cell or
more), ``over the line`` (the digit itself sticks out of its cell by 15 % of the cell or more).

Only the tuning seed or a seed of its own: this is a tool for development, its figures go in
no table.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.tune import FIELDS, ensure_set, page_fields  # noqa: E402
from hdr.synth.truth import GlyphTruth, TruthRecord  # noqa: E402
from hdr.types import Box  # noqa: E402


def written(text: str | None) -> str:
    """The glyph string as the reader's raw text spells it: letters are the reject ``?``."""
    from hdr.classify.labels import LABELS

    return "".join(ch if ch in LABELS else "?" for ch in (text or "").replace(" ", ""))


def bucket(truth_value: str | None, value: str | None, raw: str, text: str, found: bool) -> str:
    if value == truth_value:
        return "ok"
    if not found or not raw:
        return "not_found"
    if len(raw) < len(text):
        return "fewer"
    if len(raw) > len(text):
        return "more"
    if raw != text:
        return "glyph"
    return "assembly"


PLACEMENTS = ("in its cell", "a neighbour reaches in", "over the line")


def placement(cells: Sequence[Box], glyphs: Sequence[GlyphTruth], i: int) -> str:
    """Where digit ``i`` (glyphs sorted left to right) was written: see the module docstring."""
    cell = glyphs[i].cell
    assert cell is not None  # account_placements takes only digits written in a cell
    x0, _, x1, _ = cells[cell]
    gx0, _, gx1, _ = glyphs[i].box
    width = max(1, x1 - x0)
    if (max(0, x0 - gx0) + max(0, gx1 - x1)) / width > 0.15:
        return PLACEMENTS[2]
    for j in (i - 1, i + 1):
        if 0 <= j < len(glyphs):
            nx0, _, nx1, _ = glyphs[j].box
            if (min(nx1, x1) - max(nx0, x0)) / width > 0.1:
                return PLACEMENTS[1]
    return PLACEMENTS[0]


def account_placements(
    rows: list[dict], truths: dict[str, TruthRecord]
) -> dict[str, tuple[int, int]]:
    """(digits, misread) per placement, over the account rows read with the right length;
    ``truths``: the truth record of each row's ``source``."""
    out = {k: [0, 0] for k in PLACEMENTS}
    for r in rows:
        if r["field"] != "account" or len(r["raw"]) != len(r["text"]):
            continue
        record = truths[r["source"]]
        glyphs = sorted(record.glyphs["account"], key=lambda g: g.box[0])
        if len(glyphs) != len(r["text"]) or any(g.cell is None for g in glyphs):
            continue
        for i in range(len(glyphs)):
            where = placement(record.cells, glyphs, i)
            out[where][0] += 1
            out[where][1] += r["raw"][i] != r["text"][i]
    return {k: (v[0], v[1]) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="an existing `hdr synth` folder")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1001)
    parser.add_argument("--show", type=int, default=8, help="examples listed per bucket")
    parser.add_argument("--rows", type=Path, help="save one JSON row per field here")
    args = parser.parse_args()
    folder = ensure_set(args.data, args.n, args.seed)

    from hdr.config import load_pipeline_config

    rows = []
    truths: dict[str, TruthRecord] = {}  # the truth record of each page read
    for source, t, field, fr in page_fields(folder, load_pipeline_config()):
        truths[source] = t
        tv = getattr(t, field)
        if tv is None:
            continue
        text = written(getattr(t, f"{field}_text"))
        raw = fr.raw_text if fr else ""
        value = fr.value if fr else None
        rows.append(
            {
                "field": field,
                "source": source,
                "layout": t.layout,
                "truth": tv,
                "text": text,
                "value": value,
                "raw": raw,
                "status": fr.status.value if fr else "missing",
                "confidence": fr.confidence if fr else 0.0,
                "flags": list(fr.flags) if fr else ["field_not_found"],
                "bucket": bucket(tv, value, raw, text, fr is not None),
            }
        )
    if args.rows:
        args.rows.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    for field in FIELDS:
        sub = [r for r in rows if r["field"] == field]
        counts = collections.Counter(r["bucket"] for r in sub)
        print(f"\n## {field}: {len(sub)} fields")
        for b in ("ok", "not_found", "fewer", "more", "glyph", "assembly"):
            print(f"  {b:10s} {counts[b]:5d}  {counts[b] / max(1, len(sub)):6.1%}")
        conf: collections.Counter[str] = collections.Counter()
        for r in sub:
            if r["bucket"] == "glyph":
                pairs = zip(r["text"], r["raw"], strict=True)
                conf.update(f"{a}->{b}" for a, b in pairs if a != b)
        common = ", ".join(f"{k} {v}" for k, v in conf.most_common(20))
        print("  confusions (written->read):", common)
        if field == "account":
            for where, (n, bad) in account_placements(sub, truths).items():
                print(f"  digits {where:24s} {n:5d}, misread {bad:4d} ({bad / max(1, n):6.2%})")
        for b in ("not_found", "fewer", "more", "glyph", "assembly"):
            examples = [r for r in sub if r["bucket"] == b][: args.show]
            for r in examples:
                print(
                    f"  {b:9s} {r['source']:14s} {r['layout']:18s} wrote {r['text']!r:16s} "
                    f"read {r['raw']!r:16s} -> {r['value']} ({', '.join(r['flags'][:4])})"
                )


if __name__ == "__main__":
    main()
