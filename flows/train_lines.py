"""The `train-lines` flow: `hdr train lines` from the Prefect UI, written beside the pinned model.

Deployed as ``train-lines/manual`` (prefect.yaml, no schedule). The line reader (the second
opinion that reads each field whole, ``models/lines.onnx``) is trained into a fresh folder
(``models/candidates/<UTC time>/`` unless ``out_dir`` is given), never over the pinned one. The
flow's artifact gives its metrics and the ``line_model:`` lines that pin it in
configs/pipeline.yaml: a person switches readers after looking at the figures (BENCHMARKS.md,
*A second reader*), as the pinned model is what every `hdr read` and batch use.

>>> from flows.train_lines import train_lines_flow
>>> trained = train_lines_flow()                                 # doctest: +SKIP
>>> trained["sha256"][:12], trained["metrics"]["valid_exact"]    # doctest: +SKIP
('3fa50dc5ecf8', 0.7802)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE

from flows.runtime import get_logger
from flows.train_digits import metrics_table
from hdr.config import MODELS_DIR, REPO_ROOT


@task(name="train-line-reader", cache_policy=NONE)
def train_line_model(config: str | None, out_dir: str, fast_dev_run: bool) -> dict[str, Any]:
    """Make the line data when missing, train, export (what `hdr train lines` does)."""
    from hdr.train.line_run import load_line_config, train_lines

    cfg = load_line_config(config)
    command = f"train-lines flow (config {config or 'configs/train/lines.yaml'})"
    result = train_lines(
        cfg, Path(out_dir), fast_dev_run=fast_dev_run, progress=False, command=command
    )
    card = result["card"]
    return {
        "path": str(result["paths"]["onnx"]),
        "sha256": card.files["onnx"]["sha256"],
        "metrics": dict(card.metrics),
        "seconds": float(card.training.get("seconds", 0.0)),
    }


def pin_lines(path: str, sha256: str) -> str:
    """The configs/pipeline.yaml lines that make ``path`` the line reader."""
    shown = Path(path)
    if shown.is_relative_to(REPO_ROOT):
        shown = shown.relative_to(REPO_ROOT)
    return f"line_model:\n  path: {shown}\n  sha256: {sha256}\n"


@flow(name="train-lines", log_prints=False)
def train_lines_flow(
    config: str | None = None, out_dir: str | None = None, fast_dev_run: bool = False
) -> dict[str, Any]:
    """Train the line reader into a candidates folder; its metrics and how to pin it.

    Args:
        config: Training config (default: configs/train/lines.yaml).
        out_dir: Folder for the .pt, .onnx and card (default: models/candidates/<UTC time>).
        fast_dev_run: One batch of training and validation: a smoke test, not a model.
    """
    started = time.perf_counter()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = out_dir or str(MODELS_DIR / "candidates" / stamp)
    trained = train_line_model(config, folder, fast_dev_run)
    get_logger().info("line reader %s written to %s", trained["sha256"][:12], trained["path"])
    out = {
        **trained,
        "pin": pin_lines(trained["path"], trained["sha256"]),
        "seconds": round(time.perf_counter() - started, 1),
    }
    create_markdown_artifact(_markdown(out), key="train-lines", description="Trained line reader")
    return out


def _markdown(out: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"# Line reader `{out['sha256'][:16]}`",
            "",
            f"File `{out['path']}`. To read with it, put in configs/pipeline.yaml:",
            "",
            "```yaml",
            out["pin"].rstrip(),
            "```",
            "",
            *metrics_table(out["metrics"]),
        ]
    )
