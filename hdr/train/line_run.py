"""`hdr train lines`: make the line data if missing, train the line reader, export, write the card.

>>> from hdr.train.line_run import load_line_config
>>> load_line_config().spec.seed
7101
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hdr.classify.lines import CLASSES, DIGIT_PX, HEIGHT, MARGIN, STRIDE, WIDTH
from hdr.config import CONFIG_DIR, load_yaml
from hdr.datasets.lines import LineSpec
from hdr.errors import ConfigError, ReasonCode

DEFAULT_LINE_CONFIG = CONFIG_DIR / "train" / "lines.yaml"
LINE_PREPROCESSING: dict[str, Any] = {
    "input": f"N x {HEIGHT} x {WIDTH} float32 line images (hdr.classify.lines.line_image)",
    "ink": "white ink 1.0 on black 0.0",
    "line_normalisation": "the field's ink after line removal, cut to the writing with a "
    f"margin of {MARGIN} digit heights, scaled so a digit is {DIGIT_PX} px tall, left-aligned",
    "output": f"N x {WIDTH // STRIDE} x {CLASSES} log-probabilities per frame ({STRIDE} image "
    "columns); class 0 is the CTC blank, class k + 1 is labels[k]",
}


@dataclass(frozen=True)
class LineTrainConfig:
    seed: int
    threads: int
    trainer: dict[str, Any]
    model: dict[str, Any]
    spec: LineSpec
    batch_size: int = 64
    valid_share: float = 0.1
    data_dir: Path | None = None
    source: dict[str, Any] = field(default_factory=dict)


def load_line_config(path: Path | str | None = None) -> LineTrainConfig:
    """Parse configs/train/lines.yaml (or ``path``)."""
    cfg_path = Path(path) if path else DEFAULT_LINE_CONFIG
    raw = load_yaml(cfg_path)
    try:
        data = dict(raw.get("data") or {})
        data_dir = data.get("data_dir")
        return LineTrainConfig(
            seed=int(raw.get("seed", 0)),
            threads=int(raw.get("threads", 2)),
            trainer=dict(raw.get("trainer") or {}),
            model=dict(raw.get("model") or {}),
            spec=LineSpec(**(data.get("lines") or {})),
            batch_size=int(data.get("batch_size", 64)),
            valid_share=float(data.get("valid_share", 0.1)),
            data_dir=Path(data_dir).expanduser() if data_dir else None,
            source=raw,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(ReasonCode.CONFIG_INVALID, f"{cfg_path}: {exc}") from exc


def write_line_onnx(net: Any, path: Path) -> None:
    """The line network as ONNX: input ``lines`` (N x HEIGHT x WIDTH), output ``logprobs``."""
    import torch

    from hdr.train.export import ONNX_OPSET

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net.eval(),
            (torch.zeros(2, HEIGHT, WIDTH),),
            str(path),
            input_names=["lines"],
            output_names=["logprobs"],
            dynamic_axes={"lines": {0: "n"}, "logprobs": {0: "n"}},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )


def train_lines(
    config: LineTrainConfig,
    out_dir: Path,
    fast_dev_run: bool = False,
    progress: bool = True,
    command: str | None = None,
    name: str = "lines",
) -> dict[str, Any]:
    """Train the line reader on ``config.spec``'s lines; export ``name.pt``, ``name.onnx`` and
    ``name.card.json`` to ``out_dir``; returns the card and the paths."""
    from hdr.datasets.lines import build_lines, lines_path

    started = time.perf_counter()
    data_path = lines_path(config.spec, config.data_dir)
    data_seconds = None
    if not data_path.exists():
        build_lines(config.spec, config.data_dir)
        data_seconds = round(time.perf_counter() - started, 1)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import lightning as L
    import torch

    from hdr.classify.card import ModelCard
    from hdr.classify.labels import LABELS
    from hdr.classify.predictor import sha256_file
    from hdr.train.export import export_model
    from hdr.train.line_module import LineDataModule, LineReaderModule
    from hdr.train.run import fit_best

    torch.set_num_threads(config.threads)
    L.seed_everything(config.seed, workers=True, verbose=False)
    dm = LineDataModule(data_path, config.batch_size, config.valid_share, config.seed)
    module = LineReaderModule(**config.model)
    trainer = fit_best(module, dm, config.trainer, "lines", fast_dev_run, progress)
    metrics = {k: round(float(v), 6) for k, v in trainer.callback_metrics.items()}
    if not fast_dev_run:  # the selected epoch's figures, not the last one's
        selected = trainer.validate(module, dm, verbose=False)[0]
        metrics.update({k: round(float(v), 6) for k, v in selected.items()})
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    card = ModelCard(
        labels=list(LABELS),
        name="hdr-lines",
        preprocessing=dict(LINE_PREPROCESSING),
        architecture={
            "kind": "line",
            **{
                k: list(v) if isinstance(v, (list, tuple)) else v
                for k, v in config.model.items()
                if k in ("widths", "hidden", "dropout")
            },
        },
        data_hashes={"lines": sha256_file(data_path), "lines_spec": str(asdict(config.spec))},
        metrics={
            k.replace("val_", "valid_"): v for k, v in metrics.items() if k.startswith("val_")
        },
        training={
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": command or " ".join(sys.argv),
            "seconds": round(time.perf_counter() - started, 1),
            "cpu_seconds": round(sum(u.ru_utime + u.ru_stime for u in usage), 1),
            "data_seconds": data_seconds,
            "epochs": int(trainer.current_epoch) if not fast_dev_run else 0,
            "fast_dev_run": fast_dev_run,
            "threads": config.threads,
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "lightning": L.__version__,
            "config": config.source,
        },
    )
    paths = export_model(module.net, 1.0, out_dir, card, name, onnx_writer=write_line_onnx)
    return {"card": card, "paths": paths}
