"""bench/real_cheques.py --model: another glyph model compared on the real cheques, report only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.tune import config_for
from hdr.classify.predictor import sha256_file

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "real_cheques.py"


def test_a_compared_model_never_writes_the_shipped_section(tmp_path: Path) -> None:
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n", encoding="utf-8")
    cmd = [sys.executable, str(SCRIPT), "--model", str(REPO / "models" / "digits.onnx")]
    proc = subprocess.run(
        [*cmd, "--write", str(doc)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode != 0
    assert "shipped model" in proc.stderr
    assert doc.read_text(encoding="utf-8") == "# Benchmarks\n"


def test_the_compared_model_is_read_pinned_to_its_own_hash() -> None:
    model = REPO / "models" / "reader-16e1d30e.onnx"
    cfg = config_for(model)
    assert Path(cfg.model.path) == model.resolve()
    assert cfg.model.sha256 == sha256_file(model)


def test_the_second_reading_requires_only_the_amount_and_keeps_the_rest() -> None:
    from bench.real_cheques import amount_only_config
    from hdr.config import load_pipeline_config

    shipped = load_pipeline_config()
    cfg = amount_only_config(None)
    assert cfg.decision.required_fields == ("amount",)
    assert shipped.decision.required_fields == ("amount", "account")
    same = cfg.decision.model_copy(update={"required_fields": shipped.decision.required_fields})
    assert same == shipped.decision and cfg.model == shipped.model
    compared = amount_only_config(config_for(REPO / "models" / "reader-16e1d30e.onnx"))
    assert compared.model.sha256 == sha256_file(REPO / "models" / "reader-16e1d30e.onnx")
