"""k-nearest-neighbour baselines: on raw pixels, on HOG features, and by NCC with each image.

>>> from hdr.datasets.mnist import load_mnist
>>> from hdr.train.baselines_knn import NccKnn
>>> images, labels = load_mnist("train")
>>> model = NccKnn(k=1).fit(images[:1000], labels[:1000])
>>> ncc, idx = model.best_matches(images[:3])   # each image's best match is itself
>>> idx[:, 0].tolist()
[0, 1, 2]
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np
from sklearn.neighbors import NearestNeighbors

from hdr.train.baselines_base import (
    N_DIGITS,
    DigitBaseline,
    Selection,
    as_glyphs,
    centred_unit_rows,
    check_labels,
    hog_features,
    row_chunks,
)


class _KnnBaseline(DigitBaseline):
    """Vote of the k nearest training images; ``distance`` weights each vote by 1 / distance."""

    k_grid: ClassVar[tuple[int, ...]] = (1, 3, 5, 7, 9)
    weight_grid: ClassVar[tuple[str, ...]] = ("uniform", "distance")

    def __init__(self, k: int = 3, weights: str = "distance") -> None:
        super().__init__()
        self.k = k
        self.weights = weights

    def params(self) -> dict[str, Any]:
        return {"k": self.k, "weights": self.weights}

    def grid(self) -> list[dict[str, Any]]:
        return [{"k": k, "weights": w} for w in self.weight_grid for k in self.k_grid]

    @abstractmethod
    def _index(self, glyphs: np.ndarray) -> None:
        """Store the training set in whatever form :meth:`_neighbours` searches."""

    @abstractmethod
    def _neighbours(self, glyphs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(distances, training indices) of the k nearest, nearest first: N x k each."""

    def _fit(self, glyphs: np.ndarray, labels: np.ndarray) -> None:
        self._train_labels = labels
        self._index(glyphs)

    def _vote(self, dist: np.ndarray, idx: np.ndarray, k: int, weights: str) -> np.ndarray:
        k = min(k, idx.shape[1])
        votes = self._train_labels[idx[:, :k]]
        w = np.ones_like(dist[:, :k]) if weights == "uniform" else 1.0 / (dist[:, :k] + 1e-6)
        proba = np.zeros((len(idx), N_DIGITS), np.float64)
        np.add.at(proba, (np.arange(len(idx))[:, None], votes), w)
        return (proba / proba.sum(axis=1, keepdims=True)).astype(np.float32)

    def _predict_proba(self, glyphs: np.ndarray) -> np.ndarray:
        dist, idx = self._neighbours(glyphs, self.k)
        return self._vote(dist, idx, self.k, self.weights)

    def fit_tuned(
        self,
        train_images: np.ndarray,
        train_labels: np.ndarray,
        valid_images: np.ndarray,
        valid_labels: np.ndarray,
    ) -> Selection:
        """One neighbour search on valid serves every (k, weights) setting of the grid."""
        valid_y = check_labels(valid_images, valid_labels)
        self.fit(train_images, train_labels)
        dist, idx = self._neighbours(as_glyphs(valid_images), max(self.k_grid))
        tried = []
        for setting in self.grid():
            proba = self._vote(dist, idx, setting["k"], setting["weights"])
            tried.append((setting, float((proba.argmax(axis=1) == valid_y).mean())))
        params, accuracy = max(tried, key=lambda t: t[1])  # max keeps the first on a tie
        self.set_params(**params)
        return Selection(dict(params), accuracy, tuple(tried))


class _SklearnKnn(_KnnBaseline):
    """Euclidean k-NN over a feature vector, searched by scikit-learn (brute force, BLAS)."""

    @abstractmethod
    def _features(self, glyphs: np.ndarray) -> np.ndarray: ...

    def _index(self, glyphs: np.ndarray) -> None:
        self._nn = NearestNeighbors(algorithm="brute").fit(self._features(glyphs))

    def _neighbours(self, glyphs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self._nn.n_samples_fit_)
        dist, idx = self._nn.kneighbors(self._features(glyphs), n_neighbors=k)
        return dist, idx


class PixelKnn(_SklearnKnn):
    """k-NN on the 784 raw pixel values (no deskewing, no PCA)."""

    name = "knn-pixels"
    description = "k-NN, Euclidean distance on raw pixels"

    def _features(self, glyphs: np.ndarray) -> np.ndarray:
        return glyphs.reshape(len(glyphs), -1)


class HogKnn(_SklearnKnn):
    """k-NN on HOG descriptors (cell size chosen on valid with k and weights)."""

    name = "hog-knn"
    description = "HOG features (scikit-image), k-NN"
    cell_grid: ClassVar[tuple[int, ...]] = (7, 4)

    def __init__(self, k: int = 3, weights: str = "distance", cell: int = 7) -> None:
        super().__init__(k, weights)
        self.cell = cell

    def params(self) -> dict[str, Any]:
        return {"cell": self.cell, **super().params()}

    def _features(self, glyphs: np.ndarray) -> np.ndarray:
        return hog_features(glyphs, self.cell)

    def fit_tuned(
        self,
        train_images: np.ndarray,
        train_labels: np.ndarray,
        valid_images: np.ndarray,
        valid_labels: np.ndarray,
    ) -> Selection:
        """The cell size changes the features: one k/weights search per cell size."""
        results = []
        for cell in self.cell_grid:
            self.cell = cell
            sel = super().fit_tuned(train_images, train_labels, valid_images, valid_labels)
            tried = tuple(({"cell": cell, **p}, a) for p, a in sel.tried)
            chosen = Selection({"cell": cell, **sel.params}, sel.valid_accuracy, tried)
            results.append((chosen, dict(self.__dict__)))
        best, state = max(results, key=lambda r: r[0].valid_accuracy)
        self.__dict__.update(state)  # the index fitted with the best cell size
        all_tried = tuple(t for sel, _ in results for t in sel.tried)
        return Selection(best.params, best.valid_accuracy, all_tried)


class NccKnn(_KnnBaseline):
    """k-NN where similarity is the normalised cross-correlation with each training image.

    The distance used for weighting is ``1 - NCC`` (0 for an identical image).
    """

    name = "ncc-knn"
    description = "normalised cross-correlation with every training image, k-NN"

    def _index(self, glyphs: np.ndarray) -> None:
        self._train_rows = centred_unit_rows(glyphs)

    def best_matches(self, glyphs: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(NCC values, training indices) of the k best-correlated training images: N x k."""
        dist, idx = self._neighbours(as_glyphs(glyphs), k)
        return 1.0 - dist, idx

    def _neighbours(self, glyphs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        rows = centred_unit_rows(glyphs)
        k = min(k, len(self._train_rows))
        dist = np.empty((len(rows), k), np.float32)
        idx = np.empty((len(rows), k), np.int64)
        for part in row_chunks(len(rows)):
            ncc = rows[part] @ self._train_rows.T
            top = np.argpartition(-ncc, k - 1, axis=1)[:, :k]
            top_ncc = np.take_along_axis(ncc, top, axis=1)
            order = np.argsort(-top_ncc, axis=1, kind="stable")
            idx[part] = np.take_along_axis(top, order, axis=1)
            dist[part] = 1.0 - np.take_along_axis(top_ncc, order, axis=1)
        return dist, idx
