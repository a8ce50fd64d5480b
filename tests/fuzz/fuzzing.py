"""Fuzzing settings: a short smoke run under `make test`, the long run under `make fuzz`.

``HDR_FUZZ=long`` (set by `make fuzz`) multiplies the examples and keeps hypothesis's example
database under ``.pytest_cache/hypothesis`` so a failure found once is replayed first next time.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

LONG = os.environ.get("HDR_FUZZ", "") == "long"
SMOKE_EXAMPLES = 20

settings.register_profile(
    "hdr-fuzz",
    deadline=None,  # decoding time varies with the machine's load: never a failure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=DirectoryBasedExampleDatabase(".pytest_cache/hypothesis") if LONG else None,
    derandomize=not LONG,  # the smoke run in CI is the same every time
)


def examples(long_run: int) -> int:
    """How many examples a fuzz test draws: ``long_run`` under `make fuzz`, a few otherwise."""
    return long_run if LONG else min(SMOKE_EXAMPLES, long_run)
