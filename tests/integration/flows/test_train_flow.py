"""The training flows: `train-digits` (a fast_dev_run training, the version in the registry,
promotion) and `train-lines` (a candidate line reader and the lines that pin it).

The training data is the small stand-in MNIST of tests/helpers (real strokes drawn with
fonts), so the model is a smoke-test model; what is checked is the plumbing a bank relies on:
the card and metrics in the database, and `model="default"` of the next batch following an
explicit promotion.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from db import create_engine_from_url, session_scope
from db.models import Batch, ModelVersion
from hdr.classify.predictor import verify_file
from tests.helpers.fake_mnist import TINY_TRAIN_CONFIG, write_fake_mnist

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "tests" / "resources" / "sample"


def test_a_promoted_training_becomes_the_default_model_of_the_next_batch(
    prefect_harness: str, db_url: str, tmp_path: Path
) -> None:
    from flows.process_batch import process_batch
    from flows.train_digits import train_digits_flow

    write_fake_mnist(tmp_path / "data")
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_TRAIN_CONFIG + f"  data_dir: {tmp_path / 'data'}\n", encoding="utf-8")

    trained = train_digits_flow(
        config=str(config), out_dir=str(tmp_path / "model"), fast_dev_run=True, promote=True
    )
    onnx = tmp_path / "model" / "digits.onnx"
    assert trained["path"] == str(onnx) and trained["promoted"] is True
    assert trained["sha256"] == verify_file(onnx, None)

    engine = create_engine_from_url(db_url)
    with session_scope(engine) as s:
        (version,) = s.scalars(select(ModelVersion)).all()
        card, version_sha = version.card or {}, version.sha256
    assert version_sha == trained["sha256"]
    assert card["files"]["onnx"]["sha256"] == trained["sha256"]  # the model card, as trained
    assert card["architecture"]["widths"] == [8, 16, 16] and "valid_acc_mnist" in card["metrics"]
    assert card["registry"]["path"] == str(onnx) and card["registry"]["promoted_at"]

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE / "doc_0002.png", inbox / "a.png")
    summary = process_batch(source=str(inbox))
    assert summary.model_origin == "promoted" and summary.model_sha256 == trained["sha256"]
    with session_scope(engine) as s:
        (batch,) = s.scalars(select(Batch)).all()
        assert batch.model_version.sha256 == trained["sha256"]
    engine.dispose()


def test_train_lines_writes_a_candidate_and_says_how_to_pin_it(
    prefect_harness: str, tmp_path: Path
) -> None:
    import yaml

    from flows.train_lines import train_lines_flow
    from hdr.classify.lines import load_line_reader
    from hdr.config import load_pipeline_config

    recipe = yaml.safe_load((REPO / "configs" / "train" / "lines.yaml").read_text("utf-8"))
    recipe["data"]["lines"] = {"n": 4, "seed": 7192}  # a few files: plumbing, not a model
    recipe["data"]["data_dir"] = str(tmp_path / "data")
    recipe["data"]["batch_size"] = 4
    config = tmp_path / "lines.yaml"
    config.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    pinned = load_pipeline_config().line_model
    assert pinned is not None
    before = verify_file(REPO / pinned.path, None)

    trained = train_lines_flow(
        config=str(config), out_dir=str(tmp_path / "cand"), fast_dev_run=True
    )

    onnx = tmp_path / "cand" / "lines.onnx"
    assert trained["path"] == str(onnx) and trained["sha256"] == verify_file(onnx, None)
    pin = yaml.safe_load(trained["pin"])["line_model"]
    assert pin == {"path": str(onnx), "sha256": trained["sha256"]}
    reader = load_line_reader(pin["path"], pin["sha256"])  # the pin is one the pipeline accepts
    assert reader is not None
    assert verify_file(REPO / pinned.path, None) == before  # the pinned reader is untouched
