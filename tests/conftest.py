"""Session-wide test settings: a private data dir, quiet Prefect, no analytics."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Prefect reads these at import time: set them before any test module imports it.
_PREFECT_HOME = tempfile.mkdtemp(prefix="hdr-prefect-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", None)

REPO_ROOT = Path(__file__).resolve().parents[1]
RESOURCES = REPO_ROOT / "tests" / "resources"
REAL_CHEQUES = REPO_ROOT.parent / "shared" / "data" / "real-cheques-dev"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def resources() -> Path:
    return RESOURCES
