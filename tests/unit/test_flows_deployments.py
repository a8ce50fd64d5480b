"""prefect.yaml: the four deployments, their entry points, and the values `make serve` fills in.

The file is resolved with Prefect's own templating (what `prefect deploy` applies); deploying
it to a real server is tests/integration/flows/test_deployment_server.py.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import yaml

from flows.config import load_flows_config
from flows.serve import PREFECT_YAML, deployment_env
from hdr.config import REPO_ROOT


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    from prefect.utilities.templating import apply_values

    raw = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    env = deployment_env(load_flows_config())
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        return dict(apply_values(raw, {}, remove_notset=False))


def by_name(resolved: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for dep in resolved["deployments"]:
        path, func = dep["entrypoint"].split(":")
        assert (REPO_ROOT / path).is_file()
        module = path.removesuffix(".py").replace("/", ".")
        flow = getattr(importlib.import_module(module), func)
        out[f"{flow.name}/{dep['name']}"] = dep
    return out


def test_four_deployments_of_three_flows(resolved: dict[str, Any]) -> None:
    assert set(by_name(resolved)) == {
        "process-batch/nightly",
        "process-batch/adhoc",
        "train-digits/manual",
        "train-lines/manual",
    }
    assert all(d["work_pool"]["name"] == "hdr-process" for d in resolved["deployments"])
    (pull,) = resolved["pull"]
    assert pull["prefect.deployments.steps.set_working_directory"]["directory"] == str(REPO_ROOT)


def test_nightly_runs_at_two_over_the_configured_inbox(resolved: dict[str, Any]) -> None:
    nightly = by_name(resolved)["process-batch/nightly"]
    (schedule,) = nightly["schedules"]
    assert schedule["cron"] == "0 2 * * *" and schedule["timezone"] == "Europe/Paris"
    assert nightly["parameters"]["source"] == str(REPO_ROOT / "inbox")
    assert nightly["concurrency_limit"] == 1
    adhoc = by_name(resolved)["process-batch/adhoc"]
    assert "schedules" not in adhoc and adhoc["parameters"] == {}
    assert by_name(resolved)["train-digits/manual"]["parameters"] == {"promote": False}
    assert by_name(resolved)["train-lines/manual"]["parameters"] == {}


def test_the_environment_wins_over_the_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HDR_FLOWS_NIGHTLY__TIMEZONE", "Asia/Kolkata")
    monkeypatch.setenv("HDR_NIGHTLY_INBOX", "/mnt/share/cheques")
    env = deployment_env(load_flows_config(), "http://prefect:4200/api")
    assert env["HDR_NIGHTLY_TIMEZONE"] == "Asia/Kolkata"
    assert env["HDR_NIGHTLY_INBOX"] == "/mnt/share/cheques"
    assert env["PREFECT_API_URL"] == "http://prefect:4200/api"


def test_parameters_a_person_fills_in_are_typed_and_checked() -> None:
    from prefect.utilities.callables import parameter_schema

    from flows.process_batch import process_batch

    schema = parameter_schema(process_batch.fn).model_dump_for_openapi()
    props = schema["properties"]
    assert schema["required"] == ["source"]
    assert {"type": "string"} in props["source"]["anyOf"]
    assert {"items": {"type": "string"}, "type": "array"} in props["source"]["anyOf"]
    assert props["chunk_size"]["minimum"] == 1 and props["chunk_size"]["default"] == 32
    assert props["model"]["default"] == "default"
    assert "move each file" in props["move_processed_to"]["description"]
    assert "Documents per task" in props["chunk_size"]["description"]
