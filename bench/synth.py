"""Time `hdr synth`: documents per second with N worker processes (results: docs/BENCHMARKS.md).

nice -n 10 .venv/bin/python bench/synth.py --n 500 --workers 2 --formats png,jpg,tif,pdf
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from collections import Counter
from pathlib import Path

from hdr.synth import SynthOptions, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--formats", default="png,jpg,tif,pdf")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the best is reported")
    args = parser.parse_args()
    opts = SynthOptions(
        n=args.n, seed=args.seed, workers=args.workers, formats=tuple(args.formats.split(","))
    )
    times, cpus = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            cpu0 = _cpu_seconds()
            start = time.perf_counter()
            records = generate(Path(tmp), opts)
            times.append(time.perf_counter() - start)
            cpus.append(_cpu_seconds() - cpu0)  # the workers are joined: their time is counted
            size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    best = min(times)
    formats = Counter(r.format for r in records if r.page == 0)
    print(
        f"{args.n} documents ({len(records)} pages; {dict(formats)}), {args.workers} workers: "
        f"{best:.1f} s best of {args.repeat} ({args.n / best:.1f} docs/s, {size / 2**20:.0f} MiB)"
    )
    cpu = min(cpus)
    print(
        f"CPU time {cpu:.1f} s ({cpu / args.n * 1000:.0f} ms per document), that is "
        f"{cpu / args.workers:.1f} s of wall time on {args.workers} otherwise idle cores"
    )
    print(
        f"cpu: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


if __name__ == "__main__":
    main()
