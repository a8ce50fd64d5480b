"""`hdr train ensemble`: several trained glyph models combined into one model file.

The pipeline reads with one model, pinned by one sha256. An ensemble is therefore built into a
model of its own: :class:`hdr.classify.net.EnsembleNet` holds the members (each with its own
temperature) and averages their probabilities; one more temperature, fitted on the validation
split (MNIST valid and the recipe's held-out rendered glyphs, never test), calibrates the mean.
It is exported like any trained model: a state_dict (``.pt``), an ONNX file and a card. The
card lists every member (its files' sha256, its recipe, its training command and date) under
``training.members`` and its architecture under ``architecture.members``, so the torch fallback
rebuilds the same network.

Members are taken from their ``.onnx`` or ``.pt`` file with the card beside it; the state_dict
is checked against the card's sha256 before it is loaded (``weights_only=True``). An ensemble
given as a member brings all its networks; ``PATH#N`` takes its network N alone (counted from
0), e.g. to put a network trained on from member 0 beside the unchanged member 1.

>>> from hdr.train.ensemble import combine_models   # combine_models([a, b], out_dir, data)
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hdr.classify.card import ModelCard, card_path
from hdr.classify.labels import LABELS
from hdr.classify.predictor import verify_file
from hdr.errors import ModelError, ReasonCode, UsageError
from hdr.train.data_config import VALID_SEED_OFFSET, DataConfig, mnist_float

MEMBER_ARCH_KEYS = ("widths", "convs_per_block", "hidden", "dropout")


def _member_files(path: Path, card: ModelCard) -> Path:
    """The member's state_dict, checked against the card's sha256 (and the ONNX file against
    the card too, when that is the file given)."""
    pt = card.files.get("state_dict")
    if not pt:
        raise ModelError(ReasonCode.MODEL_INVALID, f"{card_path(path)} names no state_dict file")
    if path.suffix == ".onnx":
        verify_file(path, card.files.get("onnx", {}).get("sha256"))
    pt_path = path if path.suffix == ".pt" else path.with_name(pt["name"])
    verify_file(pt_path, pt["sha256"], "state_dict")
    return pt_path


def _load_network(path: Path, card: ModelCard) -> tuple[Any, ModelCard]:
    """A single trained network (``card`` is its card) as a
    :class:`hdr.classify.net.CalibratedNet`, with its card."""
    import torch

    from hdr.classify.net import CalibratedNet, GlyphNet

    pt_path = _member_files(path, card)
    net = GlyphNet(**{k: card.architecture[k] for k in MEMBER_ARCH_KEYS if k in card.architecture})
    net.load_state_dict(torch.load(pt_path, map_location="cpu", weights_only=True))
    return CalibratedNet(net, card.temperature).eval(), card


def load_members(path: Path) -> list[tuple[Any, ModelCard]]:
    """The nets a model file holds, each with its card: one for a single network; for an
    ensemble, each of its members (weights from the ensemble's state_dict, card rebuilt from
    the entries its card keeps under ``training.members``), so that an ensemble and a further
    network combine into one flat ensemble instead of an ensemble of ensembles.
    """
    import torch

    from hdr.classify.net import ensemble_from_state

    card = ModelCard.read(card_path(path))
    if tuple(card.labels) != LABELS:
        raise ModelError(
            ReasonCode.MODEL_INVALID, f"{path} was trained for labels {card.labels}, not {LABELS}"
        )
    archs = card.architecture.get("members")
    if not archs:
        return [_load_network(path, card)]
    entries = list(card.training.get("members") or [])
    if len(entries) != len(archs):
        raise ModelError(
            ReasonCode.MODEL_INVALID,
            f"{card_path(path)} describes {len(archs)} member nets but lists {len(entries)}",
        )
    pt_path = _member_files(path, card)
    state = torch.load(pt_path, map_location="cpu", weights_only=True)
    ensemble = ensemble_from_state(archs, state)
    out = []
    for i, (net, arch, entry) in enumerate(zip(ensemble.members, archs, entries, strict=True)):
        prefix = f"member{i}."
        member_card = ModelCard(
            labels=list(card.labels),
            name=f"{card.name} member {i}",
            preprocessing=dict(card.preprocessing),
            architecture=dict(arch),
            temperature=float(state[f"members.{i}.temperature"]),
            files={
                "onnx": {"name": str(entry.get("file")), "sha256": entry.get("onnx_sha256")},
                "state_dict": {"name": "", "sha256": entry.get("state_dict_sha256")},
            },
            data_hashes={
                k[len(prefix) :]: v for k, v in card.data_hashes.items() if k.startswith(prefix)
            },
            metrics={"mnist_test_accuracy": entry.get("mnist_test_accuracy")},
            training={
                **{k: entry.get(k) for k in ("config", "command", "date", "seconds")},
                "ensemble": path.name,  # taken out of this ensemble's file
            },
        )
        out.append((net.eval(), member_card))
    return out


def member_spec(spec: str | Path) -> tuple[Path, int | None]:
    """``PATH`` or ``PATH#N`` (network N of the ensemble at PATH) as (path, N or None).

    >>> member_spec("models/digits.onnx#1")
    (PosixPath('models/digits.onnx'), 1)
    >>> member_spec("a/digits.onnx")
    (PosixPath('a/digits.onnx'), None)
    """
    text = str(spec)
    head, sep, tail = text.rpartition("#")
    if sep and tail.isdigit():
        return Path(head), int(tail)
    return Path(text), None


def load_member_spec(path: Path, index: int | None) -> list[tuple[Any, ModelCard]]:
    """The networks a member given as ``path`` (:func:`member_spec`) or ``path#index`` names,
    each with its card."""
    nets = load_members(path)
    if index is None:
        return nets
    if index >= len(nets):
        raise UsageError(
            ReasonCode.USAGE,
            f"{path} holds {len(nets)} network(s); there is no network {index}",
            f"give {path}#0 to {path}#{len(nets) - 1}",
        )
    return [nets[index]]


def validation_split(data: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """MNIST valid and the recipe's held-out rendered validation glyphs (as in training)."""
    from hdr.datasets.symbols import rendered_dataset

    vx, vy = mnist_float("valid", data.data_dir)
    rx, ry = rendered_dataset(data.valid_render, data.seed + VALID_SEED_OFFSET)
    return np.concatenate([vx, rx]).astype(np.float32), np.concatenate([vy, ry])


def _mean_log_probs(ensemble: Any, x: np.ndarray, batch: int = 2048) -> np.ndarray:
    import torch

    out = []
    with torch.inference_mode():
        for i in range(0, len(x), batch):
            mean = ensemble.mean_probs(torch.from_numpy(x[i : i + batch]))
            out.append(torch.log(mean.clamp_min(1e-12)).numpy())
    return np.concatenate(out).astype(np.float64)


def combine_models(
    members: Sequence[str | Path],
    out_dir: Path,
    data: DataConfig,
    name: str = "digits",
    command: str | None = None,
    calibration: tuple[np.ndarray, np.ndarray] | None = None,
    evaluate: bool = True,
) -> dict[str, Any]:
    """Write ``name.pt``, ``name.onnx`` and ``name.card.json`` of the ensemble of ``members``.

    ``calibration`` (glyphs, labels) replaces the validation split (tests); ``evaluate`` adds
    the `hdr eval digits` report to the card's metrics. Returns the card, the paths and the
    ensemble's temperature.
    """
    import torch

    from hdr.classify.net import EnsembleNet
    from hdr.classify.predictor import load_classifier
    from hdr.train.calibrate import expected_calibration_error, fit_temperature, softmax
    from hdr.train.evaluate import evaluate_classifier
    from hdr.train.export import export_model

    started = time.perf_counter()
    specs = [member_spec(m) for m in members]
    paths = [p for p, _ in specs]
    if len(specs) < 2:
        raise UsageError(ReasonCode.USAGE, "an ensemble needs at least two models")
    targets = {(out_dir / f"{name}{ext}").resolve() for ext in (".onnx", ".pt", ".card.json")}
    for p in paths:
        card = ModelCard.read(card_path(p))
        own = {p.resolve(), card_path(p).resolve()}
        own |= {p.with_name(f["name"]).resolve() for f in card.files.values()}
        if own & targets:
            raise UsageError(
                ReasonCode.USAGE,
                f"the ensemble would overwrite its member {p}",
                "write it to another folder or under another --name",
            )
    # an ensemble given as a member brings its own members (where, kept in the card)
    loaded = [
        (p if i is None else Path(f"{p}#{i}"), net, card)
        for p, i in specs
        for net, card in load_member_spec(p, i)
    ]
    digests = [c.files.get("state_dict", {}).get("sha256") for _, _, c in loaded]
    if len(set(digests)) < len(digests):
        raise UsageError(
            ReasonCode.USAGE,
            "the same network is given twice (an ensemble brings its own members)",
            "give each network once",
        )
    ensemble = EnsembleNet([net for _, net, _ in loaded], 1.0).eval()
    x, y = calibration if calibration is not None else validation_split(data)
    z = _mean_log_probs(ensemble, np.asarray(x, np.float32))
    temperature = fit_temperature(z, np.asarray(y))
    ensemble.temperature.fill_(float(temperature))
    val_probs = softmax(z, temperature)
    metrics = {
        "valid_acc": round(float((val_probs.argmax(1) == y).mean()), 6),
        "valid_ece_before": expected_calibration_error(softmax(z), np.asarray(y)),
        "valid_ece_after": expected_calibration_error(val_probs, np.asarray(y)),
    }
    card = ModelCard(
        labels=list(LABELS),
        name="hdr-digits-ensemble",
        architecture={
            "members": [
                {k: c.architecture[k] for k in MEMBER_ARCH_KEYS if k in c.architecture}
                for _, _, c in loaded
            ]
        },
        data_hashes={
            f"member{i}.{k}": v
            for i, (_, _, c) in enumerate(loaded)
            for k, v in c.data_hashes.items()
        },
        metrics=metrics,
        training={
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": command or " ".join(sys.argv),
            # the members' training and this step's calibration together
            "seconds": round(
                sum(float(c.training.get("seconds") or 0.0) for _, _, c in loaded)
                + time.perf_counter()
                - started,
                1,
            ),
            "kind": "ensemble: mean of the members' calibrated probabilities, recalibrated",
            "calibration": "validation split" if calibration is None else "given by the caller",
            "torch": torch.__version__,
            "members": [
                {
                    "file": c.files["onnx"]["name"] if "ensemble" in c.training else p.name,
                    "from": p.name,
                    "onnx_sha256": c.files.get("onnx", {}).get("sha256"),
                    "state_dict_sha256": c.files.get("state_dict", {}).get("sha256"),
                    "temperature": c.temperature,
                    "config": c.training.get("config"),
                    "command": c.training.get("command"),
                    "date": c.training.get("date"),
                    "seconds": c.training.get("seconds"),
                    "mnist_test_accuracy": c.metrics.get("mnist_test_accuracy"),
                }
                for p, _, c in loaded
            ],
        },
    )
    out = export_model(ensemble, temperature, out_dir, card, name=name, calibrated=True)
    if evaluate:
        clf = load_classifier(out["onnx"], card.files["onnx"]["sha256"], "onnx")
        report = evaluate_classifier(clf, data, speed_seconds=1.0)
        card.metrics.update(
            {
                k: float(v)
                for k, v in report.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)
            }
        )
        card.write(out["card"])
    return {"card": card, "paths": out, "temperature": temperature}
