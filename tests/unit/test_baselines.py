"""The seed baselines really learn, share one interface, and `hdr bench digits` reports them."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from hdr.classify.normalize import normalize_glyph
from hdr.errors import DataError, ReasonCode, UsageError
from hdr.train.baselines import (
    BASELINE_NAMES,
    DigitBaseline,
    HogLinearSvm,
    NccKnn,
    NccMeanTemplate,
    NccTemplates,
    PixelKnn,
    default_baselines,
    normalized_cross_correlation,
)
from hdr.train.baselines_bench import (
    SECTION_HEADING,
    benchmark_cnn,
    replace_markdown_section,
)

# One class mean per digit is a weak classifier (about 80% on MNIST); every other baseline
# must clear 85% from 2,000 training images.
FLOORS = {"ncc-mean-template": 0.75}
DEFAULT_FLOOR = 0.85


@pytest.fixture(scope="module")
def mnist_slices() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from hdr.datasets.mnist import load_mnist

    try:
        train_x, train_y = load_mnist("train")
        valid_x, valid_y = load_mnist("valid")
    except DataError as err:
        pytest.skip(f"MNIST not prepared ({err}); run `hdr data fetch`")
    pick = np.random.default_rng(0).permutation(len(train_x))[:2000]
    return {
        "train": (train_x[pick], train_y[pick]),
        "tune": (valid_x[:500], valid_y[:500]),
        "held_out": (valid_x[5000:6000], valid_y[5000:6000]),
    }


@pytest.fixture(scope="module")
def fitted(mnist_slices: dict) -> dict[str, DigitBaseline]:
    train_x, train_y = mnist_slices["train"]
    return {model.name: model.fit(train_x, train_y) for model in default_baselines()}


@pytest.mark.parametrize("name", BASELINE_NAMES)
def test_each_baseline_learns_digits_from_2000_images(
    name: str, fitted: dict, mnist_slices: dict
) -> None:
    images, labels = mnist_slices["held_out"]
    proba = fitted[name].predict_proba(images.astype(np.float32) / 255.0)

    assert proba.shape == (len(images), 10)
    assert proba.dtype == np.float32
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-4)
    accuracy = float((proba.argmax(axis=1) == labels).mean())
    assert accuracy > FLOORS.get(name, DEFAULT_FLOOR), f"{name}: {accuracy:.1%}"
    np.testing.assert_array_equal(fitted[name].predict(images), proba.argmax(axis=1))


def test_baselines_read_glyphs_made_by_the_shared_normaliser(
    fitted: dict, mnist_slices: dict
) -> None:
    """A digit cropped from a bigger scan goes through normalize_glyph, as in the pipeline."""
    images, labels = mnist_slices["held_out"]
    glyphs = np.stack(
        [
            normalize_glyph(cv2.resize(img, (84, 84), interpolation=cv2.INTER_CUBIC))
            for img in images
        ]
    )
    accuracy = float((fitted["hog-linear-svm"].predict(glyphs) == labels).mean())
    assert accuracy > 0.85


@pytest.mark.parametrize(
    "model", [PixelKnn(), HogLinearSvm(), NccTemplates()], ids=lambda m: m.name
)
def test_fit_tuned_keeps_the_setting_it_reports(model: DigitBaseline, mnist_slices: dict) -> None:
    (train_x, train_y), (tune_x, tune_y) = mnist_slices["train"], mnist_slices["tune"]
    selection = model.fit_tuned(train_x[:1000], train_y[:1000], tune_x, tune_y)

    assert selection.params in [setting for setting, _ in selection.tried]
    assert selection.valid_accuracy == max(acc for _, acc in selection.tried)
    assert model.params() == selection.params
    # the model left behind is the one that scored valid_accuracy
    assert float((model.predict(tune_x) == tune_y).mean()) == pytest.approx(
        selection.valid_accuracy
    )


def test_tuned_template_probabilities_are_roughly_calibrated(mnist_slices: dict) -> None:
    model = NccMeanTemplate()
    model.fit_tuned(*mnist_slices["train"], *mnist_slices["tune"])
    images, labels = mnist_slices["held_out"]
    proba = model.predict_proba(images)
    accuracy = float((proba.argmax(axis=1) == labels).mean())
    confidence = float(proba.max(axis=1).mean())
    assert abs(confidence - accuracy) < 0.1, (confidence, accuracy)


def test_ncc_best_match_of_a_training_image_is_itself(mnist_slices: dict) -> None:
    train_x, train_y = mnist_slices["train"]
    model = NccKnn().fit(train_x[:500], train_y[:500])
    ncc, idx = model.best_matches(train_x[:40], k=2)

    np.testing.assert_array_equal(idx[:, 0], np.arange(40))
    np.testing.assert_allclose(ncc[:, 0], 1.0, atol=1e-5)
    assert np.all(ncc[:, 1] < ncc[:, 0])


def test_ncc_ignores_brightness_and_contrast(mnist_slices: dict) -> None:
    images = mnist_slices["train"][0][:20].astype(np.float32) / 255.0
    ncc = normalized_cross_correlation(images, 0.5 * images + 0.2)

    np.testing.assert_allclose(np.diag(ncc), 1.0, atol=1e-5)
    assert ncc.shape == (20, 20)
    assert np.all(ncc <= 1.0 + 1e-5) and np.all(ncc >= -1.0 - 1e-5)


def test_bad_input_is_a_usage_error_with_a_reason(fitted: dict) -> None:
    with pytest.raises(UsageError) as err:
        fitted["knn-pixels"].predict_proba(np.zeros((3, 32, 32), np.float32))
    assert err.value.code is ReasonCode.USAGE
    assert "28 x 28" in err.value.message
    with pytest.raises(UsageError, match="not fitted"):
        PixelKnn().predict_proba(np.zeros((1, 28, 28), np.float32))
    with pytest.raises(UsageError, match="labels"):
        PixelKnn().fit(np.zeros((2, 28, 28), np.uint8), np.array([3, 11]))


def test_empty_batch_gives_empty_probabilities(fitted: dict) -> None:
    proba = fitted["ncc-knn"].predict_proba(np.zeros((0, 28, 28), np.float32))
    assert proba.shape == (0, 10)


# ---------------------------------------------------------------- the CNN row


def _predictor_module(monkeypatch: pytest.MonkeyPatch, load_classifier: object) -> None:
    """Stand in for hdr.classify.predictor at the import boundary the benchmark uses."""
    module = types.ModuleType("hdr.classify.predictor")
    module.load_classifier = load_classifier  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "hdr.classify.predictor", module)


def test_cnn_row_says_why_when_the_classifier_cannot_load(
    monkeypatch: pytest.MonkeyPatch, mnist_slices: dict
) -> None:
    def load_classifier() -> None:
        raise FileNotFoundError("models/digits.onnx\nsecond line")

    _predictor_module(monkeypatch, load_classifier)
    row = benchmark_cnn(mnist_slices["held_out"])
    assert row.accuracy is None
    assert row.note == "FileNotFoundError: models/digits.onnx"


def test_cnn_row_scores_the_first_ten_columns_only(
    monkeypatch: pytest.MonkeyPatch, fitted: dict, mnist_slices: dict
) -> None:
    digits_model = fitted["hog-linear-svm"]

    class TwentyClassModel:
        def predict_proba(self, glyphs: np.ndarray) -> np.ndarray:
            out = np.zeros((len(glyphs), 20), np.float32)
            out[:, :10] = 0.5 * digits_model.predict_proba(glyphs)
            out[:, 19] = 0.5  # "reject" beats every digit; digits are still read from :10
            return out

    _predictor_module(monkeypatch, TwentyClassModel)
    images, labels = mnist_slices["held_out"]
    row = benchmark_cnn((images, labels))
    expected_errors = int((digits_model.predict(images) != labels).sum())
    assert row.errors == expected_errors
    assert row.accuracy == pytest.approx(1 - expected_errors / len(labels))


# ---------------------------------------------------------------- BENCHMARKS.md and the CLI


def test_section_replacement_leaves_other_sections_alone(tmp_path: Path) -> None:
    doc = tmp_path / "BENCHMARKS.md"
    replace_markdown_section(doc, SECTION_HEADING, "## Baselines\n\nfirst\n")
    assert doc.read_text() == "# Benchmarks\n\n## Baselines\n\nfirst\n"

    doc.write_text(doc.read_text() + "\n## Digit recognizer\n\nCNN numbers\n")
    replace_markdown_section(doc, SECTION_HEADING, "## Baselines\n\nsecond\n")
    text = doc.read_text()
    assert text == "# Benchmarks\n\n## Baselines\n\nsecond\n\n## Digit recognizer\n\nCNN numbers\n"


def test_bench_digits_prints_every_method_and_writes_the_section(
    tmp_path: Path, mnist_slices: dict
) -> None:
    from hdr.cli import app

    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n\n## Digit recognizer\n\nkept as is\n")
    args = ["bench", "digits", "--limit-train", "300", "--limit-eval", "300", "--write", str(doc)]
    result = CliRunner().invoke(app, args)

    assert result.exit_code == 0, result.output
    for name in (*BASELINE_NAMES, "cnn"):
        assert name in result.stdout
    assert "Test accuracy" in result.stdout and "Digits/s" in result.stdout
    text = doc.read_text()
    assert "## Digit recognizer\n\nkept as is" in text
    assert f"`hdr bench digits --limit-train 300 --limit-eval 300 --write {doc}`" in text
    assert "| Method | Test accuracy | Errors | Digits/s | Digits/CPU-s | Train (s) |" in text
    assert all(f"| {name} | " in text for name in BASELINE_NAMES)


def test_bench_digits_json_reports_accuracy_and_counts(mnist_slices: dict) -> None:
    from hdr.cli import app

    args = ["bench", "digits", "--limit-train", "200", "--limit-eval", "200", "--json", "--no-cnn"]
    result = CliRunner().invoke(app, args)

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["n_train"], report["n_valid"], report["n_test"]) == (200, 200, 200)
    assert [row["method"] for row in report["rows"]] == list(BASELINE_NAMES)
    for row in report["rows"]:
        assert 0 <= row["errors"] < 100 and row["accuracy"] > 0.5
        assert row["digits_per_s"] > 0 and row["digits_per_cpu_s"] > 0 and row["settings"]
