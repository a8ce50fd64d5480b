"""The glyph classifier network: a small BatchNorm CNN, framework-neutral of any training code.

Three blocks of 3x3 convolutions (BatchNorm, ReLU) with 2x2 max-pooling (28 -> 14 -> 7 -> 3),
then a small fully connected head. Widths are arguments so that the training config can trade
accuracy for speed; the shipped widths keep batched CPU inference well above 10,000 glyphs/s.
Input: N x 1 x 28 x 28 float32 glyphs from :func:`hdr.classify.normalize.normalize_glyph`
(ink 1.0 on 0.0); the MNIST mean/std standardisation happens inside, so callers pass raw glyphs.

>>> import torch
>>> from hdr.classify.net import GlyphNet
>>> GlyphNet()(torch.zeros(2, 1, 28, 28)).shape
torch.Size([2, 20])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from hdr.classify.labels import NUM_CLASSES

# Pixel statistics of MNIST train glyphs; folded into the network so every backend agrees.
INPUT_MEAN = 0.1307
INPUT_STD = 0.3081


def _conv_bn_relu(c_in: int, c_out: int) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    ]


class GlyphNet(nn.Module):
    """Logits over :data:`hdr.classify.labels.LABELS` for a batch of 28 x 28 glyphs."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        widths: Sequence[int] = (16, 32, 64),
        convs_per_block: Sequence[int] = (1, 2, 2),
        hidden: int = 128,
        dropout: float = 0.25,
        num_classes: int = NUM_CLASSES,
    ) -> None:
        super().__init__()
        if len(widths) != 3 or len(convs_per_block) != 3:
            raise ValueError("GlyphNet has three blocks: give three widths and three conv counts")
        layers: list[nn.Module] = []
        c_in = 1
        for width, n_convs in zip(widths, convs_per_block, strict=True):
            for _ in range(n_convs):
                layers += _conv_bn_relu(c_in, width)
                c_in = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(c_in * 3 * 3, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )
        self.register_buffer("mean", torch.tensor(INPUT_MEAN), persistent=False)
        self.register_buffer("std", torch.tensor(INPUT_STD), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features((x - self.mean) / self.std))


class CalibratedNet(nn.Module):
    """Wraps a trained net: glyphs (N x 28 x 28 or N x 1 x 28 x 28) -> calibrated probabilities.

    This is what the ONNX file holds, so the temperature travels inside the model.
    """

    def __init__(self, net: nn.Module, temperature: float) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("temperature", torch.tensor(float(temperature)))

    def forward(self, glyphs: torch.Tensor) -> torch.Tensor:
        x = glyphs.reshape(-1, 1, 28, 28)
        return torch.softmax(self.net(x) / self.temperature, dim=1)


class EnsembleNet(nn.Module):
    """Several calibrated nets read as one: glyphs -> recalibrated mean of their probabilities.

    Each member is a :class:`CalibratedNet`. The members' probabilities are averaged, and the
    mean is sharpened or softened by one more temperature fitted on the validation split
    (``softmax(log(mean) / temperature)``), since a mean of calibrated models is rarely
    calibrated itself. Two nets trained apart seldom make the same confident mistake, so a
    glyph that only one of them reads as a ``7`` gets a lower probability than either gives it.

    >>> import torch
    >>> members = [CalibratedNet(GlyphNet(), 1.0) for _ in range(2)]
    >>> EnsembleNet(members, 1.0)(torch.zeros(3, 28, 28)).shape
    torch.Size([3, 20])
    """

    temperature: torch.Tensor

    def __init__(self, members: Sequence[CalibratedNet], temperature: float) -> None:
        super().__init__()
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two member nets")
        self.members = nn.ModuleList(members)
        self.register_buffer("temperature", torch.tensor(float(temperature)))

    def mean_probs(self, glyphs: torch.Tensor) -> torch.Tensor:
        """The members' probabilities averaged, before the ensemble's own temperature."""
        return torch.stack([m(glyphs) for m in self.members]).mean(dim=0)

    def forward(self, glyphs: torch.Tensor) -> torch.Tensor:
        log_mean = torch.log(self.mean_probs(glyphs).clamp_min(1e-12))
        return torch.softmax(log_mean / self.temperature, dim=1)


def ensemble_from_state(archs: Sequence[dict], state: dict) -> EnsembleNet:
    """The :class:`EnsembleNet` that ``state`` (its state_dict: every member's weights and
    temperature, and its own temperature) holds, for members of the architectures ``archs``
    (a card's ``architecture["members"]``)."""
    nets = [CalibratedNet(GlyphNet(**arch), 1.0) for arch in archs]
    model = EnsembleNet(nets, 1.0)
    model.load_state_dict(state)
    return model
