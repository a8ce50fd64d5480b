"""End to end over the committed sample (tests/resources/sample): `hdr read` against truth.jsonl.

One `hdr read --jsonl` process reads the 20 files (22 pages: PNG, JPEG, bilevel TIFF, multi-page
PDF; templated and unseen layouts; every hard case). Tolerances, stated once:

- every page gets a line, none has status ``error``;
- every hard-case page gets exactly the status its truth expects (review, or rejected for the
  page that is not a bank document): a person must see each one;
- no accepted field is wrong: a misread that nobody reviews is the costly failure;
- at most 2 wrong values per field over the sample's 13 amounts and 17 accounts. The 97 % /
  98 % targets are measured on 500 fresh documents by bench/read.py; on 13 fields one unlucky
  glyph is already 8 %, so this test only guards against a broken stage.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hdr.assemble.decide import blocking
from hdr.config import load_pipeline_config
from hdr.synth.truth import TruthRecord, read_truth

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "sample"
# At most this many wrong or missing values per field on the sample. When the test was written,
# 6 of 13 amounts and 8 of 17 accounts were (it was marked xfail); amounts met it with the
# ensemble model (2026-12-04), accounts with the sample made again by generator version 3 and
# account crops widened over cut handwriting (sixteenth session), so nothing is marked now.
MAX_WRONG_PER_FIELD = 2


@pytest.fixture(scope="module")
def read() -> list[tuple[TruthRecord, dict]]:
    truth = {(r.file, r.page): r for r in read_truth(SAMPLE / "truth.jsonl")}
    run = subprocess.run(
        [sys.executable, "-m", "hdr", "read", "--jsonl", str(SAMPLE)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    assert run.returncode == 0, run.stderr
    pairs = [(truth[(Path(x["source"]).name, x["page"])], x) for x in lines]
    assert sorted((t.file, t.page) for t, _ in pairs) == sorted(truth)
    return pairs


def test_every_page_is_read(read) -> None:
    assert all(line["status"] != "error" for _, line in read)


def test_hard_cases_get_the_status_their_truth_expects(read) -> None:
    wrong = [
        f"{t.file}#{t.page} {t.hard_case}: {line['status']} {line['reasons']}"
        for t, line in read
        if t.hard_case and line["status"] != t.expected_status
    ]
    assert not wrong


def test_no_accepted_field_is_wrong(read) -> None:
    decision = load_pipeline_config().decision
    misreads = []
    for t, line in read:
        for name, field in line["fields"].items():
            accepted = field["value"] is not None and not blocking(field["flags"], decision)
            if accepted and field["value"] != getattr(t, name):
                misreads.append(f"{t.file}#{t.page} {name}: {field['value']} != {getattr(t, name)}")
    assert not misreads


@pytest.mark.parametrize("name", ["amount", "account"])
def test_values_match_the_truth(read, name: str) -> None:
    fields = [(getattr(t, name), line["fields"][name]["value"]) for t, line in read]
    wrong = [(want, got) for want, got in fields if want is not None and got != want]
    assert len(wrong) <= MAX_WRONG_PER_FIELD, wrong
