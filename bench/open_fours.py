"""Fours written open at the top, and the nines that look like them: how each model reads both.

Many hands (most of the real cheques' writers among them) write a four open at the top: a round
``ч``, a hooked bowl close to an open ``a``, a square ``L`` crossed by the right stroke
(:func:`hdr.datasets.glyphs.draw_open_four`). A model taught such fours also reads the MNIST
nines written the same way as fours, and those nines are what set the decision thresholds on the
tuning sets (docs/BENCHMARKS.md, twenty-third session). For each model given:

- per style, 300 held-out open fours (drawn with seeds no recipe uses, augmented as in training):
  the share read as ``4``, and as ``4`` with probability over 0.99;
- the MNIST test nines that the tuning sets' most confident misreads came from (``1232``,
  ``3869``): the probability of ``9`` and of ``4``, each image alone.

    .venv/bin/python bench/open_fours.py models/digits.onnx DIR/digits.onnx
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hdr.classify.labels import index_of  # noqa: E402
from hdr.classify.normalize import normalize_glyph  # noqa: E402
from hdr.classify.predictor import load_classifier, sha256_file  # noqa: E402
from hdr.datasets import glyphs  # noqa: E402
from hdr.datasets.augment import AugmentConfig, augment_ink  # noqa: E402

STYLES = glyphs.FOUR_STYLES
SEED = 424299  # used for nothing else
NINES = (1232, 3869)  # MNIST test images labelled 9, written like an open four


def open_fours(style: str, n: int, seed: int = SEED) -> np.ndarray:
    """``n`` normalised 28 x 28 open fours of one style, as the training recipes augment them."""
    out = []
    for i in range(n):
        rng = np.random.default_rng([seed, STYLES.index(style), i])
        ink = augment_ink(glyphs.draw_open_four(rng, style), rng, AugmentConfig())
        out.append(normalize_glyph(ink))
    return np.stack(out).astype(np.float32)


def mnist_test_images(indices: tuple[int, ...]) -> np.ndarray:
    from hdr.datasets.mnist import load_mnist

    images, labels = load_mnist("test")
    assert (labels[list(indices)] == 9).all(), "the nines named are nines in MNIST"
    return images[list(indices)].astype(np.float32) / 255.0


def measure(model: Path, n: int) -> dict[str, float]:
    clf = load_classifier(model, sha256_file(model))
    four, nine = index_of("4"), index_of("9")
    row: dict[str, float] = {}
    for style in STYLES:
        p = clf.predict_proba(open_fours(style, n))
        top = p.argmax(axis=1)
        row[f"{style} as 4"] = float(np.mean(top == four))
        row[f"{style} as 4 over 0.99"] = float(np.mean((top == four) & (p.max(axis=1) > 0.99)))
    p = clf.predict_proba(mnist_test_images(NINES))
    for k, index in enumerate(NINES):
        row[f"mnist-test:{index} p(9)"] = float(p[k, nine])
        row[f"mnist-test:{index} p(4)"] = float(p[k, four])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help="ONNX files (card beside each)")
    parser.add_argument("--n", type=int, default=300, help="open fours per style")
    args = parser.parse_args()
    rows = {m: measure(m.resolve(), args.n) for m in args.models}
    columns = list(next(iter(rows.values())))
    print("| model | sha256 | " + " | ".join(columns) + " |")
    print("|---|---|" + "---:|" * len(columns))
    for model, row in rows.items():
        cells = [f"{v:.4f}" if c.startswith("mnist") else f"{100 * v:.1f}%" for c, v in row.items()]
        print(f"| {model} | {sha256_file(model)[:12]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
