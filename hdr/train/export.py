"""Writing a trained model: a plain state_dict (.pt), an ONNX file with the temperature folded
in (.onnx), and the model card (.card.json) that records both files' sha256.

>>> from hdr.train.export import export_model   # export_model(net, temperature, out_dir, card)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from hdr.classify.card import ModelCard
from hdr.classify.net import CalibratedNet
from hdr.classify.predictor import sha256_file

ONNX_OPSET = 17


def write_onnx(net: nn.Module, temperature: float, path: Path, calibrated: bool = False) -> None:
    """The calibrated net as ONNX: input ``glyphs`` (N x 28 x 28), output ``probs`` (N x C).

    ``calibrated``: ``net`` already maps glyphs to calibrated probabilities (an
    :class:`hdr.classify.net.EnsembleNet`, its temperature inside), so it is exported as it is.
    """
    model = net.eval() if calibrated else CalibratedNet(net, temperature).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros(2, 28, 28),),
            str(path),
            input_names=["glyphs"],
            output_names=["probs"],
            dynamic_axes={"glyphs": {0: "n"}, "probs": {0: "n"}},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )


def export_model(
    net: nn.Module,
    temperature: float,
    out_dir: Path,
    card: ModelCard,
    name: str = "digits",
    calibrated: bool = False,
    onnx_writer: Callable[[nn.Module, Path], None] | None = None,
) -> dict[str, Path]:
    """Write ``name.pt``, ``name.onnx`` and ``name.card.json`` under ``out_dir``; return paths.

    ``calibrated``: see :func:`write_onnx` (the state_dict then holds the temperatures too).
    ``onnx_writer``: writes another kind of network's ONNX file (the line reader's,
    :func:`hdr.train.line_run.write_line_onnx`) in place of the glyph classifier's.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    net = net.eval().cpu().to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]
    pt_path, onnx_path = out_dir / f"{name}.pt", out_dir / f"{name}.onnx"
    state = {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}
    torch.save(state, pt_path)
    if onnx_writer is None:
        write_onnx(net, temperature, onnx_path, calibrated)
    else:
        onnx_writer(net, onnx_path)
    card.temperature = float(temperature)
    card.files = {
        "onnx": {"name": onnx_path.name, "sha256": sha256_file(onnx_path)},
        "state_dict": {"name": pt_path.name, "sha256": sha256_file(pt_path)},
    }
    card_file = out_dir / f"{name}.card.json"
    card.write(card_file)
    return {"onnx": onnx_path, "state_dict": pt_path, "card": card_file}
