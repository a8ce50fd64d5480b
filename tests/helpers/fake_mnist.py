"""A tiny stand-in for the prepared MNIST cache, so training and CLI tests run without it.

The images are real strokes (digits drawn with a font), not noise, so a trained model's
predictions still mean something; ``source_sha256`` carries the real pin so `load_mnist`
accepts the file exactly as it accepts the one `hdr data fetch` writes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hdr.classify.normalize import normalize_glyph
from hdr.datasets.fonts import handwriting_fonts, render_text
from hdr.datasets.mnist import CACHE_NAME, PICKLE_SHA256


def fake_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    fonts = handwriting_fonts()
    labels = np.arange(n, dtype=np.int64) % 10
    images = np.stack(
        [
            normalize_glyph(render_text(str(d), fonts[int(rng.integers(len(fonts)))], 40))
            for d in labels
        ]
    )
    return (images * 255).astype(np.uint8), labels


def write_fake_mnist(data_dir: Path, n_train: int = 200, n_eval: int = 60) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for i, (split, n) in enumerate((("train", n_train), ("valid", n_eval), ("test", n_eval))):
        arrays[f"{split}_x"], arrays[f"{split}_y"] = fake_split(n, seed=i)
    path = data_dir / CACHE_NAME
    np.savez_compressed(path, source_sha256=np.array(PICKLE_SHA256), **arrays)
    return path


TINY_TRAIN_CONFIG = """\
seed: 7
threads: 1
trainer: {max_epochs: 1}
model: {widths: [8, 16, 16], convs_per_block: [1, 1, 1], hidden: 32}
data:
  batch_size: 32
  num_workers: 0
  train_render: {digits_per_class: 2, symbols_per_class: 4, rejects: 12}
  valid_render: {digits_per_class: 1, symbols_per_class: 2, rejects: 6}
  test_render: {digits_per_class: 1, symbols_per_class: 3, rejects: 9}
"""
