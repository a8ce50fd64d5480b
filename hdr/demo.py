"""`make demo`: the main job end to end on the embedded defaults.

1. apply the database migrations (SQLite under the data directory unless HDR_DB_URL is set);
2. synthesise a fresh inbox of scanned cheques and deposit slips with `hdr synth` (unless an
   inbox is given);
3. run the batch flow on it with `hdr batch` (Prefect, ephemeral mode: no server needed);
4. print the summary and where the results are.

Each step is the same `hdr` command a user would type, so the demo shows the real interface::

    python -m hdr.demo                 # fresh synthetic inbox
    python -m hdr.demo --inbox DIR     # your own scans
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from hdr.config import Settings

console = Console()


def _hdr(*args: str, env: dict[str, str]) -> None:
    cmd = [sys.executable, "-m", "hdr", *args]
    console.print(f"[bold cyan]$ hdr {shlex.join(args)}[/]")
    proc = subprocess.run(cmd, env=env, check=False)
    # `hdr batch` exits 1 when some inputs were stored as errors: that is a result, not a failure.
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and args[0] != "batch"):
        console.print(f"[red]demo: `hdr {args[0]}` failed with exit status {proc.returncode}[/]")
        sys.exit(proc.returncode)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", type=Path, help="a folder of scans (default: synthesise one)")
    parser.add_argument("--n", type=int, default=24, help="documents to synthesise")
    parser.add_argument("--seed", type=int, help="synthesis seed (default: from the clock)")
    args = parser.parse_args(argv)

    settings = Settings()
    env = dict(os.environ)
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    db_url = settings.db_url_or_default()
    env["HDR_DB_URL"] = db_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    _hdr("db", "upgrade", env=env)
    inbox = args.inbox
    if inbox is None:
        seed = args.seed if args.seed is not None else int(time.time()) % 1_000_000
        inbox = settings.data_dir / "demo" / f"inbox-{seed}"
        _hdr(
            "synth",
            "--out",
            str(inbox),
            "--n",
            str(args.n),
            "--seed",
            str(seed),
            "--formats",
            "png,jpg,tif,pdf",
            "--unseen-share",
            "0.25",
            env=env,
        )
    _hdr("batch", str(inbox), env=env)

    console.rule("[bold]where the results are")
    console.print(f"database:   {db_url}")
    console.print(f"inbox:      {inbox}")
    if (inbox / "truth.jsonl").exists():
        console.print(f"truth:      {inbox / 'truth.jsonl'} (what was written on each page)")
    console.print("look at them with:")
    for cmd in (
        "hdr results summary",
        "hdr results list --status review",
        "hdr results export --format csv > results.csv",
        "hdr review next",
        "hdr users add alice --role reviewer   # asks for a password",
        "hdr web            # the review web app, http://127.0.0.1:8000",
    ):
        console.print(f"  .venv/bin/{cmd}")


if __name__ == "__main__":
    main()
