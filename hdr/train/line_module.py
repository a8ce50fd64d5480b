"""Training the line reader: its LightningDataModule and LightningModule (CTC loss).

Data: the field lines of :mod:`hdr.datasets.lines`, the last ``valid_share`` of them (whole
documents, in generation order) held out for validation. Training lines are augmented on the
fly (width, height, slant, position, stroke, specks), sample ``i`` of epoch ``e`` from
``default_rng([seed, e, i])`` as for the glyph classifier, so a run is reproducible.

>>> from hdr.train.line_module import LineReaderModule
>>> LineReaderModule(lr=1e-3).hparams.lr
0.001
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import lightning as L
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from hdr.classify.line_net import LineNet
from hdr.classify.lines import BLANK, HEIGHT, WIDTH
from hdr.datasets.lines import load_lines
from hdr.train.datamodule import EpochSampler
from hdr.train.module import adamw_one_cycle

log = logging.getLogger("hdr.train")


def augment_line(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uint8 line image stretched, slanted, moved, its strokes thickened or thinned."""
    img = image
    if rng.random() < 0.8:
        sx, sy = rng.uniform(0.85, 1.15), rng.uniform(0.9, 1.1)
        shear = rng.uniform(-0.15, 0.15)
        tx, ty = rng.uniform(0, 8), rng.uniform(-2, 2)
        cy = HEIGHT / 2
        m = np.array([[sx, shear, tx - shear * cy], [0.0, sy, ty + cy * (1 - sy)]], np.float32)
        img = cv2.warpAffine(img, m, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
    r = rng.random()
    if r < 0.15:
        img = cv2.dilate(img, np.ones((2, 2), np.uint8))
    elif r < 0.3:
        img = cv2.erode(img, np.ones((2, 1), np.uint8))
    if rng.random() < 0.2:
        img = img.copy()
        for _ in range(int(rng.integers(1, 6))):
            y, x = int(rng.integers(0, HEIGHT - 1)), int(rng.integers(0, WIDTH - 1))
            img[y : y + 2, x : x + 2] = 255
    return img


class LineSet(Dataset[tuple[torch.Tensor, torch.Tensor, int, int]]):
    def __init__(
        self, data: dict[str, np.ndarray], rows: np.ndarray, seed: int, augment: bool
    ) -> None:
        self.data, self.rows, self.seed, self.augment = data, rows, seed, augment

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int, int]:
        epoch, i = divmod(index, len(self.rows))
        row = int(self.rows[i])
        img = self.data["images"][row]
        if self.augment:
            img = augment_line(img, np.random.default_rng([self.seed, epoch, i]))
        x = torch.from_numpy(img.astype(np.float32) / 255.0)
        return (
            x,
            torch.from_numpy(self.data["targets"][row]),
            int(self.data["lengths"][row]),
            int(self.data["fields"][row]),
        )


class LineDataModule(L.LightningDataModule):
    def __init__(
        self,
        path: Path,
        batch_size: int = 64,
        valid_share: float = 0.1,
        seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        self.path, self.batch_size, self.valid_share = path, batch_size, valid_share
        self.seed, self.num_workers = seed, num_workers
        self.data: dict[str, np.ndarray] = {}

    def setup(self, stage: str | None = None) -> None:
        if not self.data:
            self.data = load_lines(self.path)
        n = len(self.data["images"])
        cut = n - max(1, round(n * self.valid_share))
        self.train_rows, self.valid_rows = np.arange(cut), np.arange(cut, n)

    def train_dataloader(self) -> DataLoader[Any]:
        sampler = EpochSampler(len(self.train_rows), self.seed)
        return DataLoader(
            LineSet(self.data, self.train_rows, self.seed, True),
            batch_size=self.batch_size,
            sampler=sampler,
            num_workers=self.num_workers,
            drop_last=True,
        )

    def val_dataloader(self) -> DataLoader[Any]:
        return DataLoader(
            LineSet(self.data, self.valid_rows, self.seed, False),
            batch_size=256,
            num_workers=0,
        )


def greedy_decode(logprobs: torch.Tensor) -> list[list[int]]:
    """Best-path class sequences (blanks and repeats removed) of N x T x C log-probabilities."""
    out = []
    for seq in logprobs.argmax(-1).tolist():
        codes, prev = [], BLANK
        for k in seq:
            if k != BLANK and k != prev:
                codes.append(k)
            prev = k
        out.append(codes)
    return out


class LineReaderModule(L.LightningModule):
    """CTC training with AdamW and a one-cycle learning-rate schedule."""

    def __init__(
        self,
        widths: Sequence[int] = (16, 32, 64, 96),
        hidden: int = 128,
        dropout: float = 0.1,
        lr: float = 2e-3,
        weight_decay: float = 1e-4,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        w = tuple(widths)
        self.net = LineNet((w[0], w[1], w[2], w[3]), hidden, dropout)
        self.ctc = nn.CTCLoss(blank=BLANK, zero_infinity=True)
        self._val: list[tuple[int, int]] = []  # (field, exact)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _loss(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        x, targets, lengths, _ = batch
        logp = self(x)
        frames = torch.full((len(x),), logp.shape[1], dtype=torch.long)
        loss = self.ctc(logp.transpose(0, 1), targets, frames, lengths)
        return loss, logp

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss, _ = self._loss(batch)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        loss, logp = self._loss(batch)
        self.log("val_loss", loss)
        _, targets, lengths, fields = batch
        for codes, t, n, f in zip(greedy_decode(logp), targets, lengths, fields, strict=True):
            self._val.append((int(f), int(codes == t[: int(n)].tolist())))

    def on_validation_epoch_end(self) -> None:
        if not self._val:
            return
        arr = np.array(self._val)
        self._val.clear()
        metrics = {"exact": float(arr[:, 1].mean())}
        for k, name in enumerate(("amount", "account")):
            if (arr[:, 0] == k).any():
                metrics[f"exact_{name}"] = float(arr[arr[:, 0] == k, 1].mean())
        for name, value in metrics.items():
            self.log(f"val_{name}", value, prog_bar=name == "exact")
        if not self.trainer.sanity_checking:
            shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
            log.info("epoch %d validation: %s", self.current_epoch, shown)

    def configure_optimizers(self) -> Any:
        return adamw_one_cycle(self, pct_start=0.15)
