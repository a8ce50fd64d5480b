"""`fast_dev_run` through the whole training path: data, module, calibration, export, reload."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from hdr.classify.card import ModelCard
from hdr.classify.net import GlyphNet
from hdr.classify.predictor import load_classifier
from hdr.datasets.symbols import RenderSpec
from hdr.train.calibrate import expected_calibration_error, fit_temperature, softmax
from hdr.train.datamodule import DataConfig, EpochSampler, GlyphDataModule
from hdr.train.export import sha256_file
from hdr.train.module import GlyphClassifierModule
from hdr.train.run import load_train_config, train_digits
from tests.helpers.fake_mnist import TINY_TRAIN_CONFIG, write_fake_mnist


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("smoke")
    write_fake_mnist(root / "data")
    cfg_file = root / "tiny.yaml"
    cfg_file.write_text(TINY_TRAIN_CONFIG + f"  data_dir: {root / 'data'}\n", encoding="utf-8")
    cfg = load_train_config(cfg_file)
    return train_digits(cfg, root / "out", fast_dev_run=True, progress=False, command="pytest")


def test_fast_dev_run_writes_weights_onnx_and_card(trained: dict) -> None:
    paths = trained["paths"]
    card = ModelCard.read(paths["card"])
    assert card.files["onnx"]["sha256"] == sha256_file(paths["onnx"])
    assert card.architecture["widths"] == [8, 16, 16]
    assert card.training["fast_dev_run"] is True and card.training["command"] == "pytest"
    assert set(card.data_hashes) >= {"mnist_pickle_sha256", "rendered_train", "rendered_valid"}
    state = torch.load(paths["state_dict"], weights_only=True)
    net = GlyphNet(**card.architecture)
    net.load_state_dict(state)  # a plain state_dict: no pickled classes


def test_exported_onnx_and_torch_agree(trained: dict) -> None:
    x = np.random.default_rng(0).random((16, 28, 28), dtype=np.float32)
    onnx = load_classifier(trained["paths"]["onnx"], backend="onnx")
    pt = load_classifier(trained["paths"]["onnx"], backend="torch")
    np.testing.assert_allclose(onnx.predict_proba(x), pt.predict_proba(x), atol=1e-5)


def test_train_samples_are_reproducible_and_fresh_each_epoch(tmp_path: Path) -> None:
    write_fake_mnist(tmp_path)
    tiny = RenderSpec(digits_per_class=1, symbols_per_class=2, rejects=5)
    dm = GlyphDataModule(DataConfig(data_dir=tmp_path, train_render=tiny, valid_render=tiny))
    dm.setup("fit")
    ds = dm.train_set
    assert ds is not None
    n = len(ds)
    last = n - 1  # a rendered reject sample
    a, b = ds[last], ds[last]
    assert torch.equal(a[0], b[0]) and a[1] == b[1]
    assert not torch.equal(ds[last][0], ds[n + last][0]), "epoch 1 draws another sample"
    sampler = EpochSampler(n, seed=1)
    sampler.set_epoch(3)
    assert sorted(i - 3 * n for i in sampler) == list(range(n))


def test_temperature_scaling_fixes_overconfidence() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 4000)
    logits = rng.normal(0, 1, (4000, 5))
    logits[np.arange(4000), labels] += 2.0
    # With unit-variance noise and a +2 shift the true posterior is softmax(2 * logits), so
    # logits * 4 are twice too sharp: the fitted temperature must come out near 2.
    overconfident = logits * 4
    t = fit_temperature(overconfident, labels)
    assert 1.8 < t < 2.2
    before = expected_calibration_error(softmax(overconfident), labels)
    after = expected_calibration_error(softmax(overconfident, t), labels)
    assert after < 0.03 and before > 3 * after


def test_one_real_epoch_selects_a_checkpoint_and_reports_metrics(tmp_path: Path) -> None:
    write_fake_mnist(tmp_path / "data", n_train=64, n_eval=30)
    cfg_file = tmp_path / "tiny.yaml"
    cfg_file.write_text(TINY_TRAIN_CONFIG + f"  data_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    result = train_digits(load_train_config(cfg_file), tmp_path / "out", progress=False)
    card = result["card"]
    assert card.training["epochs"] == 1 and card.training["cpu_seconds"] > 0
    assert card.metrics["mnist_test_n"] == 30
    assert 0.0 <= card.metrics["nondigit_as_digit_rate"] <= 1.0
    assert card.metrics["digits_per_second"] > 0
    # Only the three model files: Lightning's checkpoints stay out of the output folder.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "digits.card.json",
        "digits.onnx",
        "digits.pt",
    ]


def test_fine_tuning_starts_from_the_pinned_weights(trained: dict, tmp_path: Path) -> None:
    from hdr.errors import ConfigError, ModelError
    from hdr.train.run import load_initial_weights

    card_file = Path(trained["paths"]["card"])
    card = ModelCard.read(card_file)
    net = GlyphNet(**card.architecture)
    digest = load_initial_weights(net, card_file)
    assert digest == card.files["state_dict"]["sha256"]
    saved = torch.load(trained["paths"]["state_dict"], weights_only=True)
    for name, value in net.state_dict().items():
        assert torch.equal(value, saved[name]), name

    with pytest.raises(ConfigError):  # another architecture than the card's weights
        load_initial_weights(
            GlyphNet(widths=[4, 8, 8], convs_per_block=[1, 1, 1], hidden=8), card_file
        )

    copy = tmp_path / "m"
    copy.mkdir()
    for key in ("card", "state_dict"):
        (copy / Path(trained["paths"][key]).name).write_bytes(
            Path(trained["paths"][key]).read_bytes()
        )
    weights = copy / Path(trained["paths"]["state_dict"]).name
    weights.write_bytes(weights.read_bytes() + b"\0")  # not the file the card pins
    with pytest.raises(ModelError) as err:
        load_initial_weights(GlyphNet(**card.architecture), copy / card_file.name)
    assert err.value.code.value == "model_hash_mismatch"


def test_train_config_init_resolves_and_is_recorded(tmp_path: Path, trained: dict) -> None:
    root = tmp_path
    write_fake_mnist(root / "data")
    cfg_file = root / "ft.yaml"
    cfg_file.write_text(
        TINY_TRAIN_CONFIG
        + f"  data_dir: {root / 'data'}\n"
        + f"init: {trained['paths']['card']}\n",
        encoding="utf-8",
    )
    cfg = load_train_config(cfg_file)
    assert cfg.init == Path(trained["paths"]["card"]) and cfg.init_member is None
    member_file = root / "member.yaml"
    member_file.write_text(cfg_file.read_text(encoding="utf-8") + "init_member: 1\n", "utf-8")
    assert load_train_config(member_file).init_member == 1
    out = train_digits(cfg, root / "out", fast_dev_run=True, progress=False, command="pytest")
    first = ModelCard.read(trained["paths"]["card"])
    assert out["card"].training["init_state_dict_sha256"] == first.files["state_dict"]["sha256"]
    assert out["card"].training["init_member"] is None


@pytest.mark.parametrize(
    "recipe",
    sorted((Path(__file__).resolve().parents[2] / "configs" / "train").glob("*.yaml")),
    ids=lambda p: p.name,
)
def test_every_recipe_in_the_repo_loads_and_builds_its_network(recipe: Path) -> None:
    # each recipe a benchmark cites must still parse, and build its module as training does
    if recipe.name.startswith("lines"):  # the line reader's recipe (hdr train lines)
        from hdr.train.line_module import LineReaderModule
        from hdr.train.line_run import load_line_config

        lines = load_line_config(recipe)
        logp = LineReaderModule(**lines.model).net.eval()(torch.zeros(2, 32, 384))
        assert logp.shape[0] == 2 and lines.trainer.get("max_epochs", 0) >= 1
        return
    cfg = load_train_config(recipe)
    net = GlyphClassifierModule(**cfg.model).net.eval()
    out = net(torch.zeros(2, 1, 28, 28))
    assert out.shape[0] == 2 and cfg.trainer.get("max_epochs", 0) >= 1
