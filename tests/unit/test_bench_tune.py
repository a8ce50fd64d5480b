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
    rows = [_row(0.999960, True), _row(0.999012, True), _row(0.999010, False), _row(0.99, True)]
    t = choose(rows, 0.0015)
    assert t == 0.999012
    written = float(threshold_text(t))
    assert rates(rows, written) == (4, 2, 0)  # four decimals (0.9990) would let it back in
    assert rates(rows, round(t, 4))[2] == 1


def test_no_misread_means_every_clean_field_is_accepted() -> None:
    rows = [_row(0.9, True), _row(0.5, True), _row(0.7, True)]
    assert rates(rows, float(threshold_text(choose(rows, 0.0015)))) == (3, 3, 0)


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

    def rows(name: str, misread_at: float) -> list[Row]:
        good = [
            replace(_row(c, True), source=f"{name}/doc_{i}.png#0")
            for i, c in enumerate((0.9999, 0.999, 0.99, 0.98, 0.97))
        ]
        return [*good, replace(_row(misread_at, False), source=f"{name}/bad.png#0")]

    both = rows("s1", 0.995) + rows("s2", 0.96)
    assert set_of(both[0]) == "s1" and set_of(_row(0.9, True)) == ""
    got = cross_check(both, 0.0)
    # s2's own misread (0.96) lies under the threshold s1 alone chose (0.999): it holds there;
    # s1's (0.995) lies over the one s2 alone chose (0.97): one misread gets through
    assert got == [("s1", 0.97, 6, 6, 1), ("s2", 0.999, 6, 2, 0)]
    assert cross_check(rows("s1", 0.995), 0.0) == []  # one set: nothing to hold out


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
