"""configs/flows.yaml, validated, and overridden from the environment as the deployments are."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.config import load_flows_config
from hdr.config import REPO_ROOT
from hdr.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("HDR_FLOWS_"):
            monkeypatch.delenv(key)


def test_the_shipped_file_gives_the_nightly_inbox_zone_and_retries() -> None:
    cfg = load_flows_config()
    assert cfg.nightly.inbox_path() == REPO_ROOT / "inbox"
    assert cfg.nightly.timezone == "Europe/Paris" and cfg.nightly.archive_path() is None
    assert cfg.retries.delays() == [2.0, 4.0, 8.0]
    assert cfg.dask.address is None and cfg.server.ui_url == "http://127.0.0.1:4200"


def test_environment_overrides_one_key_and_keeps_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HDR_FLOWS_DASK__ADDRESS", "tcp://10.0.0.5:8786")
    monkeypatch.setenv("HDR_FLOWS_NIGHTLY__TIMEZONE", "Asia/Kolkata")
    cfg = load_flows_config()
    assert cfg.dask.address == "tcp://10.0.0.5:8786"
    assert cfg.nightly.timezone == "Asia/Kolkata" and cfg.nightly.inbox == "inbox"


def test_a_bad_value_names_the_file_and_the_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HDR_FLOWS_NIGHTLY__TIMEZONE", "Europe/Atlantis")
    with pytest.raises(ConfigError, match=r"flows\.yaml: nightly\.timezone: .*Europe/Atlantis"):
        load_flows_config()
    monkeypatch.delenv("HDR_FLOWS_NIGHTLY__TIMEZONE")
    other = tmp_path / "flows.yaml"
    other.write_text("batch:\n  local_workers: 0\n", encoding="utf-8")
    monkeypatch.setenv("HDR_FLOWS_CONFIG", str(other))
    with pytest.raises(ConfigError, match=r"batch\.local_workers"):
        load_flows_config()
    other.write_text("batch:\n  local_wrokers: 2\n", encoding="utf-8")  # a typo is refused
    with pytest.raises(ConfigError, match="local_wrokers"):
        load_flows_config()
