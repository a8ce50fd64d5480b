"""The temporary Prefect API of `hdr batch`, started before anything else is loaded.

Without ``PREFECT_API_URL``, Prefect runs a flow against a temporary server of its own
(ephemeral mode): at the flow's first API call it imports its server application in the
calling process (~1.7 s of CPU, only to reach the class that starts the server), starts
``uvicorn prefect.server.api.server:create_app`` in a subprocess (UI off) and waits for it to
answer (~4 s more, during which the calling process does nothing). `hdr batch` starts that
same server, with the same command and environment, as its first step instead, and hands its
address to the flow, so the server boots on one core while the other imports Prefect, opens
the results database and loads the model. Prefect itself runs tests against a server given
this way (``prefect_test_harness`` sets ``PREFECT_API_URL`` to a server it started).

>>> api = start_temporary_api()                       # doctest: +SKIP
>>> ... import Prefect, load the model ...            # doctest: +SKIP
>>> url = api.wait()                                  # doctest: +SKIP
'http://127.0.0.1:41873/api'

The server stops when the process exits (after Prefect has sent its last logs and events),
or with :meth:`TemporaryApi.stop`. This module does not import Prefect.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from hdr.errors import ConfigError, ReasonCode

STARTUP_TIMEOUT_ENV = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
DEFAULT_STARTUP_TIMEOUT_S = 120.0
# What Prefect's SubprocessASGIServer (prefect/server/api/server.py) sets for its server.
_SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_command(port: int) -> list[str]:
    spec = importlib.util.find_spec("prefect")  # found, not imported
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(ReasonCode.CONFIG_INVALID, "Prefect is not installed")
    app_dir = Path(next(iter(spec.submodule_search_locations))).parent
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(app_dir),
        "--factory",
        "prefect.server.api.server:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "error",
        "--lifespan",
        "on",
    ]


def _stderr_fd() -> int | None:
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a captured stderr (tests): inherit
        return None


class TemporaryApi:
    """A Prefect API server in a subprocess of this one, for one batch.

    ``env``: the server's environment (default: this process's), e.g. another PREFECT_HOME.
    """

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
            _server_command(self.port),
            env={**(os.environ if env is None else env), **_SERVER_ENV},
            stdout=_stderr_fd(),  # stdout is the summary (`hdr batch --json`)
        )
        self.answered = False
        atexit.register(self.stop)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def is_healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def wait(self, timeout: float | None = None) -> str:
        """Block until the server answers; its API URL. ConfigError when it cannot start."""
        if timeout is None:
            timeout = float(os.environ.get(STARTUP_TIMEOUT_ENV) or DEFAULT_STARTUP_TIMEOUT_S)
        deadline = time.monotonic() + timeout
        while True:
            if self.process is None:
                raise ConfigError(ReasonCode.CONFIG_INVALID, "the temporary Prefect API is stopped")
            if self.is_healthy():
                self.answered = True
                return self.url
            code = self.process.poll()
            if code is not None:
                self.process = None
                raise ConfigError(
                    ReasonCode.CONFIG_INVALID,
                    f"the temporary Prefect API server exited with status {code} before "
                    f"answering on port {self.port}",
                    hint="its messages are above; or set PREFECT_API_URL to a running server",
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ConfigError(
                    ReasonCode.CONFIG_INVALID,
                    f"the temporary Prefect API server did not answer within {timeout:.0f} s",
                    hint=f"on a busy machine raise {STARTUP_TIMEOUT_ENV}, or set "
                    "PREFECT_API_URL to a running server",
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server: as Prefect stops its own (terminate, kill after 5 s) once it served;
        at once and silently when it never did (`hdr batch` failed before its flow started)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        if not self.answered:
            process.kill()
            process.wait()
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_temporary_api() -> TemporaryApi | None:
    """Start the server unless ``PREFECT_API_URL`` names one in the environment (then None).

    A Prefect profile that names a server is only known once Prefect is imported: the flow
    runner checks it (:func:`flows.process_batch.run_local`) and stops this server unused.
    """
    if os.environ.get("PREFECT_API_URL"):
        return None
    return TemporaryApi()


__all__ = ["TemporaryApi", "start_temporary_api"]
