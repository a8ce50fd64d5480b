"""`hdr train digits` and `hdr eval digits` as a person runs them: exit statuses, one-line errors,
and the JSON line that scripts read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hdr.config import load_pipeline_config
from hdr.errors import ExitCode
from tests.helpers.fake_mnist import TINY_TRAIN_CONFIG, write_fake_mnist

pytestmark = pytest.mark.integration

HDR = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "hdr"


def hdr(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HDR_DATA_DIR": str(data_dir)}
    exe = [str(HDR)] if HDR.exists() else ["python", "-m", "hdr"]
    return subprocess.run(
        [*exe, *args], capture_output=True, text=True, env=env, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def fake_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cli")
    write_fake_mnist(root / "data")
    cfg = root / "tiny.yaml"
    cfg.write_text(TINY_TRAIN_CONFIG, encoding="utf-8")
    return root / "data", cfg


def test_eval_without_data_is_one_line_with_a_reason(tmp_path: Path) -> None:
    proc = hdr("eval", "digits", data_dir=tmp_path)
    assert proc.returncode == ExitCode.DATA
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "[data_missing]" in lines[0] and "hdr data fetch" in lines[0]


def test_train_without_data_is_one_line_with_a_reason(tmp_path: Path) -> None:
    proc = hdr("train", "digits", "--fast-dev-run", "--out", str(tmp_path / "m"), data_dir=tmp_path)
    assert proc.returncode == ExitCode.DATA
    assert "[data_missing]" in proc.stderr and "Traceback" not in proc.stderr


def test_synth_without_data_is_one_line_with_a_reason_not_a_hang(tmp_path: Path) -> None:
    """The generator's worker processes raise the error; it must reach the parent whole (it
    once failed to unpickle there, and the pool waited for ever)."""
    env = {**os.environ, "HDR_DATA_DIR": str(tmp_path)}
    exe = [str(HDR)] if HDR.exists() else ["python", "-m", "hdr"]
    cmd = [*exe, "synth", "--out", str(tmp_path / "set"), "--n", "4", "--workers", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == ExitCode.DATA
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "[data_missing]" in lines[0] and "hdr data fetch" in lines[0]


def test_eval_refuses_a_model_that_is_not_the_pinned_one(
    tmp_path: Path, repo_root: Path, fake_data: tuple[Path, Path]
) -> None:
    model = tmp_path / "digits.onnx"
    shutil.copy(repo_root / "models" / "digits.onnx", model)
    shutil.copy(repo_root / "models" / "digits.card.json", tmp_path / "digits.card.json")
    proc = hdr(
        "eval", "digits", "--model", str(model), "--sha256", "ab" * 32, data_dir=fake_data[0]
    )
    assert proc.returncode == ExitCode.MODEL
    assert "[model_hash_mismatch]" in proc.stderr and "Traceback" not in proc.stderr
    missing = hdr("eval", "digits", "--model", str(tmp_path / "none.onnx"), data_dir=fake_data[0])
    assert missing.returncode == ExitCode.MODEL and "[model_missing]" in missing.stderr


def test_eval_json_last_line_is_the_report(
    tmp_path: Path, repo_root: Path, fake_data: tuple[Path, Path]
) -> None:
    data_dir, cfg = fake_data
    ev = hdr("eval", "digits", "--config", str(cfg), "--json", data_dir=data_dir)
    assert ev.returncode == 0, ev.stderr
    assert "MNIST test: accuracy" in ev.stdout and "glyphs/s" in ev.stdout
    report = json.loads(ev.stdout.strip().splitlines()[-1])
    for key in ("mnist_test_accuracy", "ece", "nondigit_as_digit_rate", "digits_per_second"):
        assert isinstance(report[key], float)
    assert report["mnist_test_n"] == 60  # the fake test split, not the real one
    assert report["mnist_test_accuracy"] >= 0.9  # font digits: the shipped model reads them
    assert set(report["rendered_per_class_accuracy"]) >= {"₹", "€", "reject"}
    assert report["model_sha256"] == load_pipeline_config().model.sha256


@pytest.mark.slow
def test_train_fast_dev_run_writes_a_model_eval_accepts(
    tmp_path: Path, fake_data: tuple[Path, Path]
) -> None:
    data_dir, cfg = fake_data
    out = tmp_path / "models"
    train = hdr(
        "train",
        "digits",
        "--config",
        str(cfg),
        "--out",
        str(out),
        "--fast-dev-run",
        "--no-progress",
        data_dir=data_dir,
    )
    assert train.returncode == 0, train.stderr
    assert "model.sha256:" in train.stdout
    assert {p.name for p in out.iterdir()} >= {"digits.onnx", "digits.pt", "digits.card.json"}
    ev = hdr(
        "eval",
        "digits",
        "--model",
        str(out / "digits.onnx"),
        "--config",
        str(cfg),
        "--json",
        data_dir=data_dir,
    )
    assert ev.returncode == 0, ev.stderr
    assert json.loads(ev.stdout.strip().splitlines()[-1])["backend"] == "onnx"


def test_train_lines_with_a_broken_recipe_is_one_line_with_a_reason(tmp_path: Path) -> None:
    recipe = tmp_path / "lines.yaml"
    recipe.write_text("data:\n  lines: {n: 10, colour: blue}\n", encoding="utf-8")
    proc = hdr("train", "lines", "--config", str(recipe), "--out", str(tmp_path), data_dir=tmp_path)
    assert proc.returncode == ExitCode.CONFIG
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "[config_invalid]" in lines[0] and "lines.yaml" in lines[0]
    assert not (tmp_path / "lines.onnx").exists()


def test_train_init_option_starts_from_the_given_card(
    tmp_path: Path, fake_data: tuple[Path, Path]
) -> None:
    data, cfg = fake_data
    first = hdr(
        "train", "digits", "--config", str(cfg), "--fast-dev-run", "--no-progress",
        "--out", str(tmp_path / "a"), data_dir=data,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    card = json.loads((tmp_path / "a" / "digits.card.json").read_text(encoding="utf-8"))
    again = hdr(
        "train", "digits", "--config", str(cfg), "--fast-dev-run", "--no-progress",
        "--init", str(tmp_path / "a" / "digits.card.json"), "--out", str(tmp_path / "b"),
        data_dir=data,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    tuned = json.loads((tmp_path / "b" / "digits.card.json").read_text(encoding="utf-8"))
    assert tuned["training"]["init_state_dict_sha256"] == card["files"]["state_dict"]["sha256"]
    missing = hdr(
        "train", "digits", "--config", str(cfg), "--fast-dev-run", "--no-progress",
        "--init", str(tmp_path / "none.card.json"), "--out", str(tmp_path / "c"), data_dir=data,
    )  # fmt: skip
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
