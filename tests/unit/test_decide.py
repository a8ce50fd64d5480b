"""Decisions: a reject glyph or an unsure one never becomes an accepted value; page statuses.

The classifier here is a small stand-in that returns probabilities the test chooses, one row per
glyph in reading order, so the rules are tested apart from any model's mistakes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from hdr.assemble.amount import parse_amount
from hdr.assemble.decide import decide_field, decide_page, same_value_probs
from hdr.assemble.decode import decode
from hdr.classify.labels import LABELS, NUM_CLASSES, REJECT
from hdr.config import DecisionConfig, PipelineConfig
from hdr.recognize import recognize_fields
from hdr.types import FieldCrop, FieldResult, Status
from tests.helpers.fields import draw_field, font_digits

CFG = PipelineConfig()
DIGITS = font_digits(thickness=1)


def dist(label: str, p: float = 0.999, runner_up: str | None = None) -> np.ndarray:
    """A probability row: ``p`` on ``label``, the rest on ``runner_up`` (or spread thin)."""
    row = np.full(NUM_CLASSES, 1e-6)
    row[LABELS.index(label)] = p
    if runner_up is not None:
        row[LABELS.index(runner_up)] = 1.0 - p
    return row / row.sum()


@dataclass
class ScriptedClassifier:
    """Answers each glyph, in the order asked, with the next row of ``rows``; glyphs beyond the
    script (pieces of candidate cuts) are junk to it."""

    rows: list[np.ndarray]
    calls: list[int] = field(default_factory=list)

    def predict_proba(self, glyphs: np.ndarray) -> np.ndarray:
        self.calls.append(len(glyphs))
        out, self.rows = self.rows[: len(glyphs)], self.rows[len(glyphs) :]
        out += [dist(REJECT)] * (len(glyphs) - len(out))
        return np.stack(out) if out else np.zeros((0, NUM_CLASSES))


def amount_crop(text: str) -> FieldCrop:
    drawn = draw_field(text, DIGITS, gap=12)
    h, w = drawn.image.shape
    return FieldCrop("amount", drawn.image, (0, 0, w, h), "given")


def read_amount(text: str, rows: list[np.ndarray]) -> FieldResult:
    clf = ScriptedClassifier(rows)
    (result,) = recognize_fields([amount_crop(text)], clf, CFG)
    assert clf.calls[0] == len(text)  # one batched call for every glyph of the field
    return result


def test_sure_glyphs_give_an_accepted_value_with_everything_filled_in() -> None:
    clf = ScriptedClassifier([dist(d) for d in "1250"])
    (result,) = recognize_fields([amount_crop("1250")], clf, CFG)
    assert clf.calls == [4]  # sure glyphs: no second call for cuts
    assert (result.value, result.status) == ("1250.00", Status.ACCEPTED)
    assert result.confidence > 0.99
    assert result.raw_text == "1250"
    assert [g.label for g in result.glyphs] == list("1250")
    assert result.glyphs[0].topk[0] == ("1", pytest.approx(0.999, abs=1e-3))
    assert result.crop_png is not None and result.crop_png.startswith(b"\x89PNG")
    assert result.located_by == "given"


def test_a_reject_glyph_never_becomes_an_accepted_value() -> None:
    rows = [dist("1"), dist("2"), dist(REJECT, 0.9, "5"), dist("0")]
    result = read_amount("1250", rows)
    assert result.value is None
    assert result.status is Status.REVIEW
    assert "unexpected_symbol" in result.flags
    assert result.raw_text == "12?0"


def test_an_unsure_digit_sends_the_field_to_review() -> None:
    rows = [dist("1"), dist("2"), dist("5", 0.7, "6"), dist("0")]
    result = read_amount("1250", rows)
    assert result.value == "1250.00"  # the best reading is kept for the reviewer
    assert result.status is Status.REVIEW
    assert "low_confidence" in result.flags
    assert result.confidence == pytest.approx(0.7, abs=0.01)


def test_the_grammar_corrects_a_slash_between_digits_but_does_not_trust_it_blindly() -> None:
    rows = [dist("5"), dist("/", 0.6, "1"), dist("0")]
    result = read_amount("510", rows)
    assert result.value == "510.00"
    assert "grammar_corrected" in result.flags
    assert result.status is Status.REVIEW  # 0.4 for "1" against 0.6 for "/" is no sure reading


def test_a_mark_the_same_value_either_way_does_not_lower_the_confidence() -> None:
    # "1,250" and "1.250" are both 1250: the group mark's doubt costs nothing
    labels = list("1,250")
    probs = np.stack([dist("1"), dist(",", 0.55, "."), dist("2"), dist("5"), dist("0")])
    same = same_value_probs(labels, probs, "1250.00", lambda x: parse_amount(x).value)
    assert same[1] == pytest.approx(1.0, abs=1e-3)


def test_a_mark_that_changes_the_value_keeps_its_doubt() -> None:
    # "12.50" against "12,50" is the same; against "1250" (no mark) it would not be, and a
    # "1" for "/" in "1250/-" changes the amount to 12501
    labels = list("1250/-")
    probs = np.stack([dist("1"), dist("2"), dist("5"), dist("0"), dist("/", 0.7, "1"), dist("-")])
    same = same_value_probs(labels, probs, "1250.00", lambda x: parse_amount(x).value)
    assert same[4] == pytest.approx(0.7, abs=0.01)


def test_a_sure_slash_between_digits_is_read_as_one_but_stays_in_review() -> None:
    """'32/71/-': the classifier is sure of '/', yet only '1' makes an amount. The value is
    proposed for the reviewer, and the doubt keeps it far from the acceptance threshold."""
    probs = np.stack(
        [dist("3"), dist("2"), dist("/", 0.996, "1"), dist("7"), dist("1"), dist("/"), dist("-")]
    )
    labels, reading = decode(probs, parse_amount)
    assert "".join(labels) == "32171/-" and reading.value == "32171.00"
    assert "grammar_corrected" in reading.flags
    same = same_value_probs(labels, probs, reading.value, lambda x: parse_amount(x).value)
    status, flags = decide_field(
        "amount", reading.value, float(np.prod(same)), reading.flags, min(same), DecisionConfig()
    )
    assert status is Status.REVIEW and "low_confidence" in flags


def test_decode_never_turns_a_reject_into_a_digit() -> None:
    probs = np.stack([dist("1"), dist(REJECT, 0.6, "4"), dist("0")])
    labels, reading = decode(probs, parse_amount)
    assert labels[1] == REJECT
    assert reading.value is None


@pytest.mark.parametrize(
    ("value", "confidence", "flags", "status"),
    [
        ("12.50", 0.999, (), Status.ACCEPTED),
        ("12.50", 0.5, (), Status.REVIEW),
        (None, 0.999, ("amount_grammar",), Status.REVIEW),
        ("12.50", 0.999, ("unexpected_symbol",), Status.REVIEW),
        ("12.50", 0.999, ("touching_split",), Status.ACCEPTED),  # informational only
        ("12.50", 0.999, ("some_new_flag",), Status.REVIEW),  # unknown flags block
    ],
)
def test_field_status_rules(
    value: str | None, confidence: float, flags: tuple[str, ...], status: Status
) -> None:
    got, _ = decide_field("amount", value, confidence, flags, confidence, DecisionConfig())
    assert got is status


def test_one_unsure_glyph_blocks_even_when_the_product_passes() -> None:
    cfg = DecisionConfig(accept_amount=0.5, min_glyph_prob=0.9)
    status, flags = decide_field("amount", "12.50", 0.95, (), 0.85, cfg)
    assert status is Status.REVIEW and "low_confidence" in flags


@dataclass(frozen=True)
class FakeLayout:
    crops: dict[str, object]
    is_document: bool = True
    flags: tuple[str, ...] = ()


def field_result(name: str, status: Status, flags: tuple[str, ...] = ()) -> FieldResult:
    value = "1.00" if status is Status.ACCEPTED else None
    return FieldResult(name, value, 0.99, status, flags)


def test_page_accepted_only_when_every_field_is() -> None:
    layout = FakeLayout({"amount": 1, "account": 2}, flags=("layout_generic",))
    ok = {n: field_result(n, Status.ACCEPTED) for n in ("amount", "account")}
    assert decide_page(layout, ok, (), CFG) == (Status.ACCEPTED, ())
    one_bad = {**ok, "account": field_result("account", Status.REVIEW, ("account_length",))}
    assert decide_page(layout, one_bad, (), CFG) == (Status.REVIEW, ("account:account_length",))


def test_page_quality_flags_and_missing_fields_mean_review() -> None:
    ok = {"amount": field_result("amount", Status.ACCEPTED)}
    status, reasons = decide_page(FakeLayout({"amount": 1}), ok, ("quality_blurred",), CFG)
    assert (status, reasons) == (Status.REVIEW, ("quality_blurred",))
    missing = FakeLayout({"amount": 1}, flags=("field_not_found:account",))
    assert decide_page(missing, ok, (), CFG) == (Status.REVIEW, ("field_not_found:account",))
    lost = FakeLayout({"amount": 1, "account": 2})
    assert decide_page(lost, ok, (), CFG) == (Status.REVIEW, ("field_not_found:account",))


def test_a_field_left_out_of_required_fields_blocks_only_where_it_was_found() -> None:
    """Cheques whose account number is printed: with ``required_fields: [amount]`` the missing
    account row no longer sends the page to review; an account found and unsure still does."""
    amount_only = CFG.model_copy(
        update={"decision": CFG.decision.model_copy(update={"required_fields": ("amount",)})}
    )
    ok = {"amount": field_result("amount", Status.ACCEPTED)}
    printed = FakeLayout({"amount": 1}, flags=("layout_generic", "field_not_found:account"))
    assert decide_page(printed, ok, (), amount_only) == (Status.ACCEPTED, ())
    assert decide_page(printed, ok, (), CFG) == (Status.REVIEW, ("field_not_found:account",))
    # the amount is still needed, and quality flags still count
    no_amount = FakeLayout({}, flags=("field_not_found:amount", "field_not_found:account"))
    assert decide_page(no_amount, {}, (), amount_only) == (
        Status.REVIEW,
        ("field_not_found:amount", "field_not_found"),
    )
    assert decide_page(printed, ok, ("quality_blurred",), amount_only)[0] is Status.REVIEW
    # an account that was found is read and decided like any field
    unsure = {**ok, "account": field_result("account", Status.REVIEW, ("low_confidence",))}
    both = FakeLayout({"amount": 1, "account": 2})
    assert decide_page(both, unsure, (), amount_only) == (
        Status.REVIEW,
        ("account:low_confidence",),
    )
    lost = FakeLayout({"amount": 1, "account": 2})  # a crop found and not read: absent
    assert decide_page(lost, ok, (), amount_only) == (Status.ACCEPTED, ())


def test_required_fields_are_named_fields_and_at_least_one() -> None:
    from pydantic import ValidationError

    assert CFG.decision.required_fields == ("amount", "account")
    assert DecisionConfig(required_fields=["account"]).required_fields == ("account",)
    for bad in ([], ["date"]):
        with pytest.raises(ValidationError):
            DecisionConfig(required_fields=bad)


def test_hdr_pipeline_config_names_the_config_read_when_none_is_given(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hdr.config import DEFAULT_PIPELINE_CONFIG, load_pipeline_config
    from hdr.errors import ConfigError

    shipped = DEFAULT_PIPELINE_CONFIG.read_text(encoding="utf-8")
    amount_only = tmp_path / "cheques.yaml"
    amount_only.write_text(
        shipped.replace("required_fields: [amount, account]", "required_fields: [amount]"),
        encoding="utf-8",
    )
    monkeypatch.setenv("HDR_PIPELINE_CONFIG", str(amount_only))
    assert load_pipeline_config().decision.required_fields == ("amount",)
    # a path given explicitly (hdr read --config) wins
    explicit = load_pipeline_config(DEFAULT_PIPELINE_CONFIG)
    assert explicit.decision.required_fields == ("amount", "account")
    monkeypatch.setenv("HDR_PIPELINE_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError) as err:
        load_pipeline_config()
    assert err.value.code.value == "config_invalid" and "missing.yaml" in err.value.message
    monkeypatch.delenv("HDR_PIPELINE_CONFIG")
    assert load_pipeline_config().decision.required_fields == ("amount", "account")


def test_not_a_document_is_rejected() -> None:
    layout = FakeLayout({}, is_document=False, flags=("not_a_document",))
    assert decide_page(layout, {}, (), CFG) == (Status.REJECTED, ("not_a_document",))


def test_a_crop_that_breaks_nothing_even_when_empty() -> None:
    empty = FieldCrop("amount", np.zeros((0, 0), np.uint8), (0, 0, 0, 0), "given")
    (result,) = recognize_fields([empty], ScriptedClassifier([]), CFG)
    assert result.value is None and result.status is Status.REVIEW


def test_a_date_read_as_an_amount_goes_to_review() -> None:
    result = read_amount("25102025", [dist(d) for d in "25102025"])
    assert result.value == "25102025.00"
    assert "looks_like_date" in result.flags and result.status is Status.REVIEW


def test_an_empty_cell_between_digits_goes_to_review() -> None:
    from tests.helpers.fields import blank, paste_digit

    img = blank(60, 412, cells=10)
    cells = tuple((round(6 + i * 40), 6, round(6 + (i + 1) * 40), 53) for i in range(10))
    for i in (0, 1, 3, 4, 5, 6, 7, 8, 9):  # cell 2 left empty
        paste_digit(img, DIGITS["4"][0], cells[i][0] + 10, 48, 32)
    crop = FieldCrop("account", img, (0, 0, 412, 60), "given", cells)
    (result,) = recognize_fields([crop], ScriptedClassifier([dist("4")] * 9), CFG)
    assert result.value == "444444444"
    assert "cells_skipped" in result.flags and result.status is Status.REVIEW


def test_shape_prior_tells_marks_from_digits() -> None:
    from hdr.assemble.geometry import shape_prior
    from hdr.segment.components import Metrics

    m = Metrics(digit_height=40, digit_width=25, stroke_width=4, top=10, base=50)
    comma = shape_prior((100, 38, 106, 56), m)  # starts low, hangs below the baseline
    assert comma[LABELS.index(",")] > 0.8 and comma[LABELS.index("1")] < 0.01
    tail = shape_prior((100, 28, 220, 33), m)  # a long thin line at mid height
    assert tail[LABELS.index("-")] > 0.9 and tail[LABELS.index(REJECT)] < 0.05
    digit = shape_prior((100, 10, 125, 50), m)
    assert digit[LABELS.index("7")] > 0.9 and digit[LABELS.index(".")] < 0.01


def test_shape_prior_reads_a_long_comma_as_a_comma() -> None:
    """Many hands write the group comma as a long stroke from mid-line to below the baseline.

    The 28 x 28 glyph of it is a '1'; its place in the line says it is not a digit. A digit
    written smaller than the others still starts in the upper part of the line.
    """
    from hdr.assemble.geometry import long_comma, shape_prior
    from hdr.segment.components import Metrics

    m = Metrics(digit_height=40, digit_width=25, stroke_width=4, top=10, base=50)
    band = (m.top, m.base)  # digits on both sides, level with the field
    for box in ((100, 31, 114, 56), (100, 29, 110, 68), (100, 30, 117, 50)):  # 0.5-0.55 down
        prior = shape_prior(box, m, long_comma(box, band))
        assert prior[LABELS.index(",")] > 0.5, box
        assert prior[LABELS.index("1")] < 0.02, box
    small = (100, 22, 124, 50)  # a zero that starts at 0.3 and sits on the baseline
    small_zero = shape_prior(small, m, long_comma(small, band))
    assert small_zero[LABELS.index("0")] > 0.5
    drift = (100, 20, 108, 56)  # a "1" a little low and long
    drifting_one = shape_prior(drift, m, long_comma(drift, band))
    assert drifting_one[LABELS.index("1")] > 0.5


def test_a_one_at_the_end_of_a_sloping_line_stays_a_one() -> None:
    """The line drifts down: the last '1' starts half a digit below the field's median top,
    but level with its neighbours, so it is no comma; a comma on the same line still is."""
    from hdr.assemble.geometry import long_comma, stroke_as_comma
    from hdr.segment.components import Metrics, neighbour_band

    m = Metrics(digit_height=40, digit_width=25, stroke_width=4, top=10, base=50)
    digits = [(30 * i, 4 * i, 30 * i + 25, 40 + 4 * i) for i in range(8)]  # 4 px lower each
    one = (240, 34, 248, 74)  # after them, as low as the line has come
    boxes = [*digits, one]
    assert long_comma(one, (m.top, m.base)) > 0.9  # against the field's medians: a "comma"
    middle = (180, 24, 188, 64)  # a "1" among the last digits, level with them
    band = neighbour_band(middle, [*boxes, middle], m)
    assert band is not None and long_comma(middle, band) < 0.05
    assert neighbour_band(one, boxes, m) is None  # the last glyph: never a group comma
    comma = (112, 38, 118, 62)  # between the 4th and 5th digit, from mid-line down
    assert long_comma(comma, neighbour_band(comma, [*boxes, comma], m)) > 0.9
    probs = np.zeros(len(LABELS))
    probs[LABELS.index("1")], probs[LABELS.index(",")] = 0.999, 0.001
    moved = stroke_as_comma(probs, 0.95)
    assert moved[LABELS.index(",")] > 0.9 and abs(moved.sum() - 1.0) < 1e-9


def test_a_glyph_is_digit_sized_only_on_the_line_and_at_full_height() -> None:
    from hdr.assemble.geometry import is_digit_sized
    from hdr.segment.components import Metrics

    m = Metrics(digit_height=40, digit_width=25, stroke_width=4, top=10, base=50)
    assert is_digit_sized((100, 12, 125, 50), m)  # a letter as tall as the digits
    assert not is_digit_sized((100, 38, 106, 50), m)  # a crumb on the baseline
    assert not is_digit_sized((100, 0, 110, 90), m)  # a box border left in the crop
    assert not is_digit_sized((100, 45, 125, 80), m)  # as tall, but below the line
