"""The line reader's network: convolutions over the line, then 1-D convolutions along it, for CTC.

No recurrent layer: a bidirectional LSTM over the 96 frames made a training step twice as slow
on 2 CPU cores, and a digit needs only the context of its neighbours, which the dilated 1-D
convolutions give (each frame sees about 60 image columns, three digits).

Input: N x HEIGHT x WIDTH float32 line images (:func:`hdr.classify.lines.line_image`). Output:
N x (WIDTH / STRIDE) x CLASSES log-probabilities, one frame per four image columns, class 0 the
CTC blank.

>>> import torch
>>> LineNet()(torch.zeros(2, 32, 384)).shape
torch.Size([2, 96, 21])
"""

from __future__ import annotations

import torch
from torch import nn

from hdr.classify.lines import CLASSES, HEIGHT


def _conv(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


class LineNet(nn.Module):
    def __init__(
        self,
        widths: tuple[int, int, int, int] = (16, 32, 64, 96),
        hidden: int = 128,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        a, b, c, d = widths
        self.features = nn.Sequential(
            *_conv(1, a),
            nn.MaxPool2d(2),  # 16 x 192
            *_conv(a, b),
            nn.MaxPool2d(2),  # 8 x 96
            *_conv(b, c),
            *_conv(c, c),
            nn.MaxPool2d((2, 1)),  # 4 x 96
            *_conv(c, d),
            nn.MaxPool2d((HEIGHT // 8, 1)),  # 1 x 96
        )
        self.head = nn.Sequential(
            nn.Conv1d(d, hidden, 3, padding=1),
            nn.ReLU(),
            nn.Conv1d(hidden, hidden, 3, padding=2, dilation=2),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Conv1d(hidden, CLASSES, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x.unsqueeze(1)).squeeze(2)  # N x d x T
        return torch.log_softmax(self.head(f).transpose(1, 2), dim=-1)
