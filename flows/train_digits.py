"""The `train-digits` flow: `hdr train digits`, then the new model version in the registry.

Deployed as ``train-digits/manual`` (prefect.yaml, no schedule). The model is written to a
fresh folder (``models/candidates/<UTC time>/`` unless ``out_dir`` is given), never over the
pinned model, and registered in the results database with its card and metrics.
``promote=True`` makes it the ``default`` model of later `process-batch` runs; without it,
a batch uses it only when asked for by sha256 (``model="<sha256 prefix>"``).

>>> from flows.train_digits import train_digits_flow
>>> trained = train_digits_flow(promote=False)                   # doctest: +SKIP
>>> trained["sha256"][:12], trained["promoted"]                  # doctest: +SKIP
('4be1c0a9d2f3', False)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE

from db.session import redact
from flows.config import load_flows_config
from flows.models import register_trained_model
from flows.runtime import engine_for, get_logger
from flows.tasks import retry_if_transient
from hdr.config import MODELS_DIR, Settings


@task(name="train-model", cache_policy=NONE)
def train_model(config: str | None, out_dir: str, fast_dev_run: bool) -> dict[str, Any]:
    """Train, calibrate and export (what `hdr train digits` does); paths and metrics."""
    from hdr.train.run import load_train_config, train_digits

    cfg = load_train_config(config)
    command = f"train-digits flow (config {config or 'configs/train/digits.yaml'})"
    result = train_digits(
        cfg, Path(out_dir), fast_dev_run=fast_dev_run, progress=False, command=command
    )
    card = result["card"]
    return {
        "paths": {kind: str(path) for kind, path in result["paths"].items()},
        "metrics": dict(card.metrics),
        "seconds": float(card.training.get("seconds", 0.0)),
    }


@task(
    name="register-model",
    retries=3,
    retry_delay_seconds=[2, 4, 8],
    cache_policy=NONE,
    retry_condition_fn=retry_if_transient,
)
def register_model(db_url: str, model_path: str, promote: bool) -> tuple[int, str]:
    """The new version in the registry (card, metrics, path); promoted when asked."""
    return register_trained_model(engine_for(db_url), Path(model_path), promote=promote)


@flow(name="train-digits", log_prints=False)
def train_digits_flow(
    config: str | None = None,
    out_dir: str | None = None,
    fast_dev_run: bool = False,
    promote: bool = False,
) -> dict[str, Any]:
    """Train the glyph classifier, register it as a model version, and promote it if asked.

    Args:
        config: Training config (default: configs/train/digits.yaml).
        out_dir: Folder for the .pt, .onnx and card (default: models/candidates/<UTC time>).
        fast_dev_run: One batch of training and validation: a smoke test, not a model.
        promote: Make the new model the default of later process-batch runs.
    """
    started = time.perf_counter()
    retries = load_flows_config().retries
    db_url = Settings().db_url_or_default()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = out_dir or str(MODELS_DIR / "candidates" / stamp)
    trained = train_model(config, folder, fast_dev_run)
    version_id, sha = register_model.with_options(
        retries=retries.attempts, retry_delay_seconds=retries.delays()
    )(db_url, trained["paths"]["onnx"], promote)
    get_logger().info("model %s registered as version %d", sha[:12], version_id)
    out = {
        "model_version_id": version_id,
        "sha256": sha,
        "path": trained["paths"]["onnx"],
        "promoted": promote,
        "metrics": trained["metrics"],
        "database": redact(db_url),
        "seconds": round(time.perf_counter() - started, 1),
    }
    create_markdown_artifact(_markdown(out), key="train-digits", description="Trained model")
    return out


def _markdown(out: dict[str, Any]) -> str:
    lines = [
        f"# Model `{out['sha256'][:16]}`",
        "",
        f"Version {out['model_version_id']} in `{out['database']}`; file `{out['path']}`.",
        "",
        "**Promoted**: the default model of process-batch from now on."
        if out["promoted"]
        else "Not promoted: use it with `model=" + out["sha256"][:12] + "`.",
        "",
        *metrics_table(out["metrics"]),
    ]
    return "\n".join(lines)


def metrics_table(metrics: dict[str, Any]) -> list[str]:
    """A model card's metrics as the lines of a Markdown table."""
    rows = ["| metric | value |", "|---|---:|"]
    for name, value in sorted(metrics.items()):
        rows.append(
            f"| {name} | {value:.4f} |" if isinstance(value, float) else f"| {name} | {value} |"
        )
    return rows
