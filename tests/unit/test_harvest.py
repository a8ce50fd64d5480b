"""Harvested training glyphs: pages written with MNIST *train* digits, cut by the reader, labelled
by the truth only where the reader's glyphs pair one to one with the written characters."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from hdr.classify.labels import LABELS, REJECT
from hdr.datasets.harvest import (
    HarvestSpec,
    aligned_glyphs,
    code_digest,
    harvest,
    harvest_digest,
    harvest_path,
    label_of,
    load_harvest,
)
from hdr.datasets.mnist import load_mnist
from hdr.datasets.symbols import RenderSpec
from hdr.errors import DataError, UsageError
from hdr.synth import SynthOptions, generate
from hdr.train.datamodule import DataConfig, GlyphDataModule, TrainGlyphs
from hdr.train.run import load_train_config
from hdr.types import GlyphResult
from tests.helpers.fake_mnist import write_fake_mnist


def _glyph(value: float) -> GlyphResult:
    image = np.full((28, 28), value, np.float32)
    return GlyphResult(box=(0, 0, 1, 1), label="1", prob=0.9, topk=(("1", 0.9),), image=image)


def test_glyphs_pair_with_written_characters_only_one_to_one() -> None:
    read = [_glyph(0.1), _glyph(0.2), _glyph(0.3)]
    pairs = aligned_glyphs(read, ["4", "K", "$"])
    assert [label for _, label in pairs] == [
        LABELS.index("4"),
        LABELS.index(REJECT),  # a letter is "not a character we read"
        LABELS.index("$"),
    ]
    assert [float(image[0, 0]) for image, _ in pairs] == pytest.approx([0.1, 0.2, 0.3])
    assert aligned_glyphs(read, ["4", "2"]) == []  # cut into another count: no labels
    assert aligned_glyphs([*read[:2], GlyphResult((0, 0, 1, 1), "1", 0.9, ())], "123") == []
    assert label_of("Q") == LABELS.index(REJECT) and label_of("7") == 7


def test_glyph_image_is_not_part_of_equality() -> None:
    assert _glyph(0.1) == _glyph(0.9)


def test_train_split_pages_draw_train_digits_and_default_pages_never(tmp_path: Path) -> None:
    train_y = load_mnist("train")[1]
    opts = SynthOptions(n=3, seed=5, formats=("png",), hard_share=0.0, workers=1)
    sources = {}
    for split in ("test", "train"):
        records = generate(tmp_path / split, replace(opts, digit_split=split))
        sources[split] = [
            g
            for r in records
            for gl in r.glyphs.values()
            for g in gl
            if g.source.startswith("mnist")
        ]
    assert sources["test"] and all(g.source.startswith("mnist-test:") for g in sources["test"])
    assert sources["train"] and all(g.source.startswith("mnist-train:") for g in sources["train"])
    for g in sources["train"]:
        assert str(train_y[int(g.source.split(":")[1])]) == g.label
    with pytest.raises(UsageError, match="digit-split"):
        SynthOptions(digit_split="valid").check()


@pytest.fixture(scope="module")
def small_harvest(tmp_path_factory: pytest.TempPathFactory) -> tuple[HarvestSpec, Path]:
    data_dir = tmp_path_factory.mktemp("harvest")
    spec = HarvestSpec(n=6, seed=7001)
    return spec, harvest(spec, data_dir, workers=1)


def test_harvest_keeps_labelled_glyphs_the_reader_cut(small_harvest) -> None:
    spec, path = small_harvest
    assert path == harvest_path(spec, path.parent)
    images, labels = load_harvest(path)
    manifest = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    counts = manifest["counts"]
    assert images.dtype == np.uint8 and images.shape[1:] == (28, 28)
    assert len(images) == len(labels) == counts["glyphs"] > 0
    assert counts["fields_kept"] + counts["fields_other_count"] == counts["fields"]
    assert set(labels.tolist()) <= set(range(len(LABELS)))
    assert sum(manifest["per_class"].values()) == len(labels)
    assert (labels < 10).mean() > 0.5  # mostly digits, as pages are
    assert (images.reshape(len(images), -1).max(1) > 128).all()  # every glyph has ink
    assert path.name.endswith(manifest["model_sha256"][:12] + ".npz")
    # a second call finds the file instead of reading the pages again
    assert harvest(spec, path.parent) == path


def test_training_set_takes_harvested_glyphs_after_the_rest(tmp_path: Path, small_harvest) -> None:
    spec, path = small_harvest
    write_fake_mnist(tmp_path)
    (tmp_path / path.name).write_bytes(path.read_bytes())
    tiny = RenderSpec(digits_per_class=1, symbols_per_class=1, rejects=2)
    cfg = DataConfig(data_dir=tmp_path, train_render=tiny, valid_render=tiny, harvest=spec)
    dm = GlyphDataModule(cfg)
    dm.setup("fit")
    ds = dm.train_set
    assert isinstance(ds, TrainGlyphs)
    images, labels = load_harvest(path)
    assert len(ds) == 200 + len(tiny.class_plan()) + len(labels)
    x, y = ds[len(ds) - 1]
    assert y == int(labels[-1]) and x.shape == torch.Size([1, 28, 28])
    assert abs(float(x.sum()) - images[-1].sum() / 255.0) < 0.2 * images[-1].sum() / 255.0 + 1
    assert dm.data_hashes()["harvest_sha256"] == harvest_digest(images, labels)


def test_harvest_digest_follows_the_glyphs_not_the_file(tmp_path: Path, small_harvest) -> None:
    _, path = small_harvest
    images, labels = load_harvest(path)
    again = tmp_path / "again.npz"
    np.savez_compressed(again, images=images, labels=labels)  # another write, same glyphs
    assert harvest_digest(*load_harvest(again)) == harvest_digest(images, labels)
    changed = images.copy()
    changed[0, 0, 0] ^= 1
    assert harvest_digest(changed, labels) != harvest_digest(images, labels)
    assert json.loads(path.with_suffix(".json").read_text())["content_sha256"] == harvest_digest(
        images, labels
    )


def test_missing_harvest_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="hdr data harvest"):
        load_harvest(tmp_path / "harvest-seed1-n1-x.npz")


def test_train_config_reads_a_harvest_block(tmp_path: Path) -> None:
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(
        "seed: 3\ndata:\n  harvest: {n: 10, seed: 7002, reader: models/x.onnx}\n", encoding="utf-8"
    )
    cfg = load_train_config(cfg_file)
    assert cfg.data.harvest == HarvestSpec(n=10, seed=7002, reader="models/x.onnx")


def test_training_makes_a_missing_harvest_once(tmp_path: Path) -> None:
    from hdr.train.run import prepare_harvest

    spec = HarvestSpec(n=1, seed=7003)
    cfg = DataConfig(data_dir=tmp_path, harvest=spec)
    assert prepare_harvest(DataConfig(data_dir=tmp_path)) is None  # no harvest in the config
    seconds = prepare_harvest(cfg)
    assert seconds is not None and seconds > 0
    assert harvest_path(spec, tmp_path).exists()
    assert prepare_harvest(cfg) is None  # found, not made again


def test_shipped_recipe_reads_its_harvest_with_a_committed_pinned_model() -> None:
    from hdr.classify.predictor import sha256_file
    from hdr.datasets.harvest import reader_of

    spec = load_train_config(None).data.harvest
    assert spec is not None and spec.seed not in (1001, 9001, 9002, 9003, 9004, 9300)
    path, pinned = reader_of(spec)
    assert path.is_file() and sha256_file(path) == pinned


def test_the_manifest_records_the_code_and_a_harvest_of_other_code_is_named(
    tmp_path: Path, small_harvest, caplog: pytest.LogCaptureFixture
) -> None:
    spec, path = small_harvest
    manifest = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert manifest["code_sha256"] == code_digest()
    shutil.copy(path, tmp_path / path.name)
    manifest["code_sha256"] = "0" * 64  # as if made before a change to the segmenter
    (tmp_path / path.name).with_suffix(".json").write_text(json.dumps(manifest), "utf-8")
    with caplog.at_level(logging.WARNING, logger="hdr.datasets.harvest"):
        assert harvest(spec, tmp_path) == tmp_path / path.name  # used as it is, not rebuilt
    assert "other reading code (000000000000)" in caplog.text and "--force" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hdr.datasets.harvest"):
        harvest(spec, path.parent)
    assert "other reading code" not in caplog.text


def test_the_code_digest_follows_the_reading_code_not_the_training_code(tmp_path: Path) -> None:
    (tmp_path / "segment").mkdir()
    (tmp_path / "train").mkdir()
    (tmp_path / "segment" / "cut.py").write_text("A = 1\n", "utf-8")
    (tmp_path / "train" / "fit.py").write_text("B = 1\n", "utf-8")
    before = code_digest(tmp_path)
    (tmp_path / "train" / "fit.py").write_text("B = 2\n", "utf-8")
    assert code_digest(tmp_path) == before
    (tmp_path / "segment" / "cut.py").write_text("A = 2\n", "utf-8")
    assert code_digest(tmp_path) != before
