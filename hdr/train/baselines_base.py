"""The baselines' common interface and the image helpers they share (NCC, HOG, softmax).

>>> import numpy as np
>>> from hdr.train.baselines_base import normalized_cross_correlation
>>> a = np.random.default_rng(0).random((2, 28, 28), dtype=np.float32)
>>> float(normalized_cross_correlation(a, a)[0, 0])  # doctest: +ELLIPSIS
1.0...
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np
from skimage.feature import hog

from hdr.errors import ReasonCode, UsageError

N_DIGITS = 10
SIDE = 28
CHUNK = 1024  # rows per block when a method builds an N x N_train matrix (1024 x 50k = 200 MB)


@dataclass(frozen=True)
class Selection:
    """What ``fit_tuned`` chose on the validation split, and every setting it tried."""

    params: dict[str, Any]
    valid_accuracy: float
    tried: tuple[tuple[dict[str, Any], float], ...] = field(default=())

    def describe(self) -> str:
        """``k=3, weights=distance`` style text for tables."""
        return ", ".join(f"{k}={_fmt(v)}" for k, v in self.params.items())


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def as_glyphs(images: np.ndarray) -> np.ndarray:
    """Validate an N x 28 x 28 batch and return it as float32 in [0, 1].

    uint8 images are divided by 255; float input is clipped to [0, 1].
    """
    arr = np.asarray(images)
    if arr.ndim != 3 or arr.shape[1:] != (SIDE, SIDE):
        raise UsageError(
            ReasonCode.USAGE,
            f"expected a batch of 28 x 28 glyphs (N x 28 x 28), got shape {arr.shape}",
            "normalise crops with hdr.classify.normalize.normalize_batch first",
        )
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    return np.clip(arr.astype(np.float32), 0.0, 1.0)


def check_labels(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    y = np.asarray(labels).astype(np.int64)
    if y.shape != (len(images),):
        raise UsageError(ReasonCode.USAGE, f"{len(images)} images but labels of shape {y.shape}")
    if len(y) == 0 or y.min() < 0 or y.max() >= N_DIGITS:
        raise UsageError(ReasonCode.USAGE, "labels must be digits 0-9 and not empty")
    return y


def row_chunks(n: int, size: int = CHUNK) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``scores / temperature``, float32."""
    z = scores.astype(np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def centred_unit_rows(glyphs: np.ndarray) -> np.ndarray:
    """Flatten each image, subtract its mean and scale it to unit norm (blank images stay 0).

    The dot product of two such rows is their normalised cross-correlation (at zero shift).
    """
    x = glyphs.reshape(len(glyphs), -1).astype(np.float32)
    x = x - x.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 1e-6)


def normalized_cross_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """NCC of every image in ``a`` (N x 28 x 28) with every image in ``b`` (M x 28 x 28): N x M.

    Values lie in [-1, 1]; an image correlates 1.0 with itself.
    """
    return centred_unit_rows(as_glyphs(a)) @ centred_unit_rows(as_glyphs(b)).T


def hog_features(glyphs: np.ndarray, cell: int) -> np.ndarray:
    """HOG descriptors (9 orientations, ``cell`` x ``cell`` px cells, 2 x 2 blocks, L2-Hys)."""
    feats = [
        hog(g, orientations=9, pixels_per_cell=(cell, cell), cells_per_block=(2, 2)) for g in glyphs
    ]
    return np.asarray(feats, dtype=np.float32).reshape(len(glyphs), -1)


class DigitBaseline(ABC):
    """Common interface of the baselines: ``fit``, ``predict_proba``, ``predict``, ``name``."""

    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self) -> None:
        self._fitted = False

    @abstractmethod
    def grid(self) -> list[dict[str, Any]]:
        """The hyper-parameter settings ``fit_tuned`` tries, in order of preference on ties."""

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """The current hyper-parameters."""

    @abstractmethod
    def _fit(self, glyphs: np.ndarray, labels: np.ndarray) -> None: ...

    @abstractmethod
    def _predict_proba(self, glyphs: np.ndarray) -> np.ndarray: ...

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"

    def set_params(self, **params: Any) -> Self:
        for key, value in params.items():
            if key not in self.params():
                raise UsageError(ReasonCode.USAGE, f"{self.name} has no parameter {key!r}")
            setattr(self, key, value)
        return self

    def fit(self, images: np.ndarray, labels: np.ndarray) -> Self:
        """Fit on uint8 (or [0, 1] float) N x 28 x 28 images and their digit labels."""
        glyphs = as_glyphs(images)
        self._fit(glyphs, check_labels(glyphs, labels))
        self._fitted = True
        return self

    def predict_proba(self, glyphs: np.ndarray) -> np.ndarray:
        """N x 10 float32 probabilities of the digits 0-9; each row sums to 1."""
        if not self._fitted:
            raise UsageError(ReasonCode.USAGE, f"{self.name} is not fitted", "call fit() first")
        x = as_glyphs(glyphs)
        if len(x) == 0:
            return np.zeros((0, N_DIGITS), np.float32)
        return self._predict_proba(x)

    def predict(self, glyphs: np.ndarray) -> np.ndarray:
        """The most probable digit of each glyph (int64)."""
        return self.predict_proba(glyphs).argmax(axis=1).astype(np.int64)

    def fit_tuned(
        self,
        train_images: np.ndarray,
        train_labels: np.ndarray,
        valid_images: np.ndarray,
        valid_labels: np.ndarray,
    ) -> Selection:
        """Try every setting of :meth:`grid`, fitting on train and scoring on valid.

        The model is left fitted on train with the best setting (the first one on a tie).
        """
        valid_y = check_labels(valid_images, valid_labels)
        best: tuple[float, dict[str, Any], dict[str, Any]] | None = None
        tried = []
        for setting in self.grid():
            self.set_params(**setting).fit(train_images, train_labels)
            accuracy = float((self.predict(valid_images) == valid_y).mean())
            tried.append((dict(setting), accuracy))
            if best is None or accuracy > best[0]:
                best = (accuracy, dict(setting), dict(self.__dict__))
        assert best is not None, "grid() must not be empty"
        # fit() rebinds attributes instead of mutating them, so the shallow copy is the model
        self.__dict__.update(best[2])
        self._after_selection(as_glyphs(valid_images), valid_y)
        return Selection(best[1], best[0], tuple(tried))

    def _after_selection(  # noqa: B027 - an optional hook, not an abstract step
        self, valid_glyphs: np.ndarray, valid_labels: np.ndarray
    ) -> None:
        """Hook run on valid once the setting is chosen (score models calibrate here)."""


class ScoreBaseline(DigitBaseline):
    """A model that gives each digit a score; probabilities are ``softmax(score / T)``.

    ``T`` starts at ``default_temperature`` and is set on valid by ``fit_tuned`` (lowest
    negative log-likelihood on a log grid), so the probabilities are roughly calibrated.
    """

    default_temperature: ClassVar[float] = 1.0

    def __init__(self) -> None:
        super().__init__()
        self.temperature = self.default_temperature

    @abstractmethod
    def _scores(self, glyphs: np.ndarray) -> np.ndarray: ...

    def _predict_proba(self, glyphs: np.ndarray) -> np.ndarray:
        return softmax(self._scores(glyphs), self.temperature)

    def _after_selection(self, valid_glyphs: np.ndarray, valid_labels: np.ndarray) -> None:
        scores = self._scores(valid_glyphs)
        rows = np.arange(len(valid_labels))
        candidates = self.default_temperature * np.geomspace(0.02, 50.0, 61)
        nll = [
            -np.log(softmax(scores, t)[rows, valid_labels].astype(np.float64) + 1e-12).mean()
            for t in candidates
        ]
        self.temperature = float(candidates[int(np.argmin(nll))])
