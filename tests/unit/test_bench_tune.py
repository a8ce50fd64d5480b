"""bench/tune.py chooses thresholds that keep the tuning set's confident misreads out, and
writes them so that they still do."""

from __future__ import annotations

from pathlib import Path

import pytest

import bench.tune
from bench.tune import Row, before_misreads, choose, rates, threshold_text, write_config
from hdr.config import load_pipeline_config


def _row(confidence: float, right: bool) -> Row:
    return Row("amount", "10.00", "10.00" if right else "70.00", confidence, True, (), "x")


def test_the_written_threshold_still_leaves_the_misread_out() -> None:
    rows = [
        *[_row(0.999960, True)] * 1200,
        _row(0.999012, True),
        _row(0.999010, False),
        _row(0.99, True),
    ]
    t = choose(rows, 0.003)
    assert t == 0.999012  # 1,201 fields without a misread; with it, 1 in 1,202 is too few
    written = float(threshold_text(t))
    assert rates(rows, written) == (1203, 1201, 0)  # four decimals (0.9990) would let it back in
    assert rates(rows, round(t, 4))[2] == 1


def test_the_bound_matches_the_exact_binomial_one() -> None:
    from bench.tune import binomial_cdf, misread_bound

    # no misread: the bound solves (1 - p)^n = 1 - confidence
    assert misread_bound(1000, 0) == pytest.approx(1 - 0.05 ** (1 / 1000), rel=1e-6)
    # with misreads, the chance of seeing at most that many at the bound is 1 - confidence
    for n, k in ((1566, 2), (413, 2), (940, 1)):
        bound = misread_bound(n, k)
        assert binomial_cdf(k, n, bound) == pytest.approx(0.05, rel=1e-4)
        assert bound > k / n
    assert misread_bound(1566, 2) == pytest.approx(0.00402, abs=5e-5)  # a 0.13 % share
    assert misread_bound(2000, 1) < misread_bound(1000, 1) < misread_bound(1000, 2)
    assert misread_bound(0, 0) == 1.0 and misread_bound(5, 5) == 1.0
    assert misread_bound(1000, 0, confidence=0.5) < misread_bound(1000, 0, confidence=0.99)


def test_a_misread_is_let_in_only_behind_enough_right_fields() -> None:
    top = [_row(0.999, True)] * 1000
    # one misread, then 700 right fields: 1 in 1,701 bounds the rate at 0.28 %
    assert choose([*top, _row(0.998, False), *[_row(0.997, True)] * 700], 0.003) == 0.997
    # ...but not behind 300: 1 in 1,301 bounds it at 0.36 %, so the threshold stays over it
    assert choose([*top, _row(0.998, False), *[_row(0.997, True)] * 300], 0.003) == 0.999


def test_every_clean_field_is_accepted_only_when_enough_of_them_vouch_for_it() -> None:
    many = [_row(0.5 + 0.4 * i / 1100, True) for i in range(1100)]
    assert rates(many, float(threshold_text(choose(many, 0.003)))) == (1100, 1100, 0)
    few = [_row(0.9, True), _row(0.5, True), _row(0.7, True)]
    assert choose(few, 0.003) == 1.0  # three right fields say little about a 0.3 % rate
    with pytest.raises(ValueError):
        choose(few, 0.003, confidence=1.0)


def test_the_curve_counts_the_fields_accepted_before_each_misread() -> None:
    rows = [
        _row(0.99, True),
        _row(0.98, False),
        _row(0.97, True),
        _row(0.96, True),
        _row(0.95, False),
        _row(0.5, False),
    ]
    assert before_misreads(rows) == [1, 3, 3]
    assert before_misreads(rows, count=1) == [1]


def test_each_set_held_out_is_judged_by_a_threshold_chosen_on_the_others() -> None:
    from dataclasses import replace

    from bench.tune import cross_check, set_of

    def rows(name: str, confidences: list[float], misread_at: float) -> list[Row]:
        good = [
            replace(_row(c, True), source=f"{name}/doc_{i}.png#0")
            for i, c in enumerate(confidences)
        ]
        return [*good, replace(_row(misread_at, False), source=f"{name}/bad.png#0")]

    s1 = rows("s1", [0.999] * 1100 + [0.98] * 100, 0.995)
    s2 = rows("s2", [0.999] * 1100 + [0.98] * 100, 0.97)
    assert set_of(s1[0]) == "s1" and set_of(_row(0.9, True)) == ""
    got = cross_check(s1 + s2, 0.003)
    # s1 alone keeps its misread (0.995) out: 0.999. s2 alone can let 0.98 in, over its own
    # misread (0.97), and on s1 that threshold lets s1's misread through
    assert got == [("s1", 0.98, 1201, 1201, 1), ("s2", 0.999, 1201, 1100, 0)]
    assert cross_check(s1, 0.003) == []  # one set: nothing to hold out


def test_writing_the_thresholds_keeps_the_other_decision_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "pipeline.yaml"
    config.write_text(
        "decision:  # old\n  accept_amount: 0.5\n  accept_account: 0.5\n"
        "  min_glyph_prob: 0.5000\n  split_penalty: 0.95  # chosen by hand\n"
        "model:\n  path: models/digits.onnx\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(bench.tune, "DEFAULT_PIPELINE_CONFIG", config)
    write_config({"amount": 0.999212, "account": 0.994196}, 0.9, "tune")
    decision = load_pipeline_config(config).decision
    assert (decision.accept_amount, decision.accept_account) == (0.999212, 0.994196)
    assert decision.min_glyph_prob == 0.9 and decision.split_penalty == 0.95
    assert config.read_text(encoding="utf-8").count("split_penalty") == 1


def test_the_report_names_the_line_reader_that_read(tmp_path: Path) -> None:
    from bench.tune import model_note
    from hdr.classify.predictor import sha256_file

    cfg = load_pipeline_config()
    assert cfg.line_model is not None
    configured = model_note()
    assert cfg.line_model.path in configured and str(cfg.line_model.sha256)[:12] in configured
    other = tmp_path / "candidate.onnx"
    other.write_bytes(b"not the configured reader")
    named = model_note(None, other)  # `--line-model`: the report names it, not the pinned one
    assert str(other) in named and sha256_file(other)[:12] in named
    assert str(cfg.line_model.sha256)[:12] not in named


def test_several_seeds_are_read_as_one_tuning_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--seed 1001,1002``: each seed's set is made (under the data directory) and read, and
    every row says which set it came from; the thresholds are chosen on all of them."""
    from bench.tune import read_sets
    from hdr.config import Settings
    from hdr.synth.truth import read_truth

    (tmp_path / "mnist.npz").symlink_to(Settings().data_dir / "mnist.npz")  # as `make setup` made
    monkeypatch.setenv("HDR_DATA_DIR", str(tmp_path))
    rows = read_sets(None, 2, [1001, 1002])
    made = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert len(made) == 2 and all("-n2-g" in name for name in made), made
    for seed in (1001, 1002):
        (folder,) = tmp_path.glob(f"tune-seed{seed}-n2-*")
        truth = {f"{t.file}#{t.page}": t for t in read_truth(folder / "truth.jsonl")}
        mine = [r for r in rows if r.source.startswith(f"s{seed}/")]
        assert mine, seed
        for r in mine:
            assert r.truth == getattr(truth[r.source.split("/", 1)[1]], r.field)
    assert len(rows) == sum(r.source.startswith(("s1001/", "s1002/")) for r in rows)
    assert 0.0 <= choose(rows, 0.0015) <= 1.0


def test_thresholds_are_chosen_again_from_saved_rows_without_reading(tmp_path: Path) -> None:
    """``--rows F`` then ``--from-rows F``: the same rows back, and the choice made on them
    again at another confidence in seconds; writing the config from them is refused."""
    import subprocess
    import sys

    from bench.tune import REPO, load_rows, save_rows

    rows = [*[_row(0.999, True)] * 1000, _row(0.998, False), *[_row(0.997, True)] * 300]
    rows.append(Row("account", "12345678", "12345678", 0.99, False, ("low_confidence",), "y"))
    saved = tmp_path / "rows.json"
    save_rows(saved, rows)
    assert load_rows(saved) == rows
    script = [sys.executable, str(REPO / "bench" / "tune.py"), "--from-rows", str(saved)]
    strict = subprocess.run(script, capture_output=True, text=True, check=True).stdout
    loose = subprocess.run(
        [*script, "--confidence", "0.5"], capture_output=True, text=True, check=True
    ).stdout
    assert "| amount | 0.999000 |" in strict  # 1 misread in 1,301: not at 95 %
    assert "| amount | 0.997000 |" in loose and "--confidence 0.5" in loose
    refused = subprocess.run([*script, "--write"], capture_output=True, text=True)
    assert refused.returncode == 2 and "--from-rows reports only" in refused.stderr
