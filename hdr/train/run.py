"""`hdr train digits`: read the YAML config, train, calibrate, export, evaluate, write the card.

>>> from hdr.train.run import load_train_config
>>> load_train_config().trainer["max_epochs"] > 0
True
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hdr.config import CONFIG_DIR, load_yaml
from hdr.datasets.augment import AugmentConfig
from hdr.datasets.harvest import HarvestSpec
from hdr.datasets.symbols import RenderSpec
from hdr.errors import ConfigError, ReasonCode
from hdr.train.data_config import DataConfig

DEFAULT_TRAIN_CONFIG = CONFIG_DIR / "train" / "digits.yaml"


@dataclass(frozen=True)
class TrainConfig:
    seed: int
    threads: int
    trainer: dict[str, Any]
    model: dict[str, Any]
    data: DataConfig
    source: dict[str, Any] = field(default_factory=dict)
    # Fine-tuning: start from this model card's state_dict (sha256-checked) instead of random
    # weights; its architecture must match ``model``. ``init_member``: the card is an ensemble
    # (``hdr train ensemble``) and this member's network is the one to start from.
    init: Path | None = None
    init_member: int | None = None


def _render_spec(raw: dict[str, Any] | None, default: RenderSpec) -> RenderSpec:
    if not raw:
        return default
    raw = dict(raw)
    aug = raw.pop("augment", None)
    spec = RenderSpec(**{**{"augment": default.augment}, **raw})
    return RenderSpec(**{**spec.__dict__, "augment": AugmentConfig(**aug)}) if aug else spec


def _init_path(value: Any, cfg_path: Path) -> Path | None:
    if not value:
        return None
    path = Path(str(value)).expanduser()
    if not path.is_absolute():  # relative to the repository (configs/..), like models/
        path = CONFIG_DIR.parent / path
    return path


def load_initial_weights(net: Any, card_file: Path, member: int | None = None) -> str:
    """Load the state_dict that ``card_file`` pins into ``net``; returns its sha256.

    ``member``: the card is an ensemble's, and ``net`` takes the weights of that member.
    """
    import torch

    from hdr.classify.card import ModelCard
    from hdr.classify.predictor import verify_file

    card = ModelCard.read(card_file)
    entry = card.files.get("state_dict")
    if not entry:
        raise ConfigError(ReasonCode.CONFIG_INVALID, f"{card_file}: the card names no state_dict")
    weights = card_file.parent / entry["name"]
    digest = verify_file(weights, entry["sha256"], "initial weights")
    state = torch.load(weights, map_location="cpu", weights_only=True)
    if member is not None:
        prefix = f"members.{member}.net."
        state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        if not state:
            raise ConfigError(
                ReasonCode.CONFIG_INVALID,
                f"{card_file}: no member {member} (init_member) in {entry['name']}",
                "init_member: an ensemble card and one of its members, counted from 0",
            )
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise ConfigError(
            ReasonCode.CONFIG_INVALID,
            f"{weights} does not fit the configured architecture: {exc}",
            "make model: in the training config match the card's architecture",
        ) from exc
    return digest


def load_train_config(path: Path | str | None = None) -> TrainConfig:
    """Parse configs/train/digits.yaml (or ``path``) into typed settings."""
    cfg_path = Path(path) if path else DEFAULT_TRAIN_CONFIG
    raw = load_yaml(cfg_path)
    try:
        seed = int(raw.get("seed", 0))
        d = dict(raw.get("data") or {})
        base = DataConfig()
        for key in ("train_render", "valid_render", "test_render"):
            d[key] = _render_spec(d.get(key), getattr(base, key))
        if d.get("data_dir") is not None:
            d["data_dir"] = Path(d["data_dir"]).expanduser()
        if "mnist_augment" in d:
            d["mnist_augment"] = AugmentConfig(**d["mnist_augment"])
        if d.get("harvest") is not None:
            d["harvest"] = HarvestSpec(**d["harvest"])
        data = DataConfig(seed=seed, **d)
        return TrainConfig(
            seed=seed,
            threads=int(raw.get("threads", 1)),
            trainer=dict(raw.get("trainer") or {}),
            model=dict(raw.get("model") or {}),
            data=data,
            source=raw,
            init=_init_path(raw.get("init"), cfg_path),
            init_member=None if raw.get("init_member") is None else int(raw["init_member"]),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(ReasonCode.CONFIG_INVALID, f"{cfg_path}: {exc}") from exc


def prepare_harvest(data: DataConfig) -> float | None:
    """Make the config's harvested glyphs when they are missing; the seconds it took, or None."""
    if data.harvest is None:
        return None
    from hdr.datasets.harvest import harvest, harvest_path

    if harvest_path(data.harvest, data.data_dir).exists():
        return None
    started = time.perf_counter()
    harvest(data.harvest, data.data_dir)
    return round(time.perf_counter() - started, 1)


def fit_best(
    module: Any,
    datamodule: Any,
    trainer_kwargs: dict[str, Any],
    name: str,
    fast_dev_run: bool = False,
    progress: bool = True,
) -> Any:
    """Fit ``module`` on CPU and load back the weights of the epoch with the lowest validation
    loss; returns the trainer. Lightning checkpoints are working files (pickles with optimizer
    state): they live in a temporary folder, never in the output folder, which gets only the
    state_dict, the ONNX file and the card."""
    import lightning as L
    import torch
    from lightning.pytorch.callbacks import ModelCheckpoint, RichProgressBar

    ckpt_tmp = tempfile.TemporaryDirectory(prefix="hdr-ckpt-")
    checkpoint = ModelCheckpoint(
        dirpath=Path(ckpt_tmp.name), filename=name + "-{epoch:02d}", monitor="val_loss", mode="min"
    )
    callbacks: list[Any] = [] if fast_dev_run else [checkpoint]
    if progress:
        callbacks.append(RichProgressBar())
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        fast_dev_run=fast_dev_run,
        callbacks=callbacks,
        logger=False,
        enable_checkpointing=not fast_dev_run,
        enable_progress_bar=progress,
        enable_model_summary=False,
        deterministic=False,
        num_sanity_val_steps=0,
        **trainer_kwargs,
    )
    try:
        trainer.fit(module, datamodule=datamodule)
        if not fast_dev_run and checkpoint.best_model_path:
            state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
            module.load_state_dict(state["state_dict"])
    finally:
        ckpt_tmp.cleanup()
    return trainer


def train_digits(
    config: TrainConfig,
    out_dir: Path,
    fast_dev_run: bool = False,
    progress: bool = True,
    command: str | None = None,
) -> dict[str, Any]:
    """Train, calibrate on the validation split, export to ``out_dir``; returns the model card."""
    from hdr.datasets.mnist import load_mnist

    load_mnist("valid", config.data.data_dir)  # fail in a second, not after importing Lightning
    harvest_seconds = prepare_harvest(config.data)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning threads starve a shared CPU
    import lightning as L
    import torch

    from hdr.classify.card import ModelCard
    from hdr.classify.labels import LABELS
    from hdr.classify.predictor import load_classifier
    from hdr.train.calibrate import expected_calibration_error, fit_temperature, softmax
    from hdr.train.datamodule import GlyphDataModule
    from hdr.train.evaluate import evaluate_classifier
    from hdr.train.export import export_model
    from hdr.train.module import GlyphClassifierModule, summarize

    started = time.perf_counter()
    torch.set_num_threads(config.threads)
    L.seed_everything(config.seed, workers=True, verbose=False)
    dm = GlyphDataModule(config.data)
    module = GlyphClassifierModule(**config.model)
    init_sha = (
        load_initial_weights(module.net, config.init, config.init_member) if config.init else None
    )
    # Selected on the loss over the whole validation split (MNIST valid and held-out rendered
    # glyphs): selecting on MNIST accuracy alone picked epochs that call more symbols a digit.
    trainer = fit_best(module, dm, config.trainer, "digits", fast_dev_run, progress)
    train_seconds = time.perf_counter() - started
    # CPU seconds of this process and its reaped data workers: on a shared machine the wall
    # clock says more about the neighbours than about the training.
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu_seconds = sum(u.ru_utime + u.ru_stime for u in usage)

    # Temperature on the validation split (MNIST valid + held-out rendered), never on test.
    module.eval()
    logits, labels, is_mnist = [], [], []
    with torch.inference_mode():
        for batch_i, (x, y, m) in enumerate(dm.val_dataloader()):
            logits.append(module(x))
            labels.append(y)
            is_mnist.append(m)
            if fast_dev_run and batch_i >= 1:
                break
    z, y_val, m_val = torch.cat(logits), torch.cat(labels), torch.cat(is_mnist)
    temperature = fit_temperature(z.numpy(), y_val.numpy())
    val = summarize(z, y_val, m_val)
    val["ece_before"] = expected_calibration_error(softmax(z.numpy()), y_val.numpy())
    val["ece_after"] = expected_calibration_error(softmax(z.numpy(), temperature), y_val.numpy())

    card = ModelCard(
        labels=list(LABELS),
        architecture={
            k: list(v) if isinstance(v, (list, tuple)) else v
            for k, v in config.model.items()
            if k in ("widths", "convs_per_block", "hidden", "dropout")
        },
        data_hashes=dm.data_hashes(),
        metrics={f"valid_{k}": round(float(v), 6) for k, v in val.items()},
        training={
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": command or " ".join(sys.argv),
            "seconds": round(train_seconds, 1),
            "cpu_seconds": round(cpu_seconds, 1),
            "epochs": int(trainer.current_epoch) if not fast_dev_run else 0,
            "fast_dev_run": fast_dev_run,
            "threads": config.threads,
            "cpu_count": os.cpu_count(),
            "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
            "torch": torch.__version__,
            "lightning": L.__version__,
            "config": config.source,
            "init_state_dict_sha256": init_sha,
            "init_member": config.init_member,
            # reading the pages of the harvest, when this run had to make it (else null)
            "harvest_seconds": harvest_seconds,
        },
    )
    paths = export_model(module.net, temperature, out_dir, card)
    clf = load_classifier(paths["onnx"], card.files["onnx"]["sha256"], "onnx")
    if not fast_dev_run:
        report = evaluate_classifier(clf, config.data, speed_seconds=1.0)
        card.metrics.update(
            {
                k: v
                for k, v in report.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)
            }
        )
        card.metrics = {k: float(v) for k, v in card.metrics.items()}
        card.write(paths["card"])
    return {"card": card, "paths": paths, "temperature": temperature}
