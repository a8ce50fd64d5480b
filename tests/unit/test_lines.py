"""The line reader's input and output: line images, CTC targets and decoding, the line data and
a `fast_dev_run` through its training and export."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from hdr.classify.labels import LABELS, REJECT
from hdr.classify.lines import (
    BLANK,
    CLASSES,
    DIGIT_PX,
    HEIGHT,
    STRIDE,
    WIDTH,
    ctc_log_likelihood,
    decode_best_path,
    encode,
    line_image,
    load_line_reader,
)
from hdr.datasets.lines import LineSpec, build_lines, load_lines
from hdr.errors import DataError, ModelError, UsageError
from hdr.recognize import LineReading, _line_wins
from hdr.segment import segment_field
from hdr.train.line_run import load_line_config, train_lines


def _written(text: str, height: int = 40) -> np.ndarray:
    """A gray field crop with ``text`` written in a plain font, dark on light."""
    gray = np.full((height * 2, 30 * len(text) + 60), 255, np.uint8)
    cv2.putText(gray, text, (30, int(height * 1.4)), cv2.FONT_HERSHEY_SIMPLEX, height / 22, 0, 3)
    return gray


def test_line_image_scales_the_writing_to_a_digit_height_and_keeps_it_left_aligned() -> None:
    img = line_image(segment_field(_written("1250")))
    assert img is not None and img.shape == (HEIGHT, WIDTH) and img.dtype == np.float32
    rows = np.flatnonzero(img.max(axis=1) > 0.5)
    cols = np.flatnonzero(img.max(axis=0) > 0.5)
    assert abs((rows[-1] - rows[0] + 1) - DIGIT_PX) <= 3  # digits fill DIGIT_PX rows
    assert cols[0] < 12 and cols[-1] < WIDTH // 2  # left-aligned, the rest is black
    assert img.max() <= 1.0 and img.min() >= 0.0


def test_line_image_of_a_field_without_writing_is_none() -> None:
    assert line_image(segment_field(np.full((80, 300), 255, np.uint8))) is None


def test_a_very_long_field_is_squeezed_into_the_frame_not_cut() -> None:
    img = line_image(segment_field(_written("12345678901234567890123")))
    assert img is not None and img.shape == (HEIGHT, WIDTH)
    assert img[:, -8:].max() > 0.5  # the last digits reach the right edge


def test_targets_follow_the_label_set_and_letters_are_rejects() -> None:
    codes = encode(list("1,K₹"))
    assert codes == [
        LABELS.index("1") + 1,
        LABELS.index(",") + 1,
        LABELS.index(REJECT) + 1,
        LABELS.index("₹") + 1,
    ]
    assert BLANK not in codes and len(LABELS) + 1 == CLASSES


def test_best_path_merges_repeats_and_keeps_doubles_split_by_a_blank() -> None:
    one, zero = LABELS.index("1") + 1, LABELS.index("0") + 1
    frames = [BLANK, one, one, BLANK, zero, BLANK, zero, zero, BLANK]
    probs = np.full((len(frames), CLASSES), 0.01)
    probs[np.arange(len(frames)), frames] = 0.9
    labels, p = decode_best_path(np.log(probs / probs.sum(axis=1, keepdims=True)))
    assert labels == ["1", "0", "0"]
    assert 0.0 < p < 1.0


def test_unpinned_or_wrongly_pinned_line_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as missing:
        load_line_reader(tmp_path / "lines.onnx")
    assert missing.value.code.value == "model_missing"
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError) as pinned:
        load_line_reader(bad, "0" * 64)
    assert pinned.value.code.value == "model_hash_mismatch"


@pytest.fixture(scope="module")
def small_lines(tmp_path_factory: pytest.TempPathFactory) -> tuple[LineSpec, Path]:
    spec = LineSpec(n=6, seed=7191)
    data_dir = tmp_path_factory.mktemp("lines")
    return spec, build_lines(spec, data_dir, workers=1)


def test_line_data_pairs_each_field_line_with_what_was_written(small_lines) -> None:
    _, path = small_lines
    data = load_lines(path)
    n = len(data["images"])
    assert n >= 6 and data["images"].shape == (n, HEIGHT, WIDTH)
    manifest = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert manifest["counts"]["kept"] == n
    for text, codes, length in zip(data["texts"], data["targets"], data["lengths"], strict=True):
        assert length == len(text) and list(codes[:length]) == encode(list(str(text)))
        assert not codes[length:].any()
    assert set(data["fields"].tolist()) <= {0, 1}


def test_line_data_is_made_once_and_refuses_an_empty_spec(small_lines, tmp_path: Path) -> None:
    spec, path = small_lines
    stamp = path.stat().st_mtime_ns
    assert build_lines(spec, path.parent.parent) == path and path.stat().st_mtime_ns == stamp
    with pytest.raises(UsageError):
        build_lines(LineSpec(n=0, seed=7191), tmp_path)
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK not really")
    with pytest.raises(DataError):
        load_lines(broken)


def test_fast_dev_run_trains_exports_and_the_reader_loads_it(small_lines, tmp_path: Path) -> None:
    spec, path = small_lines
    cfg = replace(load_line_config(), spec=spec, data_dir=path.parent.parent, batch_size=4)
    result = train_lines(cfg, tmp_path / "out", fast_dev_run=True, progress=False, command="pytest")
    card = result["card"]
    assert card.architecture["kind"] == "line" and card.training["fast_dev_run"] is True
    assert card.training["command"] == "pytest" and card.labels == list(LABELS)
    reader = load_line_reader(result["paths"]["onnx"], card.files["onnx"]["sha256"])
    data = load_lines(path)
    logp = reader.logprobs(data["images"][:3].astype(np.float32) / 255.0)
    assert logp.shape == (3, WIDTH // STRIDE, CLASSES)
    assert np.allclose(np.exp(logp).sum(axis=2), 1.0, atol=1e-4)
    assert len(reader.read(data["images"][:3].astype(np.float32) / 255.0)) == 3


@pytest.mark.parametrize("text", ["12", "1122", "0", "", "₹1,250/-", "12345678901234"])
def test_ctc_likelihood_is_torchs_ctc_loss(text: str) -> None:
    import torch

    rng = np.random.default_rng(len(text))
    logp = torch.log_softmax(torch.tensor(rng.normal(size=(40, CLASSES))), -1)
    codes = encode(list(text))
    targets = torch.tensor([codes]) if codes else torch.zeros((1, 0), dtype=torch.long)
    loss = torch.nn.functional.ctc_loss(
        logp[:, None, :], targets, torch.tensor([40]), torch.tensor([len(codes)]), reduction="sum"
    )
    assert ctc_log_likelihood(logp.numpy(), list(text)) == pytest.approx(-float(loss), rel=1e-9)


def test_the_best_path_is_likelier_than_a_reading_it_does_not_give() -> None:
    one, two = LABELS.index("1") + 1, LABELS.index("2") + 1
    frames = [BLANK, one, BLANK, two, BLANK]
    probs = np.full((len(frames), CLASSES), 0.01)
    probs[np.arange(len(frames)), frames] = 0.9
    logp = np.log(probs / probs.sum(axis=1, keepdims=True))
    assert ctc_log_likelihood(logp, ["1", "2"]) > ctc_log_likelihood(logp, ["1", "7"]) + 4
    assert ctc_log_likelihood(logp, list("1234567")) == -np.inf  # more labels than frames allow


def _sure_line(text: str, sureness: float = 0.95) -> LineReading:
    """A line reading of ``text``: each label in a frame of its own, blanks between them."""
    frames = [BLANK]
    for char in text:
        frames += [LABELS.index(char) + 1, BLANK]
    probs = np.full((len(frames), CLASSES), (1 - sureness) / (CLASSES - 1))
    probs[np.arange(len(frames)), frames] = sureness
    logp = np.log(probs)
    labels, prob = decode_best_path(logp)
    return LineReading(labels, prob, logp)


def _glyph_probs(text: str, sureness: float) -> np.ndarray:
    probs = np.full((len(text), len(LABELS)), (1 - sureness) / (len(LABELS) - 1))
    probs[np.arange(len(text)), [LABELS.index(c) for c in text]] = sureness
    return probs


def test_the_line_reader_wins_over_an_extra_digit_the_glyph_reader_cut() -> None:
    """The glyph reader cut a touching pair into one digit too many (``22515.99``), unsure; the
    line reader reads ``2515.99`` surely: its reading is shown."""
    glyph = "22515.99"
    assert _line_wins(_sure_line("2515.99"), list(glyph), _glyph_probs(glyph, 0.8), 0.2, "x")


def test_a_line_reading_with_more_digits_never_wins() -> None:
    """A flourish read as digits (``329000/-`` as ``32900011``) is never shown in place of the
    glyph reader's value, however sure the line reader is and unsure the glyph reader."""
    glyph = "329000/-"
    line = _sure_line("32900011", 0.999)
    assert not _line_wins(line, list(glyph), _glyph_probs(glyph, 0.6), 0.01, "x")


def test_with_as_many_digits_the_likelier_reading_wins() -> None:
    glyph = "1750"
    sure_glyphs = _glyph_probs(glyph, 0.999)
    assert not _line_wins(_sure_line("1150", 0.6), list(glyph), sure_glyphs, 0.996, "x")
    assert _line_wins(_sure_line("1150", 0.999), list(glyph), _glyph_probs(glyph, 0.4), 0.03, "x")
