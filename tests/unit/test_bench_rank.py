"""bench/rank.py: other rankings of the tuning rows, counted as bench/tune.py counts its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.rank import (
    changed_glyphs,
    error_kind,
    error_table,
    load_rows,
    log_odds,
    rankings,
    source_report,
    table,
)
from bench.tune import Row, before_misreads

REPO = Path(__file__).resolve().parents[2]


def _row(confidence: float, line: float | None, right: bool, field: str = "amount") -> Row:
    value = "10.00" if right else "70.00"
    return Row(field, "10.00", value, confidence, True, (), "x", "10", line)


ROWS = [
    _row(0.999, 0.10, False),  # the glyph reader's surest field is a misread the line reader doubts
    _row(0.998, 0.90, True),
    _row(0.997, 0.80, True),
    _row(0.996, 0.95, True),
    _row(0.990, 0.20, False),
    _row(0.980, 0.99, True),
]


def test_each_ranking_counts_the_fields_before_each_misread() -> None:
    scores = rankings()
    assert before_misreads(ROWS, 5, scores["glyph"]) == [0, 3]
    assert before_misreads(ROWS, 5, scores["line"]) == [4, 4]
    # the glyph reader's own ranking is the default one
    assert before_misreads(ROWS, 5) == before_misreads(ROWS, 5, scores["glyph"])
    combined = before_misreads(ROWS, 5, scores["glyph+1*line"])
    assert combined[0] > 0


def test_log_odds_stay_finite_and_ordered() -> None:
    values = [log_odds(p) for p in (None, 0.0, 0.3, 0.5, 0.9, 1.0)]
    assert values == sorted(values)
    assert values[3] == 0.0
    assert all(abs(v) < 100 for v in values)


def test_rows_written_by_tune_are_read_back_and_tabled(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps([r.__dict__ for r in ROWS], indent=0), encoding="utf-8")
    assert load_rows(path) == ROWS
    lines = table(ROWS)
    assert "| amount | glyph | 6 | 0, 3 |" in lines
    assert "| amount | line | 6 | 4, 4 |" in lines
    assert any(line.startswith("| account | glyph | 0 |") for line in lines)
    out = subprocess.run(
        [sys.executable, str(REPO / "bench" / "rank.py"), str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "| amount | line | 6 | 4, 4 |" in out


def test_wrong_readings_are_counted_by_kind() -> None:
    assert error_kind("0123", "0128") == "1 digits changed"
    assert error_kind("4767.50", "476750.00") == "2 digits added"
    assert error_kind("27920211016", "2792021016") == "1 digits lost"
    assert error_kind("12", None) == "no value"
    rows = [*ROWS, Row("account", "0123", None, 0.0, False, ("field_empty",), "y")]
    lines = error_table(rows)
    assert "| amount | 6 | 2 | 1 digits changed 2 |" in lines
    assert "| account | 1 | 1 | no value 1 |" in lines


def test_a_digit_read_as_another_is_traced_to_the_glyph_written() -> None:
    written = [("₹", "pen"), ("5", "mnist-test:1"), ("9", "mnist-test:2"), ("5", "font:x.ttf")]
    assert changed_glyphs("545.00", "595.00", written) == [("9", "4", "mnist-test:2")]
    # an amount written without cents: its 00 are the parser's, after the digits written
    assert changed_glyphs("595.01", "595.00", written) == [("0", "1", "?")]
    assert changed_glyphs("5950.00", "595.00", written) is None  # a digit added: no glyph to name
    assert changed_glyphs("595.00", "595.00", written) == []


def test_the_surest_misreads_are_traced_into_their_set(tmp_path: Path) -> None:
    """Rows name their set (``s1005/doc_0001.jpg#0``); the truth of that set names the digits."""
    folder = tmp_path / "tune-seed1005-n1-g3"
    folder.mkdir()
    (folder / "truth.jsonl").write_text(
        (REPO / "tests" / "resources" / "sample" / "truth.jsonl").read_text("utf-8").splitlines()[0]
        + "\n",
        encoding="utf-8",
    )
    source = "s1005/doc_0001.jpg#0"
    rows = [
        Row("account", "008708993", "008708998", 0.99, True, (), source),  # the 3, from a font
        Row("account", "008708993", "008108993", 0.98, True, (), source),  # the 7, from MNIST
        Row("account", "008708993", "008108993", 0.97, False, ("readers_disagree",), source),
        Row("account", "008708993", "00870899", 0.96, True, (), source),  # a digit lost
    ]
    lines = source_report(rows, 10, None, tmp_path)
    text = "\n".join(lines)
    assert "| account | 0.990000 | 008708998 | 008708993 | 3 as 8 (font:BecauseWeMentor" in text
    assert "7 as 1 (mnist-test:1660)" in text
    assert "0.970000" not in text  # a person sees it whatever the threshold: not listed
    assert "(lengths differ)" in text
    assert "2 of these misreads have digits read as another" in text
