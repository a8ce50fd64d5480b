"""`make serve`: a local Prefect server (UI included), the deployments of prefect.yaml, a worker.

::

    python -m flows.serve                # server on 127.0.0.1:4200, deploy, worker; Ctrl-C stops
    python -m flows.serve deploy         # only deploy prefect.yaml to $PREFECT_API_URL
    python -m flows.serve env            # the HDR_* values prefect.yaml reads, as shell exports

The deployments run on a work pool of type ``process`` (``server.work_pool`` in
configs/flows.yaml): each flow run is a subprocess of the worker, started in the project
folder. More workers, on other machines, join the same pool with
``prefect worker start --pool hdr-process`` (README, "Scale-out").

The pieces are functions, so the integration test starts a server on a free port and deploys
exactly as `make serve` does.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from flows.config import FlowsConfig, load_flows_config
from hdr.config import REPO_ROOT
from hdr.errors import ConfigError, ReasonCode

PREFECT_YAML = REPO_ROOT / "prefect.yaml"
_QUIET = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}


def prefect_command(*args: str) -> list[str]:
    """The `prefect` CLI of this interpreter's environment."""
    return [sys.executable, "-m", "prefect", *args]


def deployment_env(cfg: FlowsConfig, api_url: str | None = None) -> dict[str, str]:
    """The environment prefect.yaml's ``{{ $HDR_* }}`` placeholders are filled from.

    A value already in the environment wins over configs/flows.yaml.
    """
    values = {
        "HDR_PROJECT_DIR": str(REPO_ROOT),
        "HDR_WORK_POOL": cfg.server.work_pool,
        "HDR_NIGHTLY_INBOX": str(cfg.nightly.inbox_path()),
        "HDR_NIGHTLY_TIMEZONE": cfg.nightly.timezone,
        "HDR_NIGHTLY_ARCHIVE": str(cfg.nightly.archive_path() or ""),
    }
    env = {**_QUIET, **os.environ}
    for key, value in values.items():
        env.setdefault(key, value)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def start_server(
    host: str, port: int, env: dict[str, str], log: Path | None = None
) -> subprocess.Popen[bytes]:
    """``prefect server start`` in the background (the UI is served at the same address)."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    return subprocess.Popen(
        prefect_command("server", "start", "--host", host, "--port", str(port)),
        env={**env, "PREFECT_UI_API_URL": f"http://{host}:{port}/api"},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def is_healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_until_healthy(
    api_url: str, timeout: float = 120.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Block until the API answers; ConfigError when it does not in time or the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_healthy(api_url):
            return
        if process is not None and process.poll() is not None:
            raise ConfigError(
                ReasonCode.CONFIG_INVALID,
                f"the Prefect server exited with status {process.returncode} before answering",
                hint="is the port already taken? see its log",
            )
        time.sleep(0.5)
    raise ConfigError(
        ReasonCode.CONFIG_INVALID, f"no Prefect API at {api_url} after {timeout:.0f} s"
    )


def ensure_work_pool(name: str, env: dict[str, str]) -> None:
    """Create the process work pool unless it exists (an operator's settings are kept)."""
    inspect = subprocess.run(
        prefect_command("work-pool", "inspect", name), env=env, capture_output=True, check=False
    )
    if inspect.returncode != 0:
        _run(prefect_command("work-pool", "create", name, "--type", "process"), env)


def deploy(env: dict[str, str], names: Sequence[str] = ()) -> None:
    """``prefect deploy`` of prefect.yaml: every deployment, or only ``names`` (flow/deployment)."""
    args = ["--no-prompt", "deploy", "--prefect-file", str(PREFECT_YAML)]
    for name in names:
        args += ["--name", name]
    if not names:
        args.append("--all")
    _run(prefect_command(*args), env, cwd=REPO_ROOT)


def start_worker(
    pool: str, env: dict[str, str], log: Path | None = None
) -> subprocess.Popen[bytes]:
    """A process worker polling ``pool``; each flow run becomes its subprocess."""
    out = open(log, "ab") if log else None  # noqa: SIM115 - owned by the child
    return subprocess.Popen(
        prefect_command("worker", "start", "--pool", pool, "--type", "process"),
        env=env,
        cwd=REPO_ROOT,
        stdout=out,
        stderr=subprocess.STDOUT if out else None,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes] | None, timeout: float = 15.0) -> None:
    """Terminate a child and its process group; kill it if it does not stop in time."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)
    except ProcessLookupError:
        pass


def _run(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        raise ConfigError(
            ReasonCode.CONFIG_INVALID,
            f"`{' '.join(cmd[2:])}` failed with status {proc.returncode}:\n" + "\n".join(tail),
        )


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def serve(cfg: FlowsConfig) -> int:
    """Server, schema, work pool, deployments, worker; runs until interrupted."""
    from db.migrate import upgrade
    from db.session import redact
    from hdr.config import Settings

    # Ctrl-C (even when started from a shell that ignores it) and `docker stop` / systemd's
    # SIGTERM both end in the `finally` below, which stops the worker and the server.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    server_cfg = cfg.server
    env = deployment_env(cfg, server_cfg.api_url)
    db_url = Settings().db_url_or_default()
    upgrade(db_url)
    server = None
    if is_healthy(server_cfg.api_url):
        print(f"serve: a Prefect server already answers at {server_cfg.ui_url}; using it")
    else:
        print(f"serve: starting the Prefect server on {server_cfg.ui_url} ...", flush=True)
        server = start_server(server_cfg.host, server_cfg.port, env)
    worker = None
    try:
        wait_until_healthy(server_cfg.api_url, process=server)
        ensure_work_pool(server_cfg.work_pool, env)
        deploy(env)
        worker = start_worker(server_cfg.work_pool, env)
        print(
            f"\nPrefect UI: {server_cfg.ui_url}  (deployments: process-batch/nightly, "
            f"process-batch/adhoc, train-digits/manual, train-lines/manual)\n"
            f"results database: {redact(db_url)}\n"
            f"worker: pool {server_cfg.work_pool!r}; nightly inbox {env['HDR_NIGHTLY_INBOX']} "
            f"at 02:00 {env['HDR_NIGHTLY_TIMEZONE']}\nCtrl-C stops the worker and the server.",
            flush=True,
        )
        return worker.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop(worker)
        stop(server)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flows.serve", description=__doc__.split("\n")[0]
    )
    parser.add_argument("action", nargs="?", default="serve", choices=["serve", "deploy", "env"])
    parser.add_argument("--name", action="append", default=[], help="deploy only flow/deployment")
    args = parser.parse_args(argv)
    cfg = load_flows_config()
    if args.action == "env":
        for key, value in deployment_env(cfg).items():
            if key.startswith("HDR_"):
                print(f"export {key}={value!r}")
        return 0
    if args.action == "deploy":
        env = deployment_env(cfg)
        ensure_work_pool(cfg.server.work_pool, env)
        deploy(env, args.name)
        print(f"deployed {', '.join(args.name) or 'every deployment of prefect.yaml'}")
        return 0
    return serve(cfg)


if __name__ == "__main__":
    from hdr.errors import HdrError

    try:
        sys.exit(main())
    except HdrError as err:
        print(f"serve: error: {err}", file=sys.stderr)
        sys.exit(int(err.exit_code))
