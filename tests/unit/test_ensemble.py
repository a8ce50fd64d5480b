"""`hdr train ensemble`: members combined into one model file that every backend reads alike."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hdr.classify.card import ModelCard
from hdr.classify.labels import LABELS
from hdr.classify.net import CalibratedNet, EnsembleNet, GlyphNet
from hdr.classify.predictor import load_classifier, sha256_file
from hdr.errors import ExitCode, ModelError, UsageError
from hdr.train.calibrate import softmax
from hdr.train.data_config import DataConfig
from hdr.train.ensemble import combine_models
from hdr.train.export import export_model
from tests.helpers.fake_mnist import TINY_TRAIN_CONFIG, write_fake_mnist

ARCH = {"widths": [8, 16, 16], "convs_per_block": [1, 1, 1], "hidden": 32, "dropout": 0.0}


def _member(folder: Path, seed: int, temperature: float) -> Path:
    torch.manual_seed(seed)
    net = GlyphNet(**ARCH)
    card = ModelCard(labels=list(LABELS))
    card.architecture = dict(ARCH)
    card.training = {"command": f"member {seed}", "config": {"seed": seed}}
    return export_model(net, temperature, folder, card)["onnx"]


def _glyphs(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28), np.float32)
    for i in range(n):  # strokes, not uniform noise, so the members disagree in earnest
        r, c = rng.integers(4, 24, 2)
        x[i, r - 3 : r + 3, 4:24] = 1.0 if i % 2 else 0.0
        x[i, 4:24, c - 2 : c + 2] = 1.0
    return x + rng.random(x.shape, dtype=np.float32) * 0.1


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("members")
    return [_member(root / "a", 1, 0.7), _member(root / "b", 2, 1.3)]


@pytest.fixture(scope="module")
def ensemble(members: list[Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    x = _glyphs(400, 0)
    y = np.arange(400) % 20
    out = tmp_path_factory.mktemp("ens")
    return combine_models(
        members, out, DataConfig(), command="pytest", calibration=(x, y), evaluate=False
    )


def test_the_ensemble_is_the_recalibrated_mean_of_its_members(
    members: list[Path], ensemble: dict
) -> None:
    x = _glyphs(32, 5)
    each = [load_classifier(m).predict_proba(x).astype(np.float64) for m in members]
    expected = softmax(np.log(np.mean(each, axis=0)), ensemble["temperature"])
    got = load_classifier(ensemble["paths"]["onnx"]).predict_proba(x)
    np.testing.assert_allclose(got, expected, atol=2e-5)
    assert not np.allclose(each[0], each[1], atol=1e-3), "members must differ for this to mean much"
    assert ensemble["temperature"] > 0


def test_onnx_and_torch_backends_agree_on_the_ensemble(ensemble: dict) -> None:
    x = _glyphs(16, 9)
    onnx = load_classifier(ensemble["paths"]["onnx"], backend="onnx")
    pt = load_classifier(ensemble["paths"]["onnx"], backend="torch")
    assert pt.backend == "torch"
    np.testing.assert_allclose(onnx.predict_proba(x), pt.predict_proba(x), atol=1e-5)


def test_the_card_names_every_member_and_pins_the_files(
    members: list[Path], ensemble: dict
) -> None:
    paths = ensemble["paths"]
    card = ModelCard.read(paths["card"])
    assert card.files["onnx"]["sha256"] == sha256_file(paths["onnx"])
    assert card.files["state_dict"]["sha256"] == sha256_file(paths["state_dict"])
    assert card.architecture["members"] == [ARCH, ARCH]
    listed = [m["onnx_sha256"] for m in card.training["members"]]
    assert listed == [sha256_file(m) for m in members]
    assert [m["config"] for m in card.training["members"]] == [{"seed": 1}, {"seed": 2}]
    assert card.training["command"] == "pytest"
    # how long it took: the members' training (as their cards say) and the combining
    members_seconds = sum(float(m["seconds"] or 0.0) for m in card.training["members"])
    assert card.training["seconds"] >= members_seconds
    assert {"valid_acc", "valid_ece_before", "valid_ece_after"} <= set(card.metrics)
    # a plain state_dict that rebuilds the same network, temperatures included
    state = torch.load(paths["state_dict"], weights_only=True)
    net = EnsembleNet([CalibratedNet(GlyphNet(**ARCH), 1.0) for _ in range(2)], 1.0)
    net.load_state_dict(state)
    assert float(net.temperature) == pytest.approx(ensemble["temperature"])
    assert float(net.members[0].temperature) == pytest.approx(0.7)


def test_bad_member_lists_are_refused(members: list[Path], ensemble: dict, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="at least two"):
        combine_models(members[:1], tmp_path, DataConfig(), evaluate=False)
    with pytest.raises(UsageError, match="given twice"):
        combine_models([members[0], ensemble["paths"]["onnx"]], tmp_path, DataConfig())
    with pytest.raises(UsageError, match="overwrite its member"):
        combine_models(members, members[0].parent, DataConfig(), evaluate=False)


def test_an_ensemble_given_as_a_member_brings_its_members(
    members: list[Path], ensemble: dict, tmp_path: Path
) -> None:
    third = _member(tmp_path / "c", 3, 1.0)
    x = _glyphs(400, 0)
    y = np.arange(400) % 20
    flat = combine_models(
        [ensemble["paths"]["onnx"], third],
        tmp_path / "out",
        DataConfig(),
        command="pytest",
        calibration=(x, y),
        evaluate=False,
    )
    card = ModelCard.read(flat["paths"]["card"])
    assert card.architecture["members"] == [ARCH, ARCH, ARCH]  # flat, not nested
    listed = card.training["members"]
    assert [m["onnx_sha256"] for m in listed] == [sha256_file(m) for m in [*members, third]]
    assert [m["temperature"] for m in listed] == pytest.approx([0.7, 1.3, 1.0])
    assert [m["from"] for m in listed] == ["digits.onnx"] * 3
    assert [m["config"] for m in listed] == [{"seed": 1}, {"seed": 2}, {"seed": 3}]
    # what it reads: the recalibrated mean of the three networks' own probabilities
    probe = _glyphs(32, 5)
    each = [load_classifier(m).predict_proba(probe).astype(np.float64) for m in [*members, third]]
    expected = softmax(np.log(np.mean(each, axis=0)), flat["temperature"])
    got = load_classifier(flat["paths"]["onnx"]).predict_proba(probe)
    np.testing.assert_allclose(got, expected, atol=2e-5)


def test_one_network_of_an_ensemble_is_taken_with_path_hash_n(
    members: list[Path], ensemble: dict, tmp_path: Path
) -> None:
    third = _member(tmp_path / "c", 3, 1.0)
    x = _glyphs(400, 0)
    y = np.arange(400) % 20
    pair = combine_models(
        [third, f"{ensemble['paths']['onnx']}#1"],
        tmp_path / "out",
        DataConfig(),
        command="pytest",
        calibration=(x, y),
        evaluate=False,
    )
    listed = ModelCard.read(pair["paths"]["card"]).training["members"]
    # member 1 of the ensemble alone (the second network given to it), beside the new one
    assert [m["onnx_sha256"] for m in listed] == [sha256_file(m) for m in (third, members[1])]
    assert [m["from"] for m in listed] == ["digits.onnx", "digits.onnx#1"]
    probe = _glyphs(32, 5)
    each = [load_classifier(m).predict_proba(probe).astype(np.float64) for m in (third, members[1])]
    expected = softmax(np.log(np.mean(each, axis=0)), pair["temperature"])
    got = load_classifier(pair["paths"]["onnx"]).predict_proba(probe)
    np.testing.assert_allclose(got, expected, atol=2e-5)
    with pytest.raises(UsageError, match="no network 2"):
        combine_models([third, f"{ensemble['paths']['onnx']}#2"], tmp_path / "x", DataConfig())


def test_a_member_whose_weights_differ_from_its_card_is_refused(
    members: list[Path], tmp_path: Path
) -> None:
    copy = tmp_path / "m"
    shutil.copytree(members[1].parent, copy)
    state = torch.load(copy / "digits.pt", weights_only=True)
    first = next(iter(state))
    state[first] = state[first] + 1.0
    torch.save(state, copy / "digits.pt")
    with pytest.raises(ModelError) as err:
        combine_models([members[0], copy / "digits.onnx"], tmp_path / "out", DataConfig())
    assert err.value.code.value == "model_hash_mismatch"


@pytest.mark.integration
def test_cli_combines_and_the_result_is_evaluated(members: list[Path], tmp_path: Path) -> None:
    write_fake_mnist(tmp_path / "data")
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(TINY_TRAIN_CONFIG, encoding="utf-8")
    env = {**os.environ, "HDR_DATA_DIR": str(tmp_path / "data")}
    cmd = [sys.executable, "-m", "hdr", "train", "ensemble", *map(str, members)]
    cmd += ["--out", str(tmp_path / "out"), "--config", str(cfg)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "pin in configs/pipeline.yaml: model.sha256:" in proc.stdout
    card = json.loads((tmp_path / "out" / "digits.card.json").read_text(encoding="utf-8"))
    assert "mnist_test_accuracy" in card["metrics"] and "nondigit_as_digit_rate" in card["metrics"]
    one = subprocess.run(
        [*cmd[:5], str(members[0]), "--out", str(tmp_path / "o2")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert one.returncode == ExitCode.USAGE
    assert "[usage]" in one.stderr and "Traceback" not in one.stderr


def test_fine_tuning_can_start_from_one_member_of_an_ensemble(
    members: list[Path], ensemble: dict
) -> None:
    from hdr.errors import ConfigError
    from hdr.train.run import load_initial_weights

    card_file = Path(ensemble["paths"]["card"])
    for index, member in enumerate(members):
        net = GlyphNet(**ARCH)
        digest = load_initial_weights(net, card_file, member=index)
        assert digest == sha256_file(ensemble["paths"]["state_dict"])
        # the member's own weights, as its own state_dict holds them
        own = torch.load(member.with_suffix(".pt"), weights_only=True)
        for name, value in net.state_dict().items():
            assert torch.equal(value, own[name]), (index, name)
    with pytest.raises(ConfigError, match="no member 2"):
        load_initial_weights(GlyphNet(**ARCH), card_file, member=2)
    with pytest.raises(ConfigError):  # the whole ensemble is not one network
        load_initial_weights(GlyphNet(**ARCH), card_file)
