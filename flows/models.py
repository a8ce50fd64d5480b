"""Which classifier a batch uses: the `model` parameter, and the registry of trained versions.

``model`` is ``"default"``, a sha256 (or a prefix of 8+ hex digits) of a version registered
in the results database, or a path to an ``.onnx`` / ``.pt`` file with its card beside it.

``"default"`` is the newest version that was *promoted* (``train-digits`` with
``promote=True``), or else the model pinned in configs/pipeline.yaml. Promotion is recorded in
the version's card in the database (``card["registry"]["promoted_at"]``), so every worker of
every machine sees it; `hdr read` keeps using the pinned model.

>>> from flows.models import resolve_model
>>> choice = resolve_model("default", engine, load_pipeline_config())   # doctest: +SKIP
>>> choice.origin, choice.sha256[:12]                                    # doctest: +SKIP
('pinned', '0fc55b5bcf57')
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from db import register_model_version, session_scope
from db.models import ModelVersion
from hdr.classify.card import ModelCard, card_path
from hdr.classify.predictor import verify_file
from hdr.config import REPO_ROOT, PipelineConfig
from hdr.errors import ModelError, ReasonCode, UsageError

_HEX = re.compile(r"^[0-9a-fA-F]{8,64}$")


@dataclass(frozen=True)
class ModelChoice:
    """A model file, its pinned sha256, and the card to register with the batch."""

    path: str
    sha256: str
    backend: str  # onnx | torch
    card: dict[str, Any]
    origin: str  # pinned | promoted | registered | path


def _backend_for(path: Path, configured: str) -> str:
    if path.suffix == ".pt":
        return "torch"
    if path.suffix == ".onnx":
        return "onnx"
    return configured


def _card_dict(path: Path) -> dict[str, Any]:
    return dataclasses.asdict(ModelCard.read(card_path(path)))


def _registry(card: dict[str, Any] | None) -> dict[str, Any]:
    reg = (card or {}).get("registry")
    return reg if isinstance(reg, dict) else {}


def pinned_model(cfg: PipelineConfig) -> ModelChoice:
    """The model configs/pipeline.yaml pins (checked against its sha256 when loaded)."""
    path = cfg.resolve(cfg.model.path)
    sha = cfg.model.sha256 or verify_file(path, None)
    card = _card_dict(path)
    card["registry"] = {"path": str(path)}
    return ModelChoice(str(path), sha, _backend_for(path, cfg.model.backend), card, "pinned")


def _from_version(version: ModelVersion, origin: str, cfg: PipelineConfig) -> ModelChoice:
    pinned = pinned_model(cfg)
    if version.sha256 == pinned.sha256:
        return dataclasses.replace(pinned, origin=origin)
    path_text = _registry(version.card).get("path")
    if not path_text:
        raise ModelError(
            ReasonCode.MODEL_MISSING,
            f"model version {version.sha256[:12]} is registered without a file path",
            hint="give the model file's path as `model` instead",
        )
    path = Path(path_text)
    return ModelChoice(
        str(path), version.sha256, _backend_for(path, cfg.model.backend), version.card or {}, origin
    )


def resolve_model(spec: str, engine: Engine, cfg: PipelineConfig) -> ModelChoice:
    """Turn the ``model`` parameter into a file to load and the sha256 that must match."""
    spec = (spec or "default").strip()
    if spec == "default":
        with session_scope(engine) as session:
            promoted = _newest_promoted(session.scalars(select(ModelVersion)).all())
            if promoted is not None:
                return _from_version(promoted, "promoted", cfg)
        return pinned_model(cfg)
    if _HEX.match(spec):
        prefix = spec.lower()
        with session_scope(engine) as session:
            found = session.scalars(
                select(ModelVersion).where(ModelVersion.sha256.startswith(prefix)).limit(3)
            ).all()
            if len(found) > 1:
                raise UsageError(
                    ReasonCode.USAGE,
                    f"model {spec!r} matches {len(found)} registered versions",
                    hint="give more digits of the sha256",
                )
            if found:
                return _from_version(found[0], "registered", cfg)
        pinned = pinned_model(cfg)
        if pinned.sha256.startswith(prefix):
            return pinned
        raise UsageError(
            ReasonCode.NOT_FOUND,
            f"no model version {spec!r} is registered in the results database",
            hint="`default`, a registered sha256 prefix, or the path of a model file",
        )
    path = Path(spec).expanduser()
    if not path.is_absolute():
        path = path if path.exists() else REPO_ROOT / path
    sha = verify_file(path, None)  # ModelError(MODEL_MISSING) when the file is not there
    card = _card_dict(path)
    card["registry"] = {"path": str(path.resolve())}
    return ModelChoice(
        str(path.resolve()), sha, _backend_for(path, cfg.model.backend), card, "path"
    )


def _newest_promoted(versions: Any) -> ModelVersion | None:
    promoted = [v for v in versions if _registry(v.card).get("promoted_at")]
    return max(promoted, key=lambda v: (_registry(v.card)["promoted_at"], v.id), default=None)


def register_trained_model(
    engine: Engine,
    model_path: Path,
    *,
    promote: bool = False,
    registered_by: str = "train-digits",
) -> tuple[int, str]:
    """Register the model file (its card, metrics and path) as a version; promote it if asked.

    Returns ``(model_version_id, sha256)``. Registering twice is harmless; promoting again
    makes the version the newest promoted one.

    >>> mv_id, sha = register_trained_model(engine, Path("models/run7/digits.onnx"), promote=True)
    """
    sha = verify_file(model_path, None)
    card = _card_dict(model_path)
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    registry: dict[str, Any] = {
        "path": str(model_path.resolve()),
        "registered_at": now,
        "registered_by": registered_by,
    }
    with session_scope(engine, write=True) as session:
        version_id = register_model_version(session, sha, {**card, "registry": registry})
        version = session.get(ModelVersion, version_id)
        assert version is not None
        current = dict(version.card or card)
        merged = {**registry, **_registry(current)}  # the first registration's facts stay
        if promote:
            merged["promoted_at"] = now
            merged["promoted_by"] = registered_by
        # a new dict, so that SQLAlchemy sees the JSON column change
        version.card = {**current, "registry": merged}
    return version_id, sha
