"""The seed project's digit classifiers, kept as honest baselines beside the CNN.

Every baseline has the same small interface, so the same segmentation can later be plugged
into any of them: ``fit(images, labels)`` on uint8 N x 28 x 28 MNIST images, then
``predict_proba(glyphs)`` on float32 N x 28 x 28 glyphs in [0, 1] (white ink on black, as
:func:`hdr.classify.normalize.normalize_glyph` makes them) returns N x 10 probabilities of the
digits 0-9. ``fit_tuned`` picks the hyper-parameters on a validation split and leaves the model
fitted on the training split only.

The methods:

- ``knn-pixels``: k-nearest neighbours on raw pixels (Euclidean), no deskewing, no PCA.
- ``hog-linear-svm`` / ``hog-knn``: HOG features (scikit-image) with a linear SVM or k-NN.
- ``ncc-mean-template``: normalised cross-correlation against one mean image per class.
- ``ncc-kmeans-templates``: the same against several k-means centres per class.
- ``ncc-knn``: k-NN where the similarity is the NCC with every training image.

>>> from hdr.datasets.mnist import load_mnist
>>> from hdr.train.baselines import PixelKnn
>>> images, labels = load_mnist("train")
>>> model = PixelKnn(k=3).fit(images[:2000], labels[:2000])
>>> model.predict_proba(images[2000:2005] / 255.0).shape
(5, 10)
"""

from __future__ import annotations

from collections.abc import Sequence

from hdr.train.baselines_base import (
    DigitBaseline,
    ScoreBaseline,
    Selection,
    as_glyphs,
    centred_unit_rows,
    hog_features,
    normalized_cross_correlation,
    softmax,
)
from hdr.train.baselines_knn import HogKnn, NccKnn, PixelKnn
from hdr.train.baselines_scores import HogLinearSvm, NccMeanTemplate, NccTemplates

__all__ = [
    "BASELINE_NAMES",
    "DigitBaseline",
    "HogKnn",
    "HogLinearSvm",
    "NccKnn",
    "NccMeanTemplate",
    "NccTemplates",
    "PixelKnn",
    "ScoreBaseline",
    "Selection",
    "as_glyphs",
    "centred_unit_rows",
    "default_baselines",
    "hog_features",
    "normalized_cross_correlation",
    "softmax",
]


def default_baselines() -> list[DigitBaseline]:
    """One fresh instance of every baseline, in the order the benchmark table lists them."""
    return [PixelKnn(), HogKnn(), HogLinearSvm(), NccMeanTemplate(), NccTemplates(), NccKnn()]


BASELINE_NAMES: Sequence[str] = tuple(b.name for b in default_baselines())
