"""Would another score accept more fields before the misreads? Rankings compared on tuning rows.

A field is accepted when its score clears a threshold, and the threshold is set by the most
confident misreads (bench/tune.py). This script takes the rows that ``bench/tune.py --rows F``
saved (every field of the tuning sets, read with the thresholds at zero) and, for each ranking
below, counts the fields accepted before the 1st, 2nd, ... misread as the threshold falls. A
ranking that puts the misreads lower accepts more fields at the same misread rate.

- ``glyph``: the field's confidence as shipped (the glyph reader's, hdr.assemble.decide);
- ``line``: the line reader's path probability of its own reading;
- ``glyph+w*line``: the sum of both as log-odds, the line reader's weighted by ``w``;

Rows where the readers disagree are never accepted (``readers_disagree`` blocks them), so the
line reader's probability only re-ranks fields on which both readers read the same value.
The script also counts the wrong readings by kind (digits changed, lost, added, no value), and
with ``--sources`` traces the most confident misreads back to the written glyphs: for each digit
read as another, where the generator took it from (``mnist-test:<index>``, a font, the pen). The
synthetic sets draw their digits from the 10,000 images of MNIST's test split, so one image
turns up in many fields; where the same few images account for most of the confident
misreads, the thresholds are set by those few digits (docs/BENCHMARKS.md, twenty-first session).

    .venv/bin/python bench/tune.py --n 1000 --seed 1001,1002 --rows /tmp/rows.json
    .venv/bin/python bench/rank.py /tmp/rows.json
    .venv/bin/python bench/rank.py /tmp/rows.json --sources 30   # the 30 surest misreads' digits
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.tune import FIELDS, Row, before_misreads  # noqa: E402

WEIGHTS = (0.25, 0.5, 1.0)


def load_rows(path: Path) -> list[Row]:
    """The rows ``bench/tune.py --rows`` wrote."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Row(**{**d, "flags": tuple(d["flags"])}) for d in data]


def log_odds(p: float | None) -> float:
    """log(p / (1 - p)), kept finite at 0 and 1 (None counts as 0: no line reading)."""
    q = min(max(p or 0.0, 1e-9), 1.0 - 1e-9)
    return math.log(q / (1.0 - q))


def rankings() -> dict[str, Callable[[Row], float]]:
    """Name -> score of a row (higher is surer)."""
    out: dict[str, Callable[[Row], float]] = {
        "glyph": lambda r: r.confidence,
        "line": lambda r: r.line_confidence or 0.0,
    }
    for w in WEIGHTS:
        out[f"glyph+{w:g}*line"] = lambda r, w=w: (
            log_odds(r.confidence) + w * log_odds(r.line_confidence)
        )
    return out


def table(rows: list[Row], count: int = 5) -> list[str]:
    """Markdown table: per field and ranking, fields accepted before each misread."""
    lines = [
        "| field | ranking | fields with a value | accepted before the 1st, 2nd, ... misread |",
        "|---|---|---:|---|",
    ]
    for field in FIELDS:
        mine = [r for r in rows if r.field == field]
        valued = sum(r.truth is not None for r in mine)
        for name, score in rankings().items():
            curve = ", ".join(str(n) for n in before_misreads(mine, count, score))
            lines.append(f"| {field} | {name} | {valued} | {curve} |")
    return lines


def error_kind(truth: str, value: str | None) -> str:
    """How a wrong value differs from the truth: ``no value``, ``N digits changed`` (same
    length), ``N digits lost`` or ``N digits added`` (digits only, separators ignored)."""
    if value is None:
        return "no value"
    t = [c for c in truth if c.isdigit()]
    v = [c for c in value if c.isdigit()]
    if len(v) == len(t):
        return f"{sum(a != b for a, b in zip(t, v, strict=True))} digits changed"
    if len(v) < len(t):
        return f"{len(t) - len(v)} digits lost"
    return f"{len(v) - len(t)} digits added"


def error_table(rows: list[Row]) -> list[str]:
    """Markdown table: per field, the wrong readings by kind (fields whose truth has a value)."""
    lines = ["| field | fields with a value | wrong | kinds |", "|---|---:|---:|---|"]
    for field in FIELDS:
        valued = [r for r in rows if r.field == field and r.truth is not None]
        kinds = Counter(error_kind(r.truth, r.value) for r in valued if r.value != r.truth)
        text = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
        lines.append(f"| {field} | {len(valued)} | {sum(kinds.values())} | {text} |")
    return lines


def changed_glyphs(
    value: str, truth: str, written: list[tuple[str, str]]
) -> list[tuple[str, str, str]] | None:
    """For a wrong ``value`` with as many characters as ``truth``: (written, read, source) of
    every digit read as another. ``written`` is the field's glyphs as the generator wrote them,
    (label, source) in order; the k-th digit of the truth is the k-th digit written (an amount
    written without cents gets its ``00`` from the parser, after the digits written). None
    when the lengths differ (digits lost or added: a cut or a mark, not a glyph read as
    another).

    >>> changed_glyphs("545.00", "595.00", [("5", "a"), ("9", "b"), ("5", "c")])
    [('9', '4', 'b')]
    """
    if len(value) != len(truth):
        return None
    digits = [(label, source) for label, source in written if label.isdigit()]
    out = []
    k = -1
    for t, v in zip(truth, value, strict=True):
        if not t.isdigit():
            continue
        k += 1
        if t != v:
            out.append((t, v, digits[k][1] if k < len(digits) else "?"))
    return out


def source_report(rows: list[Row], top: int, data: Path | None, data_dir: Path) -> list[str]:
    """The ``top`` most confident accepted-looking misreads per field (no blocking flag, so only
    the threshold stands between them and a person), each with the digits read as another and
    where the generator took them from; then how often the same image recurs among them."""
    from hdr.synth.generate import set_tag
    from hdr.synth.truth import TruthRecord, read_truth

    cache: dict[Path, dict[tuple[str, int], TruthRecord]] = {}

    def record(source: str) -> TruthRecord | None:
        name, _, page = source.rpartition("#")
        folder = data
        if "/" in name:
            set_name, name = name.split("/", 1)
            found = sorted(data_dir.glob(f"tune-seed{set_name[1:]}-n*-{set_tag()}"))
            folder = found[0] if found else None
        if folder is None or not (folder / "truth.jsonl").exists():
            return None
        if folder not in cache:
            cache[folder] = {(r.file, r.page): r for r in read_truth(folder / "truth.jsonl")}
        return cache[folder].get((name, int(page)))

    lines = [
        "| field | confidence | read | truth | digits read as another (written, read, source) |",
        "|---|---:|---|---|---|",
    ]
    counts: Counter[str] = Counter()
    traced = 0
    for field in FIELDS:
        wrong = [
            r
            for r in rows
            if r.field == field and r.clean and r.value is not None and r.value != r.truth
        ]
        for r in sorted(wrong, key=lambda r: -r.confidence)[:top]:
            rec = record(r.source)
            changes = None
            if rec is not None and r.truth is not None and r.value is not None:
                written = [(g.label, g.source) for g in rec.glyphs.get(field, [])]
                changes = changed_glyphs(r.value, r.truth, written)
            if changes is None:
                text = "(lengths differ)" if rec is not None else "(set not found)"
            else:
                traced += 1
                counts.update(src for _, _, src in changes if src.startswith("mnist-test:"))
                text = ", ".join(f"{t} as {v} ({src})" for t, v, src in changes)
            lines.append(f"| {field} | {r.confidence:.6f} | {r.value} | {r.truth} | {text} |")
    repeated = [(src, n) for src, n in counts.most_common() if n > 1]
    lines += [
        "",
        f"{traced} of these misreads have digits read as another; their MNIST test images "
        f"number {len(counts)}, and {len(repeated)} of them recur: "
        + (", ".join(f"{src} x{n}" for src, n in repeated) or "none")
        + ".",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rows", type=Path, help="JSON written by bench/tune.py --rows")
    parser.add_argument("--count", type=int, default=5, help="misreads to count down to")
    parser.add_argument(
        "--sources",
        type=int,
        default=0,
        metavar="N",
        help="trace the N most confident misreads per field back to the digits written",
    )
    parser.add_argument("--data", type=Path, help="the set of rows without a set prefix")
    args = parser.parse_args()
    print(f"Command: `python bench/rank.py {args.rows}` (rows of bench/tune.py --rows)\n")
    rows = load_rows(args.rows)
    print("\n".join(table(rows, args.count)))
    print("\nWrong readings by kind (any decision):\n")
    print("\n".join(error_table(rows)))
    if args.sources:
        from hdr.config import Settings

        print(f"\nThe {args.sources} most confident misreads per field with no blocking flag:\n")
        print("\n".join(source_report(rows, args.sources, args.data, Settings().data_dir)))


if __name__ == "__main__":
    main()
