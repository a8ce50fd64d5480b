"""The `model` parameter and the registry: pinned default, registered versions, promotion."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from db import create_engine_from_url, upgrade
from flows.models import pinned_model, register_trained_model, resolve_model
from hdr.config import MODELS_DIR, load_pipeline_config
from hdr.errors import ModelError, ReasonCode, UsageError


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{(tmp_path / 'results.sqlite3').as_posix()}"
    upgrade(url)
    engine = create_engine_from_url(url)
    yield engine
    engine.dispose()


def trained_copy(folder: Path, marker: bytes) -> Path:
    """A model file with its card, whose bytes (and so sha256) differ from the pinned one."""
    folder.mkdir(parents=True)
    onnx = folder / "digits.onnx"
    onnx.write_bytes((MODELS_DIR / "digits.onnx").read_bytes() + marker)
    shutil.copy(MODELS_DIR / "digits.card.json", folder / "digits.card.json")
    return onnx


def test_default_is_the_pinned_model_until_one_is_promoted(engine: Engine, tmp_path: Path) -> None:
    cfg = load_pipeline_config()
    pinned = pinned_model(cfg)
    assert pinned.sha256 == cfg.model.sha256 and pinned.backend == "onnx"
    assert resolve_model("default", engine, cfg) == pinned

    candidate = trained_copy(tmp_path / "run1", b"1")
    _, sha1 = register_trained_model(engine, candidate)
    assert resolve_model("default", engine, cfg).origin == "pinned"  # registered, not promoted
    chosen = resolve_model(sha1[:10], engine, cfg)
    assert (chosen.origin, chosen.path, chosen.sha256) == ("registered", str(candidate), sha1)
    assert chosen.card["registry"]["registered_by"] == "train-digits"

    register_trained_model(engine, candidate, promote=True)
    assert resolve_model("default", engine, cfg).sha256 == sha1
    _, sha2 = register_trained_model(engine, trained_copy(tmp_path / "run2", b"2"), promote=True)
    default = resolve_model("default", engine, cfg)
    assert (default.origin, default.sha256) == ("promoted", sha2)  # the newest promotion wins


def test_a_model_given_by_path_or_pinned_prefix(engine: Engine) -> None:
    cfg = load_pipeline_config()
    by_path = resolve_model("models/digits.onnx", engine, cfg)
    assert by_path.origin == "path" and by_path.sha256 == cfg.model.sha256
    assert resolve_model((cfg.model.sha256 or "")[:12], engine, cfg).origin == "pinned"


def test_unknown_models_are_refused_with_a_reason(engine: Engine, tmp_path: Path) -> None:
    cfg = load_pipeline_config()
    with pytest.raises(UsageError) as err:
        resolve_model("abcdef0123", engine, cfg)
    assert err.value.code is ReasonCode.NOT_FOUND
    with pytest.raises(ModelError) as missing:
        resolve_model(str(tmp_path / "nothing.onnx"), engine, cfg)
    assert missing.value.code is ReasonCode.MODEL_MISSING
