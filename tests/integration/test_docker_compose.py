"""docker/compose.yaml as Compose reads it, and the Dockerfile's promises.

No Docker engine runs here: Debian's docker-compose (1.29) validates and resolves the file
without one (`docker-compose config`). The image itself is not built by the tests.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.integration

DOCKER = Path(__file__).resolve().parents[2] / "docker"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("docker-compose is not installed (Debian package docker-compose)")
    proc = subprocess.run(
        [exe, "-f", str(DOCKER / "compose.yaml"), "config"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HDR_DB_PASSWORD": "s3cret", "HDR_TIMEZONE": "Asia/Kolkata"},
    )
    assert proc.returncode == 0, proc.stderr
    return dict(yaml.safe_load(proc.stdout))


def test_services_and_volumes(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "prefect-server", "worker", "web"}
    assert set(compose["volumes"]) == {"pgdata", "inbox", "archive", "uploads"}
    services = compose["services"]
    assert services["postgres"]["image"] == "postgres:15"
    assert any(
        v.startswith("pgdata:/var/lib/postgresql/data") for v in services["postgres"]["volumes"]
    )
    for name in ("worker", "web"):
        volumes = services[name]["volumes"]
        assert "inbox:/data/inbox:rw" in volumes and "archive:/data/archive:rw" in volumes
        assert "uploads:/data/uploads:rw" in volumes  # the web app's uploads, read by the worker
        assert services[name]["build"]["dockerfile"] == "docker/Dockerfile"


def test_the_worker_reads_the_inbox_into_postgres_through_the_prefect_server(
    compose: dict[str, Any],
) -> None:
    worker = compose["services"]["worker"]
    env = worker["environment"]
    assert env["HDR_DB_URL"] == "postgresql+psycopg://hdr:s3cret@postgres:5432/hdr"
    assert env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    assert env["HDR_FLOWS_NIGHTLY__INBOX"] == "/data/inbox"
    assert env["HDR_FLOWS_NIGHTLY__TIMEZONE"] == "Asia/Kolkata"
    command = " ".join(worker["command"])
    assert "hdr db upgrade" in command and "python -m flows.serve deploy" in command
    assert "prefect worker start --pool hdr-process --type process" in command
    assert worker["depends_on"]["prefect-server"]["condition"] == "service_healthy"
    server = compose["services"]["prefect-server"]
    assert server["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"].endswith("/prefect")
    assert server["ports"] == ["127.0.0.1:4200:4200/tcp"]
    web = compose["services"]["web"]
    assert web["ports"] == ["127.0.0.1:8000:8000/tcp"]
    assert web["environment"]["HDR_WEB_PREFECT_DEPLOYMENT"] == "process-batch/adhoc"


def test_the_dockerfile_is_slim_cpu_only_non_root_with_the_model_inside() -> None:
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert "FROM python:3.11-slim" in lines
    assert "poppler-utils" in text
    assert "--index-url https://download.pytorch.org/whl/cpu torch==2.13.0" in text
    assert "USER hdr" in lines and "useradd" in text
    assert "load_classifier()" in text  # the baked-in model is checked against its pin
    ignored = (DOCKER / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    assert "models" not in ignored and ".venv" in ignored and ".git" in ignored
