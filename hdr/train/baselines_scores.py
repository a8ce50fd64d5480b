"""Score baselines: HOG + linear SVM, and NCC against per-class templates (mean or k-means).

>>> from hdr.datasets.mnist import load_mnist
>>> from hdr.train.baselines_scores import NccMeanTemplate
>>> images, labels = load_mnist("train")
>>> NccMeanTemplate().fit(images, labels).templates.shape
(10, 28, 28)
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.cluster import KMeans
from sklearn.svm import LinearSVC

from hdr.train.baselines_base import N_DIGITS, SIDE, ScoreBaseline, centred_unit_rows, hog_features


class HogLinearSvm(ScoreBaseline):
    """HOG descriptors and a one-vs-rest linear SVM (scikit-learn ``LinearSVC``)."""

    name = "hog-linear-svm"
    description = "HOG features (scikit-image), linear SVM (one-vs-rest)"
    cell_grid: ClassVar[tuple[int, ...]] = (7, 4)
    c_grid: ClassVar[tuple[float, ...]] = (0.1, 1.0)

    def __init__(self, C: float = 1.0, cell: int = 7) -> None:  # C: scikit-learn's name
        super().__init__()
        self.C = C
        self.cell = cell

    def params(self) -> dict[str, Any]:
        return {"cell": self.cell, "C": self.C}

    def grid(self) -> list[dict[str, Any]]:
        return [{"cell": cell, "C": c} for cell in self.cell_grid for c in self.c_grid]

    def _fit(self, glyphs: np.ndarray, labels: np.ndarray) -> None:
        self._svm = LinearSVC(C=self.C, random_state=0).fit(hog_features(glyphs, self.cell), labels)
        self._classes = self._svm.classes_

    def _scores(self, glyphs: np.ndarray) -> np.ndarray:
        decision = self._svm.decision_function(hog_features(glyphs, self.cell))
        scores = np.full((len(glyphs), N_DIGITS), -1e3, np.float64)  # digits absent from train
        if decision.ndim == 1:  # only two digits in the training set
            decision = np.stack([-decision, decision], axis=1)
        scores[:, self._classes] = decision
        return scores


class NccTemplates(ScoreBaseline):
    """Normalised cross-correlation against per-class templates; a class scores its best match.

    With ``templates_per_class=1`` the template is the class's mean image; with more, the
    centres of a k-means clustering of the class's (centred, unit-norm) training images.
    """

    name = "ncc-kmeans-templates"
    description = "normalised cross-correlation against k-means templates per class"
    default_temperature = 0.02  # correlations differ by a few hundredths between classes
    templates_grid: ClassVar[tuple[int, ...]] = (5, 10, 20, 40, 80, 160)

    def __init__(self, templates_per_class: int = 20, seed: int = 0) -> None:
        super().__init__()
        self.templates_per_class = templates_per_class
        self.seed = seed

    def params(self) -> dict[str, Any]:
        return {"templates_per_class": self.templates_per_class}

    def grid(self) -> list[dict[str, Any]]:
        return [{"templates_per_class": m} for m in self.templates_grid]

    def _fit(self, glyphs: np.ndarray, labels: np.ndarray) -> None:
        rows = centred_unit_rows(glyphs)
        templates, owners = [], []
        for digit in np.unique(labels):
            members = rows[labels == digit]
            m = min(self.templates_per_class, len(members))
            if m == 1:
                centres = members.mean(axis=0, keepdims=True)
            else:
                km = KMeans(n_clusters=m, n_init=1, random_state=self.seed).fit(members)
                centres = km.cluster_centers_
            templates.append(centres.astype(np.float32))
            owners.extend([int(digit)] * len(centres))
        self._templates = centred_unit_rows(np.concatenate(templates))
        self._owners = np.asarray(owners, np.int64)

    @property
    def templates(self) -> np.ndarray:
        """The templates as T x 28 x 28 images (centred, unit norm), with :attr:`owners`."""
        return self._templates.reshape(-1, SIDE, SIDE)

    @property
    def owners(self) -> np.ndarray:
        return self._owners

    def _scores(self, glyphs: np.ndarray) -> np.ndarray:
        ncc = centred_unit_rows(glyphs) @ self._templates.T
        scores = np.full((len(glyphs), N_DIGITS), -2.0, np.float32)  # below any NCC
        for digit in np.unique(self._owners):
            scores[:, digit] = ncc[:, self._owners == digit].max(axis=1)
        return scores


class NccMeanTemplate(NccTemplates):
    """The classic: NCC against one mean image per digit (nothing to select but T)."""

    name = "ncc-mean-template"
    description = "normalised cross-correlation against the mean image of each class"
    templates_grid = (1,)

    def __init__(self, seed: int = 0) -> None:
        super().__init__(templates_per_class=1, seed=seed)
