"""A real Prefect server, prefect.yaml deployed by the code `make serve` runs, a process worker.

The test deploys every deployment of prefect.yaml (the nightly one with a time zone from the
environment, as an operator would configure it), triggers ``process-batch/adhoc`` with
``run_deployment`` as the UI's "Run" button does, waits for it, and reads the results database.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from db import create_engine_from_url, session_scope
from db.models import Batch, Document

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"


def test_adhoc_deployment_runs_on_a_worker_and_stores_results(
    db_url: str, free_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows import serve
    from flows.config import load_flows_config

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("doc_0002.png", "doc_0006.pdf", "doc_0010.tif"):
        shutil.copy(SAMPLE / name, inbox / name)
    monkeypatch.setenv("HDR_NIGHTLY_TIMEZONE", "Asia/Kolkata")
    monkeypatch.setenv("HDR_NIGHTLY_INBOX", str(inbox))
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))
    monkeypatch.setenv("PREFECT_WORKER_QUERY_SECONDS", "1")
    api = f"http://127.0.0.1:{free_port}/api"
    cfg = load_flows_config()
    env = serve.deployment_env(cfg, api)
    server = serve.start_server("127.0.0.1", free_port, env, tmp_path / "server.log")
    worker = None
    try:
        serve.wait_until_healthy(api, timeout=180, process=server)
        serve.ensure_work_pool(cfg.server.work_pool, env)
        serve.deploy(env)
        worker = serve.start_worker(cfg.server.work_pool, env, tmp_path / "worker.log")
        with temporary_settings(updates={PREFECT_API_URL: api}):
            with get_client(sync_client=True) as client:
                nightly = client.read_deployment_by_name("process-batch/nightly")
                manual = client.read_deployment_by_name("train-digits/manual")
            run = run_deployment(
                "process-batch/adhoc",
                parameters={"source": str(inbox), "chunk_size": 2},
                timeout=480,
                poll_interval=2,
            )
            with get_client(sync_client=True) as client:
                artifacts = client.read_artifacts()
    finally:
        serve.stop(worker)
        serve.stop(server)

    (schedule,) = nightly.schedules
    assert schedule.schedule.cron == "0 2 * * *"
    assert schedule.schedule.timezone == "Asia/Kolkata"
    assert nightly.parameters["source"] == str(inbox) and nightly.work_pool_name == "hdr-process"
    assert manual.parameters == {"promote": False}
    log = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    assert run.state is not None and run.state.is_completed(), log
    engine = create_engine_from_url(db_url)
    with session_scope(engine) as s:
        (batch,) = s.scalars(select(Batch)).all()
        names = sorted(Path(d.source_uri).name for d in s.scalars(select(Document)).all())
    engine.dispose()
    assert batch.created_by == "prefect:process-batch/adhoc" and batch.finished_at is not None
    assert names == ["doc_0002.png", "doc_0006.pdf", "doc_0010.tif"]
    keys = {a.key for a in artifacts}
    assert {f"batch-{batch.id}-summary", f"batch-{batch.id}-review"} <= keys
