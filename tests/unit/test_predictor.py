"""The shipped classifier: pinned by sha256, calibrated probabilities, ONNX and torch agree."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from hdr.classify.card import ModelCard, card_path
from hdr.classify.labels import LABELS, NUM_CLASSES, index_of
from hdr.classify.predictor import load_classifier
from hdr.config import load_pipeline_config
from hdr.datasets.fonts import handwriting_fonts, render_text
from hdr.datasets.mnist import PICKLE_SHA256
from hdr.datasets.symbols import RenderSpec, make_glyph
from hdr.errors import ModelError, ReasonCode
from hdr.train.export import sha256_file
from tests.helpers.fake_mnist import fake_split


@pytest.fixture(scope="module")
def shipped_model(repo_root: Path) -> Path:
    return repo_root / "models" / "digits.onnx"


def test_default_model_is_the_pinned_one(shipped_model: Path) -> None:
    clf = load_classifier()
    assert clf.sha256 == load_pipeline_config().model.sha256 == sha256_file(shipped_model)
    assert clf.labels == LABELS and clf.backend == "onnx"
    assert load_classifier() is clf, "loaded once per process"


def test_probabilities_are_calibrated_rows_over_all_labels() -> None:
    glyphs, _ = fake_split(40, seed=5)
    probs = load_classifier().predict_proba(glyphs.astype(np.float32) / 255)
    assert probs.shape == (40, NUM_CLASSES) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert load_classifier().predict_proba(np.zeros((0, 28, 28), np.float32)).shape == (0, 20)


def test_reads_font_digits_and_symbols_it_never_saw() -> None:
    fonts = handwriting_fonts()
    glyphs, labels = fake_split(60, seed=99)  # font digits, other seed than training
    pred = load_classifier().predict_proba(glyphs.astype(np.float32) / 255).argmax(axis=1)
    assert (pred == labels).mean() >= 0.9
    spec = RenderSpec(p_noise=0.0)
    for label in ("$", "#", "*"):
        batch = np.stack(
            [make_glyph(label, np.random.default_rng([424242, i]), spec) for i in range(20)]
        )
        hits = load_classifier().predict_proba(batch).argmax(axis=1) == index_of(label)
        assert hits.mean() >= 0.7, label
    assert fonts  # the fonts the samples came from are installed


def test_onnx_and_torch_agree_on_a_batch(shipped_model: Path) -> None:
    glyphs, _ = fake_split(64, seed=8)
    x = glyphs.astype(np.float32) / 255
    onnx = load_classifier(shipped_model, backend="onnx")
    torch_clf = load_classifier(shipped_model, backend="torch")
    assert torch_clf.backend == "torch" and torch_clf.path.suffix == ".pt"
    p1, p2 = onnx.predict_proba(x), torch_clf.predict_proba(x)
    np.testing.assert_allclose(p1, p2, atol=1e-4)
    assert (p1.argmax(1) == p2.argmax(1)).all()


def test_tampered_model_is_refused(tmp_path: Path, shipped_model: Path) -> None:
    copy = tmp_path / "digits.onnx"
    shutil.copy(shipped_model, copy)
    shutil.copy(card_path(shipped_model), card_path(copy))
    pin = sha256_file(shipped_model)
    with copy.open("ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelError) as err:
        load_classifier(copy, pin)
    assert err.value.code is ReasonCode.MODEL_HASH_MISMATCH
    assert "model.sha256" in (err.value.hint or "")


def test_hdr_model_moves_the_model_and_keeps_its_pin(
    tmp_path: Path, shipped_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$HDR_MODEL says where the file is; the sha256 pinned in the configuration still holds."""
    good, tampered = tmp_path / "good", tmp_path / "tampered"
    for folder in (good, tampered):
        folder.mkdir()
        for name in ("digits.onnx", "digits.card.json"):
            shutil.copy(shipped_model.with_name(name), folder / name)
    with (tampered / "digits.onnx").open("r+b") as f:  # one byte of a weight changes
        f.seek(5000)
        byte = f.read(1)[0]
        f.seek(5000)
        f.write(bytes([byte ^ 0xFF]))

    monkeypatch.setenv("HDR_MODEL", str(good / "digits.onnx"))
    cfg = load_pipeline_config()
    assert cfg.model.path == str(good / "digits.onnx") and cfg.model.backend == "onnx"
    assert cfg.model.sha256 == sha256_file(shipped_model)
    clf = load_classifier()
    assert clf.path == good / "digits.onnx" and clf.sha256 == cfg.model.sha256

    monkeypatch.setenv("HDR_MODEL", str(tampered / "digits.onnx"))
    with pytest.raises(ModelError) as err:
        load_classifier()
    assert err.value.code is ReasonCode.MODEL_HASH_MISMATCH
    assert str(tampered / "digits.onnx") in err.value.message


def test_missing_model_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        load_classifier(tmp_path / "nothing.onnx", "0" * 64)
    assert err.value.code is ReasonCode.MODEL_MISSING


def test_torch_fallback_checks_the_state_dict_against_the_card(
    tmp_path: Path, shipped_model: Path
) -> None:
    for name in ("digits.onnx", "digits.pt", "digits.card.json"):
        shutil.copy(shipped_model.with_name(name), tmp_path / name)
    with (tmp_path / "digits.pt").open("ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelError) as err:
        load_classifier(tmp_path / "digits.onnx", sha256_file(shipped_model), backend="torch")
    assert err.value.code is ReasonCode.MODEL_HASH_MISMATCH


def test_model_card_round_trips_and_describes_the_files(shipped_model: Path) -> None:
    card = ModelCard.read(card_path(shipped_model))
    assert ModelCard.from_json(card.to_json()) == card
    assert card.labels == list(LABELS)
    assert card.preprocessing["input"].startswith("N x 28 x 28")
    assert card.files["onnx"]["sha256"] == sha256_file(shipped_model)
    assert card.files["state_dict"]["sha256"] == sha256_file(shipped_model.with_name("digits.pt"))
    # a single network names its MNIST pickle; an ensemble names each member's ("member0. ...")
    mnist = {v for k, v in card.data_hashes.items() if k.split(".")[-1] == "mnist_pickle_sha256"}
    assert mnist == {PICKLE_SHA256}
    assert 0.5 < card.temperature < 5
    for key in ("date", "command", "seconds"):
        assert card.training[key]


def test_wrong_glyph_shape_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="28 x 28"):
        load_classifier().predict_proba(np.zeros((2, 32, 32), np.float32))
    single = render_text("5", handwriting_fonts()[0], 40)
    assert single.ndim == 2  # a raw crop must be normalised first, as the pipeline does
