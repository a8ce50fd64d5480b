"""Benchmark the seed baselines and the CNN on MNIST; writes the `## Baselines` section.

Usage (from the repository root; the same as `make bench`):

    .venv/bin/python bench/digits.py                       # full run, writes docs/BENCHMARKS.md
    .venv/bin/python bench/digits.py --limit-train 2000    # any `hdr bench digits` option

Options are those of `hdr bench digits`; without `--write` the result goes to
docs/BENCHMARKS.md, so a plain run refreshes the published table.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hdr.cli import main

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--write" not in args and not any(a.startswith("--write=") for a in args):
        args += ["--write", os.path.relpath(BENCHMARKS_MD)]
    sys.argv = ["hdr", "bench", "digits", *args]
    main()
