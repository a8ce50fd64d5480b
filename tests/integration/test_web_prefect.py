"""Uploads handed to a real Prefect server: `process-batch/adhoc` on a process worker.

With ``prefect_deployment`` configured and ``PREFECT_API_URL`` set, the web app does not read
uploads itself: it starts the deployment with the upload's folder as ``source`` and follows
the flow run from the batch page. Here a real Prefect server and worker run it (as
`make serve` does), and the job ends ``done`` with its batch and documents linked.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from db import create_engine_from_url, session_scope, upgrade
from db.models import Batch
from db.users import add_user
from web.app import create_app
from web.config import load_web_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "sample"
PASSWORD = "a long test passphrase"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_uploads_run_as_the_adhoc_deployment_when_a_server_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows import serve
    from flows.config import load_flows_config

    url = f"sqlite:///{tmp_path / 'results.sqlite3'}"
    upgrade(url)
    engine = create_engine_from_url(url)
    with session_scope(engine, write=True) as session:
        add_user(session, "alice", PASSWORD)
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    monkeypatch.setenv("HDR_DB_URL", url)  # the worker's flow stores into the same database
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))
    monkeypatch.setenv("PREFECT_WORKER_QUERY_SECONDS", "1")
    cfg = load_flows_config()
    env = serve.deployment_env(cfg, api)
    server = serve.start_server("127.0.0.1", port, env, tmp_path / "server.log")
    worker = None
    try:
        serve.wait_until_healthy(api, timeout=180, process=server)
        serve.ensure_work_pool(cfg.server.work_pool, env)
        serve.deploy(env)
        worker = serve.start_worker(cfg.server.work_pool, env, tmp_path / "worker.log")
        monkeypatch.setenv("PREFECT_API_URL", api)
        web_cfg = load_web_config(prefect_deployment="process-batch/adhoc")
        app = create_app(db_url=url, config=web_cfg, data_dir=tmp_path / "data")
        with TestClient(app) as client:
            csrf = client.post(
                "/api/session", json={"username": "alice", "password": PASSWORD}
            ).json()["csrf_token"]
            files = [
                ("files", (name, (SAMPLE / name).read_bytes()))
                for name in ("doc_0002.png", "doc_0010.tif")
            ]
            sent = client.post("/api/uploads", files=files, headers={"X-CSRF-Token": csrf})
            assert sent.status_code == 201, sent.text
            job_id = sent.json()["job_id"]
            deadline = time.monotonic() + 480
            job = client.get(f"/api/uploads/{job_id}").json()
            while not job["final"] and time.monotonic() < deadline:
                time.sleep(2)
                job = client.get(f"/api/uploads/{job_id}").json()
    finally:
        serve.stop(worker)
        serve.stop(server)

    log = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    assert job["status"] == "done", (job, log)
    assert job["flow_run_id"] and job["batch_id"]
    assert [f["name"] for f in job["files"]] == ["doc_0002.png", "doc_0010.tif"]
    assert all(f["document_id"] and f["status"] for f in job["files"])
    with session_scope(engine) as session:
        batch = session.execute(select(Batch).where(Batch.id == job["batch_id"])).scalar_one()
        assert batch.created_by == "web:alice" and batch.n_documents == 2
    engine.dispose()
