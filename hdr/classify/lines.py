"""The field as one line of ink, for the line reader: a second reader that makes no cuts.

The glyph reader (:mod:`hdr.recognize`) cuts a field into glyphs and reads each; where it cuts
wrong (a decimal point joined to a digit, two digits touching across a cell line) every glyph
can be sure and the value still wrong. The line reader (:class:`hdr.classify.line_net.LineNet`,
trained with CTC by ``hdr train lines``) reads the whole field at once, so its mistakes are
mostly other ones; a field is accepted only when both read the same value (see
:mod:`hdr.recognize`).

Both training and reading see a field only through :func:`line_image`: the ink left after box
and cell lines are removed (:class:`hdr.segment.Segmentation`), cut to the writing with a margin,
scaled so that a digit is :data:`DIGIT_PX` pixels tall, left-aligned on a ``HEIGHT`` x ``WIDTH``
frame (white ink on black, as the glyph classifier's input).

>>> import numpy as np
>>> from hdr.segment import segment_field
>>> gray = np.full((60, 200), 255, np.uint8); gray[15:45, 20:26] = 0; gray[15:45, 60:66] = 0
>>> line_image(segment_field(gray)).shape
(32, 384)
>>> decode_best_path(np.log(np.eye(CLASSES)[[0, 2, 2, 0, 3]] * 0.98 + 0.001))[0]
['1', '2']
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from hdr.classify.labels import LABELS, REJECT

if TYPE_CHECKING:
    from hdr.segment import Segmentation

HEIGHT = 32
WIDTH = 384
DIGIT_PX = 20  # a digit's height in the line image (as in the 28 x 28 glyph frame)
MARGIN = 0.3  # of a digit height, around the writing (a decimal point sits below the baseline)
STRIDE = 4  # image columns per output frame of the network
BLANK = 0  # CTC blank; label k is class k + 1
CLASSES = len(LABELS) + 1


def encode(chars: Sequence[str]) -> list[int]:
    """CTC targets of written characters; letters and anything unknown are ``reject``."""
    return [(LABELS.index(c) if c in LABELS else LABELS.index(REJECT)) + 1 for c in chars]


def line_image(seg: Segmentation) -> np.ndarray | None:
    """HEIGHT x WIDTH float32 image of a segmented field's writing, or None when it has none."""
    if not seg.segments:
        return None
    boxes = np.array([s.piece.box for s in seg.segments], np.float64)
    m = seg.metrics
    dh = (
        float(m.digit_height) if m.digit_height > 1 else float(np.median(boxes[:, 3] - boxes[:, 1]))
    )
    dh = max(dh, 4.0)
    top = float(m.top) if m.base > m.top else float(boxes[:, 1].min())
    pad = MARGIN * dh
    ink = seg.ink
    h, w = ink.shape[:2]
    x0 = max(0, int(boxes[:, 0].min() - pad))
    x1 = min(w, int(np.ceil(boxes[:, 2].max() + pad)))
    y0 = max(0, int(top - pad))
    y1 = min(h, int(np.ceil(top + dh + pad)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    region = ink[y0:y1, x0:x1]
    scale = DIGIT_PX / dh
    # the band is (1 + 2 MARGIN) digit heights: scaled, it fills the frame's height
    band_h = max(1, round((y1 - y0) * scale))
    band_w = max(1, round((x1 - x0) * scale))
    band_w = min(band_w, WIDTH)  # a very long field is squeezed, never cut
    small = cv2.resize(region, (band_w, band_h), interpolation=cv2.INTER_AREA)
    frame = np.zeros((HEIGHT, WIDTH), np.float32)
    # the band's top is MARGIN above the digits' top: centre it in the frame
    off = (HEIGHT - band_h) // 2
    src0, dst0 = max(0, -off), max(0, off)
    rows = min(band_h - src0, HEIGHT - dst0)
    frame[dst0 : dst0 + rows, :band_w] = small[src0 : src0 + rows].astype(np.float32) / 255.0
    return frame


def decode_best_path(logprobs: np.ndarray) -> tuple[list[str], float]:
    """Labels of the most likely frame-by-frame path (repeats merged, blanks dropped) and the
    path's probability (the product of every frame's highest probability)."""
    best = logprobs.argmax(axis=1)
    prob = float(np.exp(logprobs.max(axis=1).sum()))
    labels: list[str] = []
    prev = BLANK
    for k in best:
        if k != BLANK and k != prev:
            labels.append(LABELS[int(k) - 1])
        prev = int(k)
    return labels, prob


class LineReader:
    """Best-path readings of batches of line images, from the pinned ONNX line model."""

    def __init__(self, path: Path, sha256: str, runner: Callable[[np.ndarray], np.ndarray]) -> None:
        self.path, self.sha256, self._run = path, sha256, runner

    def logprobs(self, images: np.ndarray) -> np.ndarray:
        """``images``: N x HEIGHT x WIDTH float32. Returns N x frames x CLASSES log-probs."""
        x = np.ascontiguousarray(images, dtype=np.float32)
        if x.ndim != 3 or x.shape[1:] != (HEIGHT, WIDTH):
            raise ValueError(f"line images must be N x {HEIGHT} x {WIDTH}, got {x.shape}")
        if len(x) == 0:
            return np.zeros((0, WIDTH // STRIDE, CLASSES), np.float32)
        return np.concatenate([self._run(x[i : i + BATCH]) for i in range(0, len(x), BATCH)])

    def read(self, images: np.ndarray) -> list[tuple[list[str], float]]:
        """(labels, path probability) per line image."""
        return [decode_best_path(lp) for lp in self.logprobs(images)]

    def __repr__(self) -> str:
        return f"LineReader({self.path.name}, sha256={self.sha256[:12]})"


BATCH = 64  # lines per ONNX Runtime call


@lru_cache(maxsize=4)
def _load(path: Path, sha256: str | None) -> LineReader:
    from hdr.classify.predictor import onnx_runner, verify_file

    digest = verify_file(path, sha256, "line model")
    return LineReader(path, digest, onnx_runner(path))


def load_line_reader(path: Path | str, sha256: str | None = None) -> LineReader:
    """Load the line model once per process, checked against its sha256 pin."""
    with _LOAD_LOCK:
        return _load(Path(path).resolve(), sha256)


_LOAD_LOCK = threading.Lock()


def ctc_log_likelihood(logprobs: np.ndarray, labels: Sequence[str]) -> float:
    """log P(labels | line) under the CTC model: the sum over every frame path that reads
    ``labels`` (the forward algorithm). -inf when the line has too few frames for them."""
    codes = encode(labels)
    states = [BLANK]
    for c in codes:
        states += [c, BLANK]
    s = np.array(states)
    n = len(s)
    # a state may be skipped from two back when it is a label unlike the label two back
    skip = np.zeros(n, bool)
    skip[2:] = (s[2:] != BLANK) & (s[2:] != s[:-2])
    alpha = np.full(n, -np.inf)
    alpha[0] = logprobs[0, BLANK]
    if n > 1:
        alpha[1] = logprobs[0, s[1]]
    for t in range(1, len(logprobs)):
        prev = alpha
        step = np.full(n, -np.inf)
        step[1:] = prev[:-1]
        jump = np.full(n, -np.inf)
        jump[2:] = np.where(skip[2:], prev[:-2], -np.inf)
        alpha = np.logaddexp(np.logaddexp(prev, step), jump) + logprobs[t, s]
    return float(np.logaddexp(alpha[-1], alpha[-2]) if n > 1 else alpha[-1])
