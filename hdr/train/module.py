"""The LightningModule: training logic for :class:`hdr.classify.net.GlyphNet`.

>>> from hdr.train.module import GlyphClassifierModule
>>> module = GlyphClassifierModule(lr=2e-3)
>>> module.hparams.lr
0.002
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import lightning as L
import torch
from torch import nn

from hdr.classify.labels import DIGITS
from hdr.classify.net import GlyphNet

log = logging.getLogger("hdr.train")


def summarize(
    logits: torch.Tensor, labels: torch.Tensor, is_mnist: torch.Tensor
) -> dict[str, float]:
    """MNIST accuracy, rendered-glyph accuracy, share of rendered non-digits called a digit."""
    pred = logits.argmax(dim=1)
    correct = (pred == labels).float()
    out = {"acc_mnist": float(correct[is_mnist].mean()) if is_mnist.any() else float("nan")}
    rendered = ~is_mnist
    if rendered.any():
        out["acc_rendered"] = float(correct[rendered].mean())
        nondigit = rendered & (labels >= len(DIGITS))
        if nondigit.any():
            out["nondigit_as_digit"] = float((pred[nondigit] < len(DIGITS)).float().mean())
    return out


def adamw_one_cycle(module: L.LightningModule, pct_start: float) -> dict[str, Any]:
    """AdamW at ``hparams.lr`` / ``hparams.weight_decay`` with a one-cycle schedule stepped every
    batch: what both training modules return from ``configure_optimizers``."""
    hp = module.hparams
    opt = torch.optim.AdamW(module.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])
    total = int(module.trainer.estimated_stepping_batches)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=hp["lr"], total_steps=max(total, 1), pct_start=pct_start
    )
    return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class GlyphClassifierModule(L.LightningModule):
    """Cross-entropy training with AdamW and a one-cycle learning-rate schedule."""

    def __init__(
        self,
        widths: Sequence[int] = (16, 32, 64),
        convs_per_block: Sequence[int] = (1, 2, 2),
        hidden: int = 128,
        dropout: float = 0.25,
        lr: float = 3e-3,
        weight_decay: float = 5e-4,
        label_smoothing: float = 0.05,
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = GlyphNet(tuple(widths), tuple(convs_per_block), hidden, dropout)
        if channels_last:  # about 1.5x faster convolutions on CPU
            self.net = self.net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.loss = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        self._val_outputs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.hparams["channels_last"]:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.net(x)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch[0], batch[1]
        logits = self(x)
        loss = self.loss(logits, y)
        acc = (logits.argmax(1) == y).float().mean()
        self.log("train_loss", loss, prog_bar=True)
        self.log("train_acc", acc, prog_bar=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y, is_mnist = batch
        logits = self(x)
        self.log("val_loss", nn.functional.cross_entropy(logits, y), prog_bar=False)
        self._val_outputs.append((logits.detach(), y, is_mnist))

    def on_validation_epoch_end(self) -> None:
        if not self._val_outputs:
            return
        logits, y, is_mnist = (torch.cat(t) for t in zip(*self._val_outputs, strict=True))
        self._val_outputs.clear()
        metrics = summarize(logits, y, is_mnist)
        for name, value in metrics.items():
            self.log(f"val_{name}", value, prog_bar=name == "acc_mnist")
        if not self.trainer.sanity_checking:
            shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
            log.info("epoch %d validation: %s", self.current_epoch, shown)

    def test_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch[0], batch[1]
        self.log("test_acc_mnist", (self(x).argmax(1) == y).float().mean())

    def configure_optimizers(self) -> Any:
        return adamw_one_cycle(self, pct_start=0.2)
