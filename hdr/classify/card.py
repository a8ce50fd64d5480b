"""The model card: a JSON file beside the weights that says what the model is and how it was made.

It carries what a reader of the model needs (label set, preprocessing, architecture,
temperature) and what an auditor needs (data hashes, metrics, weight hashes, date, command).

>>> from hdr.classify.card import ModelCard
>>> card = ModelCard.from_json(ModelCard(labels=["0", "1"]).to_json())
>>> card.labels
['0', '1']
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from hdr.errors import ModelError, ReasonCode

CARD_FORMAT = 1

PREPROCESSING: dict[str, Any] = {
    "input": "N x 28 x 28 float32 (the ONNX model also takes N x 1 x 28 x 28)",
    "ink": "white ink 1.0 on black 0.0",
    "glyph_normalisation": "hdr.classify.normalize.normalize_glyph: bounding box scaled to "
    "20 px (aspect kept), centre of mass at the centre of a 28 x 28 frame",
    "standardisation": "(x - 0.1307) / 0.3081, inside the network",
    "output": "calibrated probabilities over `labels` (softmax(logits / temperature))",
}


@dataclass
class ModelCard:
    """Everything about a trained glyph classifier that is not its weights."""

    labels: list[str]
    name: str = "hdr-digits"
    card_format: int = CARD_FORMAT
    preprocessing: dict[str, Any] = field(default_factory=lambda: dict(PREPROCESSING))
    architecture: dict[str, Any] = field(default_factory=dict)  # GlyphNet keyword arguments
    temperature: float = 1.0
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> {name, sha256}
    data_hashes: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)  # date, command, seconds, versions

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def write(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> ModelCard:
        try:
            card = cls.from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ModelError(
                ReasonCode.MODEL_MISSING,
                f"model card not found: {path}",
                "the card (NAME.card.json) must sit beside the model file",
            ) from exc
        except (ValueError, TypeError) as exc:
            raise ModelError(
                ReasonCode.MODEL_INVALID, f"model card {path} is not valid: {exc}"
            ) from exc
        return card


def card_path(model_path: Path) -> Path:
    """``models/digits.onnx`` -> ``models/digits.card.json``."""
    return model_path.with_name(model_path.stem + ".card.json")
