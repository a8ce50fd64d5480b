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
