"""Time `hdr synth`: documents per second with N worker processes (results: docs/BENCHMARKS.md).

    nice -n 10 .venv/bin/python bench/synth.py --n 500 --workers 2 --per-format --write

Reports wall time and CPU time (this process and its joined workers). On a shared machine the
wall time depends on the other load; CPU time / workers is the wall time on idle cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from hdr.synth import SynthOptions, generate

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"
HEADING = "## Synthetic documents"


@dataclass(frozen=True)
class Run:
    formats: str
    n: int
    pages: int
    wall_s: float
    cpu_s: float
    mib: float


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def time_run(n: int, seed: int, workers: int, formats: str) -> Run:
    opts = SynthOptions(n=n, seed=seed, workers=workers, formats=tuple(formats.split(",")))
    with tempfile.TemporaryDirectory() as tmp:
        cpu0, start = _cpu_seconds(), time.perf_counter()
        records = generate(Path(tmp), opts)
        wall = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu0  # the pool's workers are joined, so their time is counted
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    return Run(formats, n, len(records), wall, cpu, size / 2**20)


def section(runs: list[Run], workers: int, command: str, load: tuple[float, float]) -> str:
    lines = [
        HEADING,
        "",
        f"`{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, shared: another helper was "
        f"training the CNN, load average {load[0]:.1f} before and {load[1]:.1f} after. Wall "
        "time depends on that load; CPU time (this process and its joined workers) does not, "
        f"and CPU / {workers} is the wall time on {workers} otherwise idle cores.",
        "",
        f"| formats | files | pages | wall s ({workers} workers) | CPU s | CPU ms / file "
        f"| CPU / {workers} s | MiB written |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r.formats} | {r.n} | {r.pages} | {r.wall_s:.1f} | {r.cpu_s:.1f} "
            f"| {r.cpu_s / r.n * 1000:.0f} | {r.cpu_s / workers:.1f} | {r.mib:.0f} |"
        )
    lines += [
        "",
        "Documents: 150-300 dpi, colour and grayscale; PDFs at 200 dpi, 40% of them with 2-3 "
        "pages. PNG costs most: scanner noise makes zlib slow and files big. This section is "
        "written by the command above; edit the code, not the numbers.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--formats", default="png,jpg,tif,pdf")
    parser.add_argument("--per-format", action="store_true", help="also n/4 files per format")
    parser.add_argument("--write", action="store_true", help=f"replace {HEADING} in BENCHMARKS")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    runs = [time_run(args.n, args.seed, args.workers, args.formats)]
    if args.per_format:
        runs += [time_run(args.n // 4, args.seed, args.workers, f) for f in args.formats.split(",")]
    for r in runs:
        print(
            f"{r.formats:>16}: {r.n} files, {r.pages} pages, {r.wall_s:.1f} s wall, "
            f"{r.cpu_s:.1f} s CPU ({r.cpu_s / r.n * 1000:.0f} ms/file), {r.mib:.0f} MiB"
        )
    if args.write:
        from hdr.train.baselines_bench import replace_markdown_section

        flags = " --per-format" if args.per_format else ""
        command = (
            f"nice -n 10 .venv/bin/python bench/synth.py --n {args.n} --workers "
            f"{args.workers} --formats {args.formats}{flags} --write"
        )
        text = section(runs, args.workers, command, (load_before, os.getloadavg()[0]))
        replace_markdown_section(BENCHMARKS_MD, HEADING, text)
        print(f"wrote {HEADING!r} in {BENCHMARKS_MD}")


if __name__ == "__main__":
    main()
