"""Evaluating a glyph classifier: MNIST test accuracy and calibration, held-out rendered glyphs.

>>> from hdr.train.evaluate import evaluate_classifier
>>> # report = evaluate_classifier(load_classifier(), DataConfig())
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from hdr.classify.labels import DIGITS, LABELS
from hdr.classify.predictor import GlyphClassifier
from hdr.datasets.symbols import rendered_dataset
from hdr.train.calibrate import expected_calibration_error
from hdr.train.data_config import EVAL_RENDER_SEED, DataConfig, mnist_float


def digits_per_second(
    clf: GlyphClassifier, glyphs: np.ndarray, seconds: float = 2.0
) -> tuple[float, float]:
    """Batched ``predict_proba`` throughput over ``glyphs``: (best wall-clock pass, per CPU-second).

    The second figure divides by the process's CPU time (all inference threads together), so
    it does not depend on what else runs on the machine; times the core count, it is what
    otherwise idle cores would do.
    """
    clf.predict_proba(glyphs[:256])  # warm-up
    best, done = 0.0, 0
    cpu0, deadline = time.process_time(), time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        clf.predict_proba(glyphs)
        best = max(best, len(glyphs) / (time.perf_counter() - t0))
        done += len(glyphs)
    return best, done / max(time.process_time() - cpu0, 1e-9)


def evaluate_classifier(
    clf: GlyphClassifier, cfg: DataConfig, speed_seconds: float = 2.0
) -> dict[str, Any]:
    """The report of `hdr eval digits`: MNIST test split, then held-out rendered glyphs."""
    tx, ty = mnist_float("test", cfg.data_dir)
    probs = clf.predict_proba(tx)
    pred = probs.argmax(1)
    errors = int((pred != ty).sum())
    rx, ry = rendered_dataset(cfg.test_render, EVAL_RENDER_SEED)
    rpred = clf.predict_proba(rx).argmax(1)
    per_class = {LABELS[c]: round(float((rpred[ry == c] == c).mean()), 4) for c in np.unique(ry)}
    nondigit = ry >= len(DIGITS)
    wall_speed, cpu_speed = digits_per_second(clf, tx, speed_seconds)
    return {
        "mnist_test_accuracy": round(1 - errors / len(ty), 6),
        "mnist_test_errors": errors,
        "mnist_test_n": len(ty),
        "ece": expected_calibration_error(probs, ty),
        "rendered_test_n": len(ry),
        "rendered_per_class_accuracy": per_class,
        "nondigit_as_digit_rate": round(float((rpred[nondigit] < len(DIGITS)).mean()), 6),
        "nondigit_as_digit_by_class": {
            LABELS[c]: round(float((rpred[ry == c] < len(DIGITS)).mean()), 4)
            for c in np.unique(ry[nondigit])
        },
        "digits_per_second": round(wall_speed, 1),
        "digits_per_cpu_second": round(cpu_speed, 1),
        "model_sha256": clf.sha256,
        "backend": clf.backend,
    }
