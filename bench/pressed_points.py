"""Points pressed against a digit: how often each model loses them, alone and on a page.

A decimal point written against the digit beside it is one piece of ink with it. A model that
reads the piece as the digit alone loses the point: ``209.00`` becomes ``20900.00``, a hundred
times the amount (docs/BENCHMARKS.md, twenty-first session). For each model given:

- ``glyphs``: held-out pressed points drawn by ``hdr.datasets.glyphs.draw_dotted_digit`` (font
  digits, seeds used for nothing else): the share read as a reject, and the share read as a
  digit with probability over 0.99; font digits without a point, as a check, read right;
- ``page``: ``209.00`` written with MNIST test digits in a printed box, the point pressed
  against the next ``0`` (slid along the baseline until it meets its ink, as in
  ``tests/integration/test_recognize.py``), read by the whole recognizer at the configured
  thresholds: how often ``20900.00`` is read, and how often it is accepted.

    .venv/bin/python bench/pressed_points.py models/digits.onnx DIR/digits.onnx
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hdr.classify.labels import LABELS, REJECT  # noqa: E402
from hdr.classify.normalize import normalize_glyph  # noqa: E402
from hdr.classify.predictor import load_classifier, sha256_file  # noqa: E402
from hdr.datasets import glyphs  # noqa: E402

SEED = 99991  # held out: no recipe renders with it
HEIGHT = 40  # digit height of the drawn fields, px (tests/helpers/fields.py)


def glyph_rates(clf: object, n: int) -> dict[str, float]:
    """Shares of ``n`` held-out pressed points read as a reject, and as a sure digit; and of
    the same font digits without their point read right."""
    dotted = np.stack(
        [
            normalize_glyph(glyphs.draw_dotted_digit(np.random.default_rng([SEED, i])))
            for i in range(n)
        ]
    ).astype(np.float32)
    plain = np.stack(
        [
            normalize_glyph(glyphs.render_char(str(i % 10), np.random.default_rng([SEED, i])))
            for i in range(n)
        ]
    ).astype(np.float32)
    pd = clf.predict_proba(dotted)  # type: ignore[attr-defined]
    pp = clf.predict_proba(plain)  # type: ignore[attr-defined]
    return {
        "reject": float((pd.argmax(1) == LABELS.index(REJECT)).mean()),
        "sure_digit": float((pd[:, :10].max(1) > 0.99).mean()),
        "plain_right": float((pp.argmax(1) == np.arange(n) % 10).mean()),
    }


def press_point(image: np.ndarray, box: tuple[int, int, int, int], base: int, radius: int) -> None:
    """Draw a round point on the baseline left of ``box``, slid right until it meets the ink."""
    from tests.helpers.fields import INK

    cy = base - radius
    cx = glyphs.slide_until_touching(image < 128, box[0] - radius - 2, cy, radius, 1)
    if cx is None:
        raise ValueError(f"no ink to press a point against right of x = {box[0]}")
    cv2.circle(image, (cx, cy), radius, INK, -1)


def page_counts(clf: object, n: int, radius: int) -> tuple[int, int]:
    """(read ``20900.00``, accepted so) over ``n`` drawn ``209.00`` with the point pressed."""
    from hdr.config import load_pipeline_config
    from hdr.datasets.mnist import load_mnist
    from hdr.recognize import recognize_fields
    from hdr.types import FieldCrop, Status
    from tests.helpers.fields import digit_pool, draw_field

    images, labels = load_mnist("test")
    pool = digit_pool(images, labels, per_digit=300)
    crops = []
    for seed in range(n):
        drawn = draw_field("20900", pool, rng=np.random.default_rng(seed), gap=12)
        image = drawn.image.copy()
        press_point(image, drawn.boxes[3], 20 + HEIGHT, radius)
        h, w = image.shape
        crops.append(FieldCrop("amount", image, (0, 0, w, h), "given", ()))
    results = recognize_fields(crops, clf, load_pipeline_config())
    lost = [r for r in results if r.value == "20900.00"]
    return len(lost), sum(r.status is Status.ACCEPTED for r in lost)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help="ONNX glyph models")
    parser.add_argument("--glyphs", type=int, default=600, help="held-out pressed points")
    parser.add_argument("--fields", type=int, default=20, help="drawn fields per dot size")
    args = parser.parse_args()
    print(
        "| model | pressed points read as reject | read as a digit over 0.99 | plain digits right "
        "| page: `20900.00` read / accepted (3-px point) | (4-px point) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for path in args.models:
        clf = load_classifier(path, sha256_file(path), "onnx")
        g = glyph_rates(clf, args.glyphs)
        pages = [page_counts(clf, args.fields, r) for r in (3, 4)]
        cells = " | ".join(f"{read} / {acc} of {args.fields}" for read, acc in pages)
        print(
            f"| {path} ({sha256_file(path)[:12]}) | {g['reject']:.1%} | {g['sure_digit']:.1%} "
            f"| {g['plain_right']:.1%} | {cells} |"
        )


if __name__ == "__main__":
    main()
