"""The LightningDataModule: MNIST plus rendered glyphs, augmented on the fly, deterministic by seed.

Splits: train = MNIST train (50k) + a rendered split (fresh samples every epoch); validation =
MNIST valid (10k) + a held-out rendered split (its own seed); test = MNIST test (10k) only, for
the digit accuracy that is reported. Sample ``i`` of epoch ``e`` is drawn from
``default_rng([seed, e, i])``, so a run is reproducible whatever the worker count.

>>> from hdr.train.datamodule import GlyphDataModule, DataConfig
>>> dm = GlyphDataModule(DataConfig(batch_size=64))   # dm.setup("fit") needs MNIST prepared
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler, TensorDataset

from hdr.classify.labels import LABELS
from hdr.classify.normalize import normalize_glyph
from hdr.datasets.augment import AugmentConfig, add_noise, augment_ink
from hdr.datasets.document import document_glyph
from hdr.datasets.harvest import harvest_digest, harvest_path, load_harvest
from hdr.datasets.mnist import load_mnist, mnist_data_hash
from hdr.datasets.symbols import make_glyph, rendered_dataset, spec_hash
from hdr.train.data_config import (
    EVAL_RENDER_SEED,
    TEST_SEED_OFFSET,
    VALID_SEED_OFFSET,
    DataConfig,
    mnist_float,
)

__all__ = [
    "TEST_SEED_OFFSET",
    "VALID_SEED_OFFSET",
    "DataConfig",
    "EpochSampler",
    "GlyphDataModule",
    "TrainGlyphs",
    "augment_mnist",
    "mnist_float",
]


def augment_mnist(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """An MNIST digit through the augmentation chain, at 2x resolution, then renormalised."""
    big = cv2.resize(image, (56, 56), interpolation=cv2.INTER_LINEAR)
    return normalize_glyph(augment_ink(big, rng, cfg))


class EpochSampler(Sampler[int]):
    """Shuffles by ``(seed, epoch)`` and encodes the epoch into each index (``epoch * n + i``).

    Lightning calls ``set_epoch`` before every epoch, so dataset workers know which fresh
    rendered sample to draw without any shared state.
    """

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(self.n)
        base = self.epoch * self.n
        return iter((base + order).tolist())


def shift_glyph(glyph: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 28 x 28 glyph moved by up to one pixel each way (its ink stays inside the frame)."""
    dy, dx = (int(v) for v in rng.integers(-1, 2, size=2))
    return np.roll(glyph, (dy, dx), axis=(0, 1))


class TrainGlyphs(Dataset[tuple[torch.Tensor, int]]):
    """MNIST train images (augmented at random), freshly rendered samples, harvested glyphs."""

    def __init__(
        self,
        mnist_x: np.ndarray,
        mnist_y: np.ndarray,
        cfg: DataConfig,
        harvested: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.mnist_x, self.mnist_y, self.cfg = mnist_x, mnist_y, cfg
        self.plan = cfg.train_render.class_plan()
        self.n_mnist = len(mnist_y)
        empty = (np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64))
        self.harvest_x: np.ndarray
        self.harvest_y: np.ndarray
        self.harvest_x, self.harvest_y = harvested if harvested is not None else empty
        self.n_rendered = len(self.plan)

    def __len__(self) -> int:
        return self.n_mnist + self.n_rendered + len(self.harvest_y)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        epoch, i = divmod(int(index), len(self))
        rng = np.random.default_rng([self.cfg.seed, epoch, i])
        if i < self.n_mnist:
            label = int(self.mnist_y[i])
            if self.cfg.p_document and rng.random() < self.cfg.p_document:
                glyph = document_glyph(self.mnist_x[i], rng)
            elif rng.random() < self.cfg.p_mnist_augment:
                glyph = augment_mnist(self.mnist_x[i], rng, self.cfg.mnist_augment)
            else:
                glyph = self.mnist_x[i].astype(np.float32) / 255.0
            if rng.random() < self.cfg.p_noise:
                glyph = add_noise(glyph, rng)
        elif i < self.n_mnist + self.n_rendered:
            k = i - self.n_mnist
            spec = self.cfg.train_render
            glyph = make_glyph(LABELS[int(self.plan[k])], rng, spec, spec.drawn(k))
            label = int(self.plan[k])
        else:
            k = i - self.n_mnist - self.n_rendered
            label = int(self.harvest_y[k])
            glyph = self.harvest_x[k].astype(np.float32) / 255.0
            if rng.random() < self.cfg.p_harvest_shift:
                glyph = shift_glyph(glyph, rng)
            if rng.random() < self.cfg.p_noise:
                glyph = add_noise(glyph, rng)
        return torch.from_numpy(np.ascontiguousarray(glyph)).unsqueeze(0), label


def _tensors(x: np.ndarray, y: np.ndarray, n_mnist: int) -> TensorDataset:
    """Images, labels, and whether each sample is from MNIST (the first ``n_mnist``)."""
    images = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).unsqueeze(1)
    is_mnist = torch.arange(len(y)) < n_mnist
    return TensorDataset(images, torch.from_numpy(np.asarray(y, dtype=np.int64)), is_mnist)


class GlyphDataModule(L.LightningDataModule):
    """MNIST + rendered glyphs; see the module docstring for the splits."""

    def __init__(self, cfg: DataConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.train_set: TrainGlyphs | None = None
        self.valid_set: TensorDataset | None = None
        self.test_set: TensorDataset | None = None

    def data_hashes(self) -> dict[str, str]:
        c = self.cfg
        hashes = {
            "mnist_pickle_sha256": mnist_data_hash(c.data_dir),
            "rendered_train": spec_hash(c.train_render, c.seed),
            "rendered_valid": spec_hash(c.valid_render, c.seed + VALID_SEED_OFFSET),
            "rendered_test": spec_hash(c.test_render, EVAL_RENDER_SEED),
        }
        if c.harvest is not None:  # the glyphs setup() loaded, or the file when not set up
            ds = self.train_set
            glyphs = (
                (ds.harvest_x, ds.harvest_y)
                if ds is not None
                else load_harvest(harvest_path(c.harvest, c.data_dir))
            )
            hashes["harvest_sha256"] = harvest_digest(*glyphs)
        return hashes

    def setup(self, stage: str | None = None) -> None:
        c = self.cfg
        if stage in (None, "fit", "validate") and self.valid_set is None:
            mx, my = load_mnist("train", c.data_dir)
            if c.mnist_train_limit is not None:
                mx, my = mx[: c.mnist_train_limit], my[: c.mnist_train_limit]
            harvested = load_harvest(harvest_path(c.harvest, c.data_dir)) if c.harvest else None
            self.train_set = TrainGlyphs(mx, my, c, harvested)
            vx, vy = mnist_float("valid", c.data_dir)
            rx, ry = rendered_dataset(c.valid_render, c.seed + VALID_SEED_OFFSET)
            self.valid_set = _tensors(np.concatenate([vx, rx]), np.concatenate([vy, ry]), len(vy))
        if stage in (None, "test") and self.test_set is None:
            tx, ty = mnist_float("test", c.data_dir)
            self.test_set = _tensors(tx, ty, len(ty))

    def train_dataloader(self) -> DataLoader:
        assert self.train_set is not None, "call setup('fit') first"
        return DataLoader(
            self.train_set,
            batch_size=self.cfg.batch_size,
            sampler=EpochSampler(len(self.train_set), self.cfg.seed),
            num_workers=self.cfg.num_workers,
            drop_last=True,
        )

    def val_dataloader(self) -> DataLoader:
        assert self.valid_set is not None, "call setup('fit') first"
        return DataLoader(self.valid_set, batch_size=512)

    def test_dataloader(self) -> DataLoader:
        assert self.test_set is not None, "call setup('test') first"
        return DataLoader(self.test_set, batch_size=512)
