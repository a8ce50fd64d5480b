"""bench/tune.py chooses thresholds that keep the tuning set's confident misreads out, and
writes them so that they still do."""

from __future__ import annotations

from bench.tune import Row, before_misreads, choose, rates, threshold_text


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
