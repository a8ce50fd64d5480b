"""Rendered non-digits called a digit, with and without ``u U v V``, for each model given.

``hdr eval digits`` scores every model on one fixed held-out split (seed
``hdr.train.data_config.EVAL_RENDER_SEED``), whose rejects include the letters ``u U v V``.
Recipes with cursive zeros (``RenderSpec.cursive_zeros``) teach the model to read those shapes
as ``0`` on purpose (a zero written fast inside ``000``), so this script scores the same split
twice: as it is, and re-rendered with a cursive recipe's letter set (the split's one cursive
zero left out).

    .venv/bin/python bench/nondigits.py models/digits.onnx models/reader-16e1d30e.onnx
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hdr.classify.predictor import load_classifier, sha256_file  # noqa: E402
from hdr.datasets.symbols import RenderSpec, rendered_dataset  # noqa: E402
from hdr.train.data_config import EVAL_RENDER_SEED, DataConfig  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help="ONNX files (card beside each)")
    args = parser.parse_args()
    split = DataConfig().test_render
    splits = {
        "as evaluated": split,
        "u U v V left out": RenderSpec(**{**split.__dict__, "cursive_zeros": 1}),
    }
    print("| model | sha256 | " + " | ".join(splits) + " |")
    print("|---|---|" + "---:|" * len(splits))
    data = {}
    for name, spec in splits.items():
        x, y = rendered_dataset(spec, EVAL_RENDER_SEED)
        keep = (y >= 10) & ~np.array([spec.is_cursive(i) for i in range(len(y))])
        data[name] = x[keep]
    for given in args.models:
        path = given.resolve()
        digest = sha256_file(path)
        clf = load_classifier(path, digest)
        cells = []
        for x in data.values():
            called = float(np.mean(clf.predict_proba(x).argmax(axis=1) < 10))
            cells.append(f"{called:.2%} of {len(x):,}")
        print(f"| `{given}` | `{digest[:12]}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
