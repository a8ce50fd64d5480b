"""Orchestration cost of `process-batch`; what 2 Dask workers buy (results: docs/BENCHMARKS.md).

    nice -n 10 .venv/bin/python bench/flows.py --n 500 --write docs/BENCHMARKS.md

On the same ``hdr synth --n 500 --seed 9100`` documents, one process per measurement, as a user
runs them, each measurement ``--repeat`` times, interleaved, best wall time kept (the machine
is shared: the best of N is the run least disturbed by others):

1. overhead: ``hdr read DIR --jsonl`` (the plain pipeline, nothing stored) against
   ``hdr batch DIR`` (the same reading as the process-batch flow, reporting to the temporary
   Prefect API it starts, as Prefect's ephemeral mode does, with hashing, skip checks and one
   transaction per document, fresh SQLite file), and ``hdr batch`` against a running Prefect
   server (``PREFECT_API_URL``, as under `make serve`); and that temporary API alone, started,
   answering and stopped (flows.ephemeral), the fixed part every ``hdr batch`` pays;
2. per task: ``hdr batch`` over the stored documents again (everything is skipped, so only
   orchestration and bookkeeping remain), ``--chunk-size 1`` (one task per document) against
   32, one chunk at a time (``HDR_FLOWS_BATCH__LOCAL_WORKERS=1``);
3. Dask: ``taskset -c 0 hdr batch --chunk-size 16`` with one chunk at a time, one pipeline
   thread and nothing read before the flow starts (``HDR_FLOWS_BATCH__LOCAL_WORKERS=1``,
   ``HDR_FLOWS_BATCH__READ_THREADS=1``, ``HDR_FLOWS_BATCH__READ_AHEAD=false``), pinned to one
   core, against ``hdr batch
   --dask-address`` on a local cluster of 2 worker processes x 1 thread (each chunk read with 1
   pipeline thread, as configured for Dask), both cores, timed inside the flow (the ephemeral
   server's start is the same for both). The workers are warmed first (imports, model), as in
   a cluster that stays up between batches; their CPU time is read from the workers themselves.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hdr.train.baselines_bench import replace_markdown_section  # noqa: E402

HEADING = "## Orchestration"
MACHINE_NOTE = "nothing else running on purpose (the load counts the runs' own processes)"


@dataclass
class Run:
    name: str
    wall_s: float  # the whole process, start-up included
    cpu_s: float  # the process and its children (plus Dask workers / the server, when used)
    load: tuple[float, float]  # 1-minute load average before and after
    flow_s: float  # inside the flow (`hdr batch --json`), else the wall time
    summary: dict[str, Any] | None = None


def _children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def run_hdr(
    name: str,
    args: list[str],
    env: dict[str, str],
    extra_cpu: Any = None,
    cores: str | None = None,
) -> Run:
    """One `hdr` process; ``extra_cpu()`` adds CPU seconds spent elsewhere (workers, server).

    ``cores`` pins the process (and what it starts) to those CPUs with ``taskset``.
    """
    load0, extra0 = os.getloadavg()[0], extra_cpu() if extra_cpu else 0.0
    cpu0, start = _children_cpu(), time.perf_counter()
    pin = ["taskset", "-c", cores] if cores else []
    proc = subprocess.run(
        [*pin, sys.executable, "-m", "hdr", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    cpu = _children_cpu() - cpu0 + ((extra_cpu() - extra0) if extra_cpu else 0.0)
    if proc.returncode not in (0, 1):  # `hdr read` exits 1 when a file is unreadable
        raise SystemExit(f"{name}: exit {proc.returncode}\n{proc.stderr[-3000:]}")
    summary = json.loads(proc.stdout) if "--json" in args else None
    flow_s = float(summary["wall_seconds"]) if summary else wall
    run = Run(name, wall, cpu, (load0, os.getloadavg()[0]), flow_s, summary)
    print(f"{name}: {wall:.1f} s wall, {cpu:.1f} s CPU, flow {flow_s:.1f} s, load {load0:.1f}")
    return run


def time_temporary_api(env: dict[str, str]) -> Run:
    """Prefect's temporary API alone, as `hdr batch` starts it: until it answers, then stopped."""
    from flows.ephemeral import TemporaryApi

    load0, cpu0, start = os.getloadavg()[0], _children_cpu(), time.perf_counter()
    api = TemporaryApi(env)
    api.wait(timeout=300)
    ready = time.perf_counter() - start
    api.stop()
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu0
    run = Run("server", wall, cpu, (load0, os.getloadavg()[0]), wall, {"ready_s": ready})
    print(f"server: answered after {ready:.1f} s, stopped after {wall:.1f} s, {cpu:.1f} s CPU")
    return run


def _tree_cpu(pid: int) -> float:
    import psutil

    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        return sum(sum(p.cpu_times()[:2]) for p in procs)
    except psutil.Error:
        return 0.0


def _own_cpu() -> float:
    import psutil

    return float(sum(psutil.Process().cpu_times()[:2]))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _warm_worker() -> str:
    """Run on each Dask worker: the imports and the model a chunk needs, loaded once."""
    from flows.models import pinned_model
    from flows.runtime import reader_for
    from flows.tasks import read_and_store_chunk  # noqa: F401 - the import is the warm-up
    from hdr.config import load_pipeline_config

    cfg = load_pipeline_config()
    model = pinned_model(cfg)
    reader_for(model.path, model.sha256, model.backend, cfg)
    return model.sha256


def ensure_documents(folder: Path, n: int, seed: int, env: dict[str, str]) -> str:
    truth = folder / "truth.jsonl"
    if not truth.exists() or sum(1 for _ in truth.open()) < n:
        shutil.rmtree(folder, ignore_errors=True)
        run_hdr("synth", ["synth", "--out", str(folder), "--n", str(n), "--seed", str(seed)], env)
    shown = folder.relative_to(REPO) if folder.is_relative_to(REPO) else folder
    return f"hdr synth --out {shown} --n {n} --seed {seed}"


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.wall_s)


GROUPS = ("overhead", "per_task", "dask")


def measure(
    docs: Path, workdir: Path, env: dict[str, str], repeat: int, groups: tuple[str, ...] = GROUPS
) -> dict[str, list[Run]]:
    def fresh_db(name: str) -> str:
        path = workdir / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"

    batch = ["batch", str(docs), "--no-progress", "--json"]
    runs: dict[str, list[Run]] = {}

    def add(run: Run) -> None:
        runs.setdefault(run.name, []).append(run)

    from flows import serve

    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    server = serve.start_server("127.0.0.1", port, env) if "overhead" in groups else None
    try:
        if server is not None:
            serve.wait_until_healthy(api, timeout=300, process=server)
        for _ in range(repeat if server is not None else 0):
            add(time_temporary_api(env))
            add(run_hdr("read", ["read", str(docs), "--jsonl"], env))
            add(run_hdr("batch", [*batch, "--db-url", fresh_db("batch")], env))
            served_env = {**env, "PREFECT_API_URL": api}
            add(
                run_hdr(
                    "served",
                    [*batch, "--db-url", fresh_db("served")],
                    served_env,
                    lambda: _tree_cpu(server.pid),  # type: ignore[union-attr]
                )
            )
        stored = [*batch, "--db-url", f"sqlite:///{workdir / 'batch.sqlite3'}"]
        serial = {**env, "HDR_FLOWS_BATCH__LOCAL_WORKERS": "1"}  # a task's cost, one at a time
        for _ in range(repeat if "per_task" in groups else 0):
            add(run_hdr("per_doc", [*stored, "--chunk-size", "1"], serial))
            add(run_hdr("per_chunk", [*stored, "--chunk-size", "32"], serial))
    finally:
        serve.stop(server)

    if "dask" not in groups:
        return runs
    from distributed import Client, LocalCluster

    from flows.config import apply_dask_config

    apply_dask_config()  # as `dask worker` with DASK_CONFIG=configs/dask.yaml
    one = [*batch, "--chunk-size", "16"]
    one_env = {  # one chunk, one thread, nothing read before the flow starts
        **env,
        "HDR_FLOWS_BATCH__READ_THREADS": "1",
        "HDR_FLOWS_BATCH__LOCAL_WORKERS": "1",
        "HDR_FLOWS_BATCH__READ_AHEAD": "false",
    }
    os.environ.update({k: env[k] for k in ("PREFECT_HOME", "PREFECT_LOGGING_LEVEL")})
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        start = time.perf_counter()
        client.run(_warm_worker)
        warm_s = time.perf_counter() - start

        def workers_cpu() -> float:
            return float(sum(client.run(_own_cpu).values()))

        for i in range(repeat):
            add(run_hdr("one_core", [*one, "--db-url", fresh_db(f"one-{i}")], one_env, cores="0"))
            # a new file name each time: the workers keep their engines (and SQLite
            # connections) from one run to the next, as a long-lived cluster does
            address = cluster.scheduler_address
            dask = [*one, "--db-url", fresh_db(f"dask-{i}"), "--dask-address", address]
            run = run_hdr("dask", dask, env, workers_cpu)
            run.summary = {**(run.summary or {}), "warm_s": round(warm_s, 1)}
            add(run)
    return runs


def _break_even(run: Run, read: Run, n: int, label: str) -> str:
    """From what size on the wall overhead is <= 10 %, when it is not at this size: a fixed
    part (outside the flow) and a part per document (the flow's time over the plain
    reading's), both as measured here; nothing when the overhead is <= 10 % already."""
    if run.wall_s <= 1.10 * read.wall_s:
        return ""
    fixed = run.wall_s - run.flow_s
    per_doc = max(0.0, (run.flow_s - read.wall_s) / n)
    rate = n / read.wall_s  # documents per second of plain reading
    room = 0.10 - per_doc * rate
    if room <= 0:
        return f"{label}, the per-document part alone is over 10 %."
    docs = fixed * rate / room
    return (
        f"{label}: {fixed:.1f} s fixed and {1000 * per_doc:.1f} ms per document, so the "
        f"overhead falls under 10 % from about {docs:,.0f} documents (extrapolated)."
    )


def _fixed_part(r: dict[str, Run], low: dict[str, float], batch: Run) -> str:
    """What every `hdr batch` pays whatever its size: the temporary API and the start-up."""
    outside = (
        f"Of `hdr batch`'s {batch.wall_s:.1f} s, {batch.wall_s - batch.flow_s:.1f} s are "
        "outside the flow (imports, the database and model checks, the API's start and stop, "
        "the exit; the first documents are read there too, see below)."
    )
    server = r.get("server")
    if server is None:
        return outside
    ready = float((server.summary or {}).get("ready_s", server.wall_s))
    return (
        f"{outside} Prefect's temporary API alone takes {low['server']:.1f} s of CPU (its own "
        f"imports and start-up, in its own process) and answers after {ready:.1f} s: `hdr "
        "batch` starts it first (flows/ephemeral.py), so it boots on one core while the other "
        "imports Prefect, opens the results database, loads the model and then reads the "
        "first chunk's first documents (flows/readahead.py: the chunk task takes those "
        "results, for the same model, configuration and bytes only). Prefect's own ephemeral "
        "mode would start it only at the flow's first API call, after importing its server "
        "application in this process as well."
    )


def section(
    all_runs: dict[str, list[Run]],
    n: int,
    synth: str,
    commands: list[str],
    machine: str = MACHINE_NOTE,
) -> str:
    r = {k: best(v) for k, v in all_runs.items()}
    read, batch, served = r["read"], r["batch"], r["served"]
    low = {k: min(x.cpu_s for x in v) for k, v in all_runs.items()}  # the least disturbed CPU
    repeat = len(all_runs["read"])
    loads = [x for runs in all_runs.values() for run in runs for x in run.load]
    stages = (batch.summary or {}).get("stage_seconds", {})
    ours = ", ".join(f"{k} {stages.get(k, 0.0):.1f} s" for k in ("hash", "skip_check", "store"))
    per_doc, per_chunk = r["per_doc"], r["per_chunk"]
    n_tasks = (n, -(-n // 32))
    per_task_ms = 1000 * (per_doc.flow_s - per_chunk.flow_s) / (n_tasks[0] - n_tasks[1])
    dask, one = r["dask"], r["one_core"]

    def pct(a: float, b: float) -> str:
        return f"{100 * (a - b) / b:+.1f} %"

    lines = [
        HEADING,
        "",
        "\n".join(f"`{c}`  " for c in commands).rstrip(),
        "",
        f"Documents: `{synth}` ({n} PNG files); results in a fresh SQLite file per run. Each "
        f"line is the best (shortest wall time) of {repeat} interleaved runs. Machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, {machine}: the 1-minute load "
        f"average went from "
        f"{min(loads):.1f} to {max(loads):.1f} during the runs (2.0 = both cores busy; `load` "
        "below is at the start of the line's run), so wall times are noisy; CPU seconds are "
        "steadier. A group measured again by a later command (`--only`) replaces the "
        "figures of the earlier one.",
        "",
        "| run | load | wall s | in the flow s | CPU s | CPU / wall | documents/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "read": "`hdr read DIR --jsonl` (plain pipeline, nothing stored)",
        "batch": "`hdr batch DIR` (process-batch, temporary Prefect API, chunks of 32, 2 at "
        "a time; the API's CPU included)",
        "served": "`hdr batch DIR`, Prefect server running (its CPU included)",
        "server": "Prefect's temporary API alone: started, answering, stopped (no documents)",
        "per_doc": f"`hdr batch` again, all stored, `--chunk-size 1` ({n_tasks[0]} tasks, "
        "one at a time)",
        "per_chunk": f"`hdr batch` again, all stored, chunks of 32 ({n_tasks[1]} tasks, "
        "one at a time)",
        "one_core": "`taskset -c 0 hdr batch --chunk-size 16`, 1 chunk at a time, 1 pipeline "
        "thread, no reading ahead: one core",
        "dask": "`hdr batch --dask-address --chunk-size 16`, 2 workers x 1 thread",
    }
    for key, label in labels.items():
        if key not in r:  # a group of an older --json file
            continue
        x = r[key]
        flow = f"{x.flow_s:.1f}" if x.summary and key != "server" else "-"
        lines.append(
            f"| {label} | {x.load[0]:.1f} | {x.wall_s:.1f} | {flow} | {x.cpu_s:.1f} "
            f"| {x.cpu_s / x.wall_s:.2f} "
            f"| {'-' if key == 'server' else f'{n / x.wall_s:.2f}'} |"
        )
    lines += [
        "",
        f"- **Orchestration overhead** (target <= 10 %): `hdr batch` against `hdr read`, wall "
        f"{pct(batch.wall_s, read.wall_s)}, CPU {pct(low['batch'], low['read'])}; with a "
        f"Prefect server already running (as under `make serve` or a deployment), wall "
        f"{pct(served.wall_s, read.wall_s)}, CPU {pct(low['served'], low['read'])} (wall: the "
        "best runs of the table; CPU: each kind's lowest figure, the least disturbed run). "
        f"{_fixed_part(r, low, batch)} Inside the flow, the bookkeeping per "
        f"document took {ours}. Two chunks are read at once (`batch.local_workers: 2`), "
        f"sharing the {min(4, os.cpu_count() or 1)} pipeline threads `hdr read` uses (one "
        "each here): while one starts, hashes, stores or classifies its last glyphs, the "
        "other keeps reading, where a single chunk read with both threads left a core idle "
        "at each chunk's end. "
        f"{_break_even(batch, read, n, 'In ephemeral mode')} "
        f"{_break_even(served, read, n, 'With a running server')}".rstrip(),
        f"- **Per task**: {per_task_ms:.1f} ms ({per_doc.flow_s:.1f} s in the flow for "
        f"{n_tasks[0]} tasks against {per_chunk.flow_s:.1f} s for {n_tasks[1]}; every document "
        "already stored, so both only hash, check and record). One task per page would add that "
        "to every page, on top of the task-run rows and events the server keeps; chunks of 32 "
        "spread it over 32 documents.",
        f"- **Dask, 2 local workers** (target >= 1.6x): {n / dask.flow_s:.2f} documents/s "
        f"against {n / one.flow_s:.2f} for one process pinned to one core, "
        f"**x{one.flow_s / dask.flow_s:.2f}** (in the flow: {dask.flow_s:.1f} s against "
        f"{one.flow_s:.1f} s; {(dask.summary or {}).get('workers', '?')} workers ran chunks, "
        f"warmed in {(dask.summary or {}).get('warm_s', '?')} s before). CPU over the run: "
        f"{dask.cpu_s / dask.flow_s:.2f} cores' worth for the workers and the flow's process, "
        f"{one.cpu_s / one.wall_s:.2f} for the pinned process. Against the default single "
        f"process, not pinned, which reads two chunks at a time sharing "
        f"{min(4, os.cpu_count() or 1)} pipeline threads and so uses both cores too, wall to "
        f"wall (its first documents read ahead, which Dask runs do not): "
        f"x{batch.wall_s / dask.wall_s:.2f}. Dask workers are started with configs/dask.yaml, "
        "which removes the `MALLOC_TRIM_THRESHOLD_` distributed sets for them; with it, a worker "
        "read about 50 % slower than a plain process.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=9100)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, best kept")
    parser.add_argument("--workdir", type=Path, default=REPO / "out" / "bench-flows")
    parser.add_argument("--write", type=Path, help="replace the '## Orchestration' section")
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    parser.add_argument("--from-json", type=Path, help="only render figures written by --json")
    parser.add_argument(
        "--machine",
        default=MACHINE_NOTE,
        help="what else shared the machine during the runs, for the report",
    )
    parser.add_argument(
        "--only",
        choices=GROUPS,
        action="append",
        help="measure this group again, keep the "
        "other figures of the --json file (which it updates)",
    )
    args = parser.parse_args(argv)
    command = f"nice -n 10 .venv/bin/python bench/flows.py --n {args.n} --repeat {args.repeat}"
    command += "".join(f" --only {g}" for g in args.only or ())
    command += f" --json {args.json}" if args.json else ""
    command += f" --write {args.write}" if args.write else ""
    commands = [command]
    if args.from_json:
        raw = json.loads(args.from_json.read_text())
        return _report(_load_runs(raw), args, raw["synth"], _commands(raw))

    args.workdir.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="hdr-bench-prefect-"))
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    }
    docs = args.workdir / f"docs-{args.n}-{args.seed}"
    synth = ensure_documents(docs, args.n, args.seed, env)
    runs: dict[str, list[Run]] = {}
    if args.only:
        if not (args.json and args.json.exists()):
            raise SystemExit("--only needs the --json file of an earlier full run")
        raw = json.loads(args.json.read_text())
        runs = _load_runs(raw)
        commands = [*_commands(raw), command]  # the figures kept came from the earlier ones
    try:
        runs.update(measure(docs, args.workdir, env, args.repeat, tuple(args.only or GROUPS)))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if args.json:
        figures = {k: [asdict(x) for x in v] for k, v in runs.items()}
        payload = {"runs": figures, "synth": synth, "commands": commands}
        args.json.write_text(json.dumps(payload, indent=2, default=str))
    return _report(runs, args, synth, commands)


def _commands(raw: dict[str, Any]) -> list[str]:
    return list(raw.get("commands") or [raw["command"]])


def _load_runs(raw: dict[str, Any]) -> dict[str, list[Run]]:
    return {k: [Run(**{**x, "load": tuple(x["load"])}) for x in v] for k, v in raw["runs"].items()}


def _report(
    runs: dict[str, list[Run]], args: argparse.Namespace, synth: str, commands: list[str]
) -> int:
    text = section(runs, args.n, synth, commands, args.machine)
    print(text)
    if args.write:
        replace_markdown_section(args.write, HEADING, text)
        print(f"wrote {HEADING!r} to {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
