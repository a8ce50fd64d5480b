"""The batched glyph classifier used by the reading pipeline: ONNX Runtime, torch as fallback.

The model file is checked against its sha256 pin before anything reads it, and loaded once per
process. Torch weights are read with ``torch.load(weights_only=True)``, never a bare pickle.

>>> import numpy as np
>>> from hdr.classify.predictor import load_classifier
>>> clf = load_classifier()                       # models/digits.onnx, pinned in pipeline.yaml
>>> clf.predict_proba(np.zeros((3, 28, 28), np.float32)).shape
(3, 20)
"""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from hdr.classify.card import ModelCard, card_path
from hdr.classify.labels import LABELS
from hdr.errors import ModelError, ReasonCode

BATCH = 256  # glyphs per ONNX Runtime call: about 5 % faster than 1024 on 2 cores
INTRA_OP_THREADS = 2
_LOAD_LOCK = threading.Lock()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_file(path: Path, expected: str | None, what: str = "model") -> str:
    """sha256 of ``path``; ModelError when it is missing or does not match ``expected``."""
    if not path.is_file():
        raise ModelError(
            ReasonCode.MODEL_MISSING,
            f"{what} file not found: {path}",
            "train one with `hdr train digits`, or restore models/ from the repository",
        )
    digest = sha256_file(path)
    if expected is not None and digest != expected.lower():
        raise ModelError(
            ReasonCode.MODEL_HASH_MISMATCH,
            f"{what} {path} has sha256 {digest[:16]}..., but {expected[:16]}... is pinned",
            "restore the file, or pin its hash in configs/pipeline.yaml (model.sha256) "
            "if you trained it yourself",
        )
    return digest


class GlyphClassifier:
    """Calibrated class probabilities for batches of normalised 28 x 28 glyphs."""

    def __init__(self, path: Path, sha256: str, card: ModelCard, backend: str, runner: Any) -> None:
        self.path, self.sha256, self.card, self.backend = path, sha256, card, backend
        self.labels: tuple[str, ...] = tuple(card.labels)
        self._run = runner

    def predict_proba(self, glyphs: np.ndarray) -> np.ndarray:
        """``glyphs``: float32 N x 28 x 28 in [0, 1]. Returns float32 N x len(labels)."""
        x = np.asarray(glyphs, dtype=np.float32)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise ValueError(f"glyphs must be N x 28 x 28, got shape {x.shape}")
        if len(x) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        x = np.ascontiguousarray(x)
        parts = [self._run(x[i : i + BATCH]) for i in range(0, len(x), BATCH)]
        return np.concatenate(parts).astype(np.float32, copy=False)

    def __repr__(self) -> str:
        return f"GlyphClassifier({self.path.name}, {self.backend}, sha256={self.sha256[:12]})"


def onnx_runner(path: Path) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = INTRA_OP_THREADS
    opts.inter_op_num_threads = 1
    # Idle threads sleep instead of spinning: the batch pipeline shares its cores with other
    # work, and spinning measured ~20 % more CPU per glyph at the same wall-clock speed.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own types for corrupt files
        raise ModelError(
            ReasonCode.MODEL_INVALID, f"ONNX Runtime cannot load {path}: {exc}"
        ) from exc
    name = session.get_inputs()[0].name

    def run(x: np.ndarray) -> np.ndarray:
        return session.run(None, {name: x})[0]

    return run


def _torch_runner(pt_path: Path, card: ModelCard) -> Any:
    import torch

    from hdr.classify.net import CalibratedNet, GlyphNet, ensemble_from_state

    try:
        state = torch.load(pt_path, map_location="cpu", weights_only=True)
        members = card.architecture.get("members")
        model: torch.nn.Module
        if members:  # an ensemble (hdr.train.ensemble): the temperatures are in the state_dict
            model = ensemble_from_state(members, state)
        else:
            net = GlyphNet(**card.architecture)
            net.load_state_dict(state)
            model = CalibratedNet(net, card.temperature)
    except Exception as exc:
        raise ModelError(ReasonCode.MODEL_INVALID, f"cannot load weights {pt_path}: {exc}") from exc
    model = model.eval()

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(x)).numpy()

    return run


@lru_cache(maxsize=8)
def _load(path: Path, sha256: str | None, backend: str) -> GlyphClassifier:
    digest = verify_file(path, sha256)
    card = ModelCard.read(card_path(path))
    if tuple(card.labels) != LABELS:
        raise ModelError(
            ReasonCode.MODEL_INVALID,
            f"{path} was trained for labels {card.labels}, this code reads {list(LABELS)}",
        )
    if backend == "onnx":
        try:
            return GlyphClassifier(path, digest, card, "onnx", onnx_runner(path))
        except ImportError:
            backend = "torch"  # onnxruntime not installed: fall back to the state_dict
    if backend != "torch":
        raise ModelError(
            ReasonCode.CONFIG_INVALID, f"unknown model backend {backend!r}", "use onnx or torch"
        )
    pt = card.files.get("state_dict", {})
    if path.suffix == ".pt":
        pt_path, pt_sha = path, digest
    else:  # the pinned file vouches for its card, the card for the state_dict beside it
        pt_path = path.with_name(pt.get("name", path.stem + ".pt"))
        if card.files.get("onnx", {}).get("sha256") not in (None, digest):
            raise ModelError(
                ReasonCode.MODEL_HASH_MISMATCH,
                f"model card {card_path(path)} is not the card of {path}",
            )
        pt_sha = verify_file(pt_path, pt.get("sha256"), "state_dict")
    return GlyphClassifier(pt_path, pt_sha, card, "torch", _torch_runner(pt_path, card))


def load_classifier(
    path: Path | str | None = None, sha256: str | None = None, backend: str | None = None
) -> GlyphClassifier:
    """Load the pinned glyph classifier once per process (default: configs/pipeline.yaml model).

    ``path`` without ``sha256`` is loaded unpinned (its hash is still recorded in ``.sha256``);
    without ``path`` both come from the pipeline configuration, the file from $HDR_MODEL when
    it is set (still checked against the configured pin).
    """
    if path is None:
        from hdr.config import load_pipeline_config

        cfg = load_pipeline_config()  # applies $HDR_MODEL
        ref = cfg.model
        path = cfg.resolve(ref.path)
        sha256 = sha256 or ref.sha256
        backend = backend or ref.backend
    with _LOAD_LOCK:
        return _load(Path(path).resolve(), sha256, backend or "onnx")
