"""`hdr read` as a user runs it: a real process, JSON lines on stdout, an exit status that tells."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from hdr.synth import SynthOptions, generate
from hdr.synth.truth import TruthRecord

pytestmark = pytest.mark.integration

KEYS = ["source", "page", "status", "fields", "reasons", "sha256"]
STATUSES = {"accepted", "review", "rejected", "error"}


def _hdr(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hdr", "read", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        # a wide terminal: the table does not fold paths
        env={**os.environ, "COLUMNS": "250", **(env or {})},
    )


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[TruthRecord]]:
    out = tmp_path_factory.mktemp("docs")
    opts = SynthOptions(n=4, seed=7331, formats=("png", "pdf"), multipage_share=1.0, workers=1)
    return out, generate(out, opts)


def _check_field(name: str, field: dict) -> None:
    assert set(field) == {"value", "confidence", "flags"}
    assert 0.0 <= field["confidence"] <= 1.0
    assert isinstance(field["flags"], list)
    if field["value"] is not None:
        pattern = r"\d+\.\d\d" if name == "amount" else r"\d+"
        assert re.fullmatch(pattern, field["value"]), field


def test_jsonl_one_object_per_page_in_sorted_order(docs) -> None:
    folder, records = docs
    run = _hdr(folder, "--jsonl")
    assert run.returncode == 0, run.stderr
    lines = _lines(run.stdout)
    expected = sorted((r.file, r.page) for r in records)  # truth.jsonl itself is skipped
    assert [(Path(x["source"]).name, x["page"]) for x in lines] == expected
    for line in lines:
        assert list(line) == KEYS
        assert line["status"] in STATUSES - {"error"}
        assert set(line["fields"]) == {"amount", "account"}
        for name, field in line["fields"].items():
            _check_field(name, field)
        digest = hashlib.sha256(Path(line["source"]).read_bytes()).hexdigest()
        assert line["sha256"] == digest
    assert "skipped 1 file" in run.stderr


def test_broken_files_get_error_lines_and_exit_1_while_others_are_read(docs, tmp_path) -> None:
    folder, records = docs
    good = folder / records[0].file
    text = tmp_path / "letter.png"
    text.write_text("Dear bank, ...")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(good.read_bytes()[:2000])
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    run = _hdr(text, good, truncated, empty, "--jsonl")
    assert run.returncode == 1
    lines = _lines(run.stdout)
    by_source = {Path(x["source"]).name: x for x in lines}
    assert by_source["letter.png"]["reasons"] == ["unsupported_format"]
    assert by_source["cut.png"]["reasons"] == ["truncated_file"]
    assert by_source["empty.pdf"]["reasons"] == ["empty_file"]
    for name in ("letter.png", "cut.png", "empty.pdf"):
        assert by_source[name]["status"] == "error"
        assert by_source[name]["message"]  # a sentence for a person
    assert by_source[good.name]["status"] in STATUSES - {"error"}
    assert by_source[good.name]["fields"]["amount"]["confidence"] >= 0
    assert "3 of 4 input(s) could not be read" in run.stderr


def test_field_mode_and_debug_dir(docs, tmp_path) -> None:
    folder, records = docs
    record = next(r for r in records if r.format == "png" and r.amount is not None)
    x0, y0, x1, y1 = record.boxes["amount"]
    crop = tmp_path / "amount-crop.png"
    Image.open(folder / record.file).crop((x0, y0, x1, y1)).save(crop)
    debug = tmp_path / "debug"
    run = _hdr("--field", "amount", crop, "--jsonl", "--debug-dir", debug)
    assert run.returncode == 0, run.stderr
    (line,) = _lines(run.stdout)
    assert list(line["fields"]) == ["amount"]
    _check_field("amount", line["fields"]["amount"])
    (page_dir,) = debug.glob("amount-crop-*/page-0")
    assert {p.name for p in page_dir.iterdir()} >= {"page.png", "amount.png", "glyphs.json"}
    glyphs = json.loads((page_dir / "glyphs.json").read_text())
    for glyph in glyphs["amount"]["glyphs"]:
        assert len(glyph["top3"]) == 3
        assert sum(p for _, p in glyph["top3"]) <= 1.0001


def test_table_output_and_a_bad_field_name(docs) -> None:
    folder, records = docs
    run = _hdr(folder / records[0].file)
    assert run.returncode == 0, run.stderr
    assert records[0].file in run.stdout and "amount" in run.stdout
    assert any(status in run.stdout for status in ("accepted", "review"))
    bad = _hdr("--field", "date", folder / records[0].file)
    assert bad.returncode == 2
    assert "amount or account" in bad.stderr


def test_a_cheque_without_account_cells_needs_only_its_amount_when_configured(
    tmp_path: Path, repo_root: Path
) -> None:
    """`decision.required_fields: [amount]` in a config file given to `hdr read --config`: a
    cheque whose account row is not there (printed elsewhere, as on real cheques) is decided on
    its amount; with the shipped config the missing row sends it to a person."""
    import cv2

    sample = repo_root / "tests" / "resources" / "sample"
    truth = next(
        json.loads(line)
        for line in (sample / "truth.jsonl").read_text(encoding="utf-8").splitlines()
        if json.loads(line)["file"] == "doc_0015.jpg"
    )
    image = cv2.imread(str(sample / "doc_0015.jpg"))
    x0, y0, x1, y1 = truth["boxes"]["account"]
    image[y0 - 8 : y1 + 8, x0 - 8 : x1 + 8] = 255  # no account cells, no digits in them
    page = tmp_path / "no-account-cells.png"
    cv2.imwrite(str(page), image)
    shipped = (repo_root / "configs" / "pipeline.yaml").read_text(encoding="utf-8")
    assert "required_fields: [amount, account]" in shipped
    amount_only = tmp_path / "amount-only.yaml"
    amount_only.write_text(
        shipped.replace("required_fields: [amount, account]", "required_fields: [amount]"),
        encoding="utf-8",
    )
    # (model, templates and line reader are named relative to the repository)
    (default,) = _lines(_hdr("--jsonl", page).stdout)
    (optional,) = _lines(_hdr("--jsonl", "--config", amount_only, page).stdout)
    assert default["status"] == "review" and "field_not_found:account" in default["reasons"]
    assert optional["fields"]["account"]["flags"] == ["field_not_found:account"]
    assert optional["fields"]["amount"] == default["fields"]["amount"]
    assert optional["reasons"] == [r for r in default["reasons"] if r != "field_not_found:account"]
    # the amount is read right and sure on this page, so the page is accepted
    assert optional["fields"]["amount"]["value"] == truth["amount"]
    assert optional["status"] == "accepted", optional
    # the same config named by $HDR_PIPELINE_CONFIG (how flows and deployments choose it)
    run = _hdr("--jsonl", page, env={"HDR_PIPELINE_CONFIG": str(amount_only)})
    assert _lines(run.stdout)[0]["status"] == "accepted", run.stderr
