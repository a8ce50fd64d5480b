"""Recognize located fields: segment, classify every glyph in one batch, assemble, decide.

All glyphs of all crops go to the classifier together (one call; a second, smaller one only for
components that might be touching digits and were not sure whole). For every component that may
hold touching digits the reading keeps the candidate cut whose glyphs are most confident; two
neighbours that may be one glyph whose stroke broke are read joined when that reads better than
apart (:func:`_plans`). Each glyph's probabilities are then weighed with its size and place on
the line (a small blob on the baseline is a ``.``, see :mod:`hdr.assemble.geometry`), the labels
are assembled into a value by the amount grammar or the account rules, and each field gets a
confidence, flags and a status.

>>> from hdr.classify.predictor import load_classifier
>>> from hdr.config import load_pipeline_config
>>> results = recognize_fields(crops, load_classifier(), load_pipeline_config())  # doctest: +SKIP
>>> results[0].value, results[0].status.value                                     # doctest: +SKIP
('1250.00', 'accepted')
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from hdr.assemble.account import parse_account
from hdr.assemble.amount import (
    DECIMAL_MARKS,
    GROUP_MARKS,
    line_missed_marks,
    parse_amount,
    tail_read_as_digits,
)
from hdr.assemble.decide import LayoutLike, decide_field, field_confidence, same_value_probs
from hdr.assemble.decide import decide_page as _decide_page
from hdr.assemble.decode import decode
from hdr.assemble.geometry import (
    apply_prior,
    is_digit_sized,
    is_high_mark,
    long_comma,
    shape_prior,
    stroke_as_comma,
)
from hdr.assemble.reading import Reading
from hdr.classify.labels import DIGITS, LABELS, NUM_CLASSES, REJECT
from hdr.classify.normalize import SHIFTS, normalize_glyph, shifted_views
from hdr.config import PipelineConfig
from hdr.segment import Piece, Segment, Segmentation, segment_field
from hdr.segment.components import local_metrics, neighbour_band
from hdr.segment.segment import JOIN_WIDTH
from hdr.types import FieldCrop, FieldResult, GlyphResult, Status

log = logging.getLogger(__name__)

_REJECT = LABELS.index(REJECT)
NOISE_SIZE = 0.3  # a reject smaller than this (in digit heights) at the ends is noise
CRUMB_LOW = 0.78  # a piece that small centred above this (0 top, 1 baseline) is no . or ,
# what may stand in an account number: digits (and a reject); in free writing also a dash
CELL_PRIOR = np.array([1.0 if lab in DIGITS or lab == REJECT else 1e-3 for lab in LABELS])
ACCOUNT_PRIOR = np.array(
    [1.0 if lab in DIGITS or lab == REJECT else 0.3 if lab == "-" else 0.01 for lab in LABELS]
)
WIDTH_WEIGHT = 1.0  # log-prior weight of (width / (pieces x digit width) - 1) squared
SPLIT_COST = 1.0  # log-prior cost of each cut: a wide digit is commoner than two touching
CELL_CUT_COST = 0.3  # ... lower at a printed cell line, where a second digit is expected
SPLIT_MARGIN = 0.15  # score gap under which two different readings of a component are a tie
MAX_PLAN_LOSS = 2.0  # score (log-prior) a reading may give up on the best to make a valid value
FULL_HEIGHT = 0.9  # of the digit height: a "1" this tall is a whole glyph, never a broken piece
JOIN_COST = 0.5  # log-prior cost of reading two neighbours as one glyph whose stroke broke
SLASH_HEIGHT = 0.9  # a stroke before the closing dash this tall (in digit heights) is a "/"
GAP_WIDTH = 0.6  # see wide_gap
TAIL_ASPECT = 1.5  # a reject at least this much wider than high, after the amount, is its tail
_SLASH, _DASH, _ONE = LABELS.index("/"), LABELS.index("-"), LABELS.index("1")
_MARKS = frozenset(LABELS.index(m) for m in ".,/")
_GROUP_MARKS = frozenset(LABELS.index(m) for m in GROUP_MARKS if m in LABELS)
_FILLERS = frozenset(LABELS.index(m) for m in "*#")


class _Batch:
    """Glyph images queued for one classifier call, and their probabilities afterwards."""

    def __init__(self) -> None:
        self.images: list[np.ndarray] = []
        self.keys: dict[int, int] = {}
        self.shifted: list[int] = []  # rows read as the mean over shifted views too
        self.probs = np.zeros((0, NUM_CLASSES), np.float64)

    def add(self, piece: Piece, shifted: bool = False) -> None:
        if id(piece) not in self.keys:
            self.keys[id(piece)] = len(self.images)
            if shifted:
                self.shifted.append(len(self.images))
            self.images.append(normalize_glyph(piece.mask))

    def run(self, classifier: Any) -> None:
        if not self.images:
            return
        images = np.stack(self.images)
        views = shifted_views(images[self.shifted]) if self.shifted else images[:0]
        probs = np.asarray(classifier.predict_proba(np.concatenate([images, views])), np.float64)
        expected = (len(images) + len(views), NUM_CLASSES)
        if probs.shape != expected:
            raise ValueError(f"classifier returned {probs.shape}, expected {expected}")
        if self.shifted:
            moved = probs[len(images) :].reshape(len(SHIFTS), len(self.shifted), NUM_CLASSES)
            probs[self.shifted] = (probs[self.shifted] + moved.sum(axis=0)) / (len(SHIFTS) + 1)
        self.probs = probs[: len(images)]

    def get(self, piece: Piece) -> tuple[np.ndarray, np.ndarray] | None:
        """The piece's probabilities and the image they were computed from, if queued here."""
        row = self.keys.get(id(piece))
        return None if row is None else (self.probs[row], self.images[row])


def _classified(batches: Sequence[_Batch], piece: Piece) -> tuple[np.ndarray, np.ndarray] | None:
    """(probabilities, image) of a piece from the first batch that classified it."""
    for batch in batches:
        found = batch.get(piece)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class LineReading:
    """What the line reader made of a field: its best-path labels, their path probability and
    the frame log-probabilities (to weigh other readings with, see :func:`_line_wins`)."""

    labels: list[str]
    prob: float
    logprobs: np.ndarray


@dataclass
class _Work:
    crop: FieldCrop
    seg: Segmentation | None
    failure: str | None = None
    line: LineReading | None = None  # the line reader's, when one is configured

    @property
    def cell_mode(self) -> bool:
        return self.seg is not None and bool(self.seg.cells)


def _segment(crop: FieldCrop) -> _Work:
    try:
        return _Work(crop, segment_field(crop.image, crop.cells))
    except Exception:  # a crop that breaks segmentation must not break the batch
        log.exception("segmentation failed for %s at %s", crop.name, crop.box)
        return _Work(crop, None, "segmentation_failed")


def _posterior(work: _Work, piece: Piece, probs: np.ndarray) -> np.ndarray:
    """Classifier probabilities weighed with what the field and the glyph's shape allow."""
    if work.seg is None:
        return np.asarray(probs, np.float64)
    if work.cell_mode:  # one digit per cell
        return apply_prior(probs, CELL_PRIOR)
    boxes = [seg.piece.box for seg in work.seg.segments]
    band = neighbour_band(piece.box, boxes, work.seg.metrics)
    comma_like = long_comma(piece.box, band) if band is not None else 0.0
    prior = shape_prior(piece.box, local_metrics(piece.box, boxes, work.seg.metrics), comma_like)
    if work.crop.name == "account":
        return apply_prior(probs, prior * ACCOUNT_PRIOR)
    return apply_prior(stroke_as_comma(probs, comma_like), prior)


def _is_noise(piece: Piece, post: np.ndarray, work: _Work) -> bool:
    """A small piece of the reject class: a speck or a stroke's crumb, not a character."""
    if work.seg is None or int(post.argmax()) != _REJECT:
        return False
    rel_h, rel_w, _ = work.seg.metrics.relative(piece.box)
    return max(rel_h, rel_w) < NOISE_SIZE


def _piece_score(post: np.ndarray) -> float:
    """Log of the best non-reject probability: a cut that leaves junk scores low."""
    best = float(np.delete(post, _REJECT).max())
    return math.log(max(best, 1e-6))


def _unsure(post: np.ndarray, min_prob: float) -> bool:
    return int(post.argmax()) == _REJECT or float(post.max()) < min_prob


def _width_prior(work: _Work, box: tuple[int, int, int, int], pieces: int) -> float:
    """Log-prior of reading ``pieces`` glyphs side by side in ``box``: each about a digit wide."""
    assert work.seg is not None
    ratio = (box[2] - box[0]) / max(1.0, work.seg.metrics.digit_width)
    return -WIDTH_WEIGHT * (ratio / pieces - 1.0) ** 2


def _is_cut(option: tuple[Piece, ...]) -> bool:
    return any(piece.split for piece in option)


def _post(work: _Work, piece: Piece, batches: Sequence[_Batch]) -> np.ndarray | None:
    """The piece's :func:`_posterior`, from the first batch that classified it (None: none)."""
    found = _classified(batches, piece)
    return None if found is None else _posterior(work, piece, found[0])


def _scored_options(
    work: _Work, seg: Segment, batches: Sequence[_Batch]
) -> list[tuple[float, tuple[Piece, ...], str]]:
    """Every classified way to read a segment (whole, and each cut), best first: its score (log
    probabilities with the width and cut priors), its pieces and the labels they read."""
    scored: list[tuple[float, tuple[Piece, ...], str]] = []
    for option in ((seg.piece,), *seg.options) if seg.whole_ok else seg.options:
        posts = [_post(work, p, batches) for p in option]
        if any(p is None for p in posts):
            continue  # not classified: not worth it
        score = sum(_piece_score(p) for p in posts if p is not None)
        score += _width_prior(work, seg.piece.box, len(option))
        score -= (CELL_CUT_COST if work.cell_mode else SPLIT_COST) * (len(option) - 1)
        reading = "".join(LABELS[int(p.argmax())] for p in posts if p is not None)
        scored.append((score, option, reading))
    scored.sort(key=lambda s: -s[0])
    return scored


def _choose(
    work: _Work, seg: Segment, batches: Sequence[_Batch]
) -> tuple[tuple[Piece, ...], bool, float]:
    """The pieces to read for a segment, whether the choice between cuts was a close call, and
    the score of the choice (log probabilities with the width and cut priors)."""
    assert work.seg is not None

    scored = _scored_options(work, seg, batches)
    best = scored[0]
    if _is_cut(best[1]):
        # a cut that reads just what the glyphs as placed read adds nothing but doubt
        best = next((s for s in scored if s[2] == best[2] and not _is_cut(s[1])), best)
    close = any(s[2] != best[2] and best[0] - s[0] < SPLIT_MARGIN for s in scored[1:])
    return best[1], close, best[0]


def _join_score(work: _Work, piece: Piece, batches: Sequence[_Batch]) -> float | None:
    """Score of two neighbours read as one glyph, on the scale of :func:`_choose`'s."""
    assert work.seg is not None
    post = _post(work, piece, batches)
    if post is None or int(post.argmax()) == _REJECT:
        return None
    return _piece_score(post) + _width_prior(work, piece.box, 1) - JOIN_COST


def _alone_kinds(
    work: _Work, pieces: tuple[Piece, ...], batches: Sequence[_Batch]
) -> tuple[bool, bool]:
    """Whether the pieces a segment reads hold a glyph of its own that no broken stroke
    explains (a mark that carries meaning: a decimal point, a comma, the ``/`` of ``/-``; or a
    ``1`` as tall as the digits, a whole stroke that joined to its neighbour would make a ``4``
    of ``14``), and whether they hold a ``1`` of any height (kept apart from a neighbour when
    the two together are wider than a digit of this hand)."""
    assert work.seg is not None
    firm = one = False
    for piece in pieces:
        post = _post(work, piece, batches)
        if post is None:
            continue
        k = int(post.argmax())
        rel_h, _, _ = work.seg.metrics.relative(piece.box)
        firm = firm or k in _MARKS or (k == _ONE and rel_h >= FULL_HEIGHT)
        one = one or k == _ONE
    return firm, one


def _is_wide(work: _Work, piece: Piece) -> bool:
    """Wider than :data:`~hdr.segment.segment.JOIN_WIDTH` digit widths of this field."""
    assert work.seg is not None
    return piece.box[2] - piece.box[0] > JOIN_WIDTH * work.seg.metrics.digit_width


Step = tuple[tuple[Piece, ...], bool, bool, int | None]


def _best_path(
    alone: Sequence[float], joined: Sequence[float | None], must: int | None = None
) -> tuple[float, list[int]]:
    """Best total score through the segments and, per step, how many segments it read (1: one
    segment alone, 2: two joined). ``must``: the pair that has to be read joined."""
    n = len(alone)
    allowed = list(joined)
    blocked: set[int] = set()
    if must is not None:
        blocked = {must, must + 1}
        for k in (must - 1, must + 1):
            if 0 <= k < len(allowed):
                allowed[k] = None
    best = [0.0] + [-math.inf] * n
    back = [0] * (n + 1)
    for i in range(n):
        if i not in blocked and best[i] + alone[i] > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + alone[i], 1
        score = allowed[i] if i < n - 1 else None
        if score is not None and best[i] + score > best[i + 2]:
            best[i + 2], back[i + 2] = best[i] + score, 2
    steps: list[int] = []
    i = n
    while i > 0 and back[i]:
        steps.append(back[i])
        i -= back[i]
    return best[n], steps[::-1]


def _plans(work: _Work, batches: Sequence[_Batch]) -> list[list[Step]]:
    """What to read, left to right, best first: per segment (or pair of segments read as one
    broken glyph) the pieces, whether the choice was a close call, whether two segments were
    joined, and the cell.

    The first plan is the best-scoring path through the segments (dynamic programming over
    "alone" and "joined with the next"); a join whose score is within :data:`SPLIT_MARGIN` of
    reading the two apart is a close call. The others each read one offered pair the other way
    (joined where the best reads it apart, or apart), cheapest first, while they cost less than
    :data:`MAX_PLAN_LOSS`: the grammar may rule out the best one (``1315-34``: the bar of a
    ``5`` read as a dash between digits).
    """
    assert work.seg is not None
    segments = work.seg.segments
    n = len(segments)
    alone = [_choose(work, seg, batches) for seg in segments]
    joins = work.seg.joins if len(work.seg.joins) == n - 1 else (None,) * max(0, n - 1)
    near_join = {k for i, j in enumerate(joins) if j is not None for k in (i, i + 1)}
    kinds = {k: _alone_kinds(work, alone[k][0], batches) for k in near_join}

    def may_join(i: int, j: Piece) -> bool:
        (firm_a, one_a), (firm_b, one_b) = kinds[i], kinds[i + 1]
        return not (firm_a or firm_b or ((one_a or one_b) and _is_wide(work, j)))

    joined = [
        _join_score(work, j, batches) if j is not None and may_join(i, j) else None
        for i, j in enumerate(joins)
    ]
    scores = [a[2] for a in alone]
    # a join about as good as reading the two apart is a close call either way
    tie = [
        score is not None and abs(scores[i] + scores[i + 1] - score) < SPLIT_MARGIN
        for i, score in enumerate(joined)
    ]

    def steps_to_plan(steps: list[int]) -> list[Step]:
        plan: list[Step] = []
        k = 0
        for step in steps:
            if step == 2:
                j = joins[k]
                assert j is not None
                plan.append(((j,), tie[k], True, segments[k].cell))
            else:
                pieces, close, _ = alone[k]
                near = (k < n - 1 and tie[k]) or (k > 0 and tie[k - 1])
                plan.append((pieces, close or near, False, segments[k].cell))
            k += step
        return plan

    top, steps = _best_path(scores, joined)
    taken = {sum(steps[:m]) for m, step in enumerate(steps) if step == 2}
    others: list[tuple[float, list[int]]] = []
    for i, score in enumerate(joined):
        if score is None:
            continue
        if i in taken:
            alt = _best_path(scores, [None if k == i else s for k, s in enumerate(joined)])
        else:
            alt = _best_path(scores, joined, must=i)
        if top - alt[0] < MAX_PLAN_LOSS:
            others.append(alt)
    others.sort(key=lambda o: -o[0])
    return [steps_to_plan(steps), *(steps_to_plan(o[1]) for o in others)]


@lru_cache(maxsize=4)
def _template_lengths(folder: str) -> dict[str, tuple[int, int]]:
    from hdr.fields.templates import load_templates

    return {t.name: t.fields.account.length for t in load_templates(Path(folder))}


def account_length(crop: FieldCrop, cfg: PipelineConfig) -> tuple[int, int]:
    """Allowed account-number length: from the crop's template, else ``cfg.account_length``."""
    if crop.located_by.startswith("template:"):
        try:
            lengths = _template_lengths(str(cfg.resolve(cfg.templates_dir)))
        except Exception:  # unreadable templates: the config's range still applies
            log.warning("templates unreadable; using account_length from the config")
            lengths = {}
        found = lengths.get(crop.located_by.removeprefix("template:"))
        if found is not None:
            return found
    return cfg.account_length


def _parser(
    work: _Work, boxes: Sequence[tuple[int, int, int, int]], cfg: PipelineConfig
) -> Callable[[list[str]], Any]:
    if work.crop.name == "account":
        length = account_length(work.crop, cfg)
        cells = work.cell_mode
        return lambda labels: parse_account(labels, length, cells)
    assert work.seg is not None
    metrics = work.seg.metrics
    high = {i for i, box in enumerate(boxes) if is_high_mark(box, metrics)}
    sized = {i for i, box in enumerate(boxes) if is_digit_sized(box, metrics)}

    def parse(labels: list[str]) -> Any:
        marks = ["'" if i in high and lab in (",", ".") else lab for i, lab in enumerate(labels)]
        return parse_amount(marks, sized)

    return parse


def _cells_skipped(pieces: Sequence[tuple[Piece, np.ndarray, int | None]]) -> bool:
    """An empty cell before or between written ones (people write from the first cell on)."""
    found = {p.cell if p.cell is not None else c for p, _, c in pieces}
    cells = sorted(c for c in found if c is not None)
    return bool(cells) and (cells[0] != 0 or cells[-1] - cells[0] + 1 != len(cells))


def _looks_like_date(labels: Sequence[str]) -> bool:
    """Eight digits and nothing else that read as a date (ddmmyyyy or yyyymmdd)."""
    text = "".join(labels)
    if len(text) != 8 or not text.isdigit():
        return False
    d, m, y = int(text[:2]), int(text[2:4]), int(text[4:])
    y2, m2, d2 = int(text[:4]), int(text[4:6]), int(text[6:])
    return (1 <= d <= 31 and 1 <= m <= 12 and 1950 <= y <= 2099) or (
        1950 <= y2 <= 2099 and 1 <= m2 <= 12 and 1 <= d2 <= 31
    )


def wide_gap(boxes: Sequence[tuple[int, int, int, int]], labels: Sequence[str]) -> bool:
    """A gap between two digits of an amount wide enough to have held a mark nobody read.

    A decimal point or comma lost to segmentation turns ``12253,85`` into ``1225385``: a
    hundred times the amount, with every glyph read well. Handwriting keeps digits of a number
    close; a gap of more than :data:`GAP_WIDTH` digit widths, and far wider than the others,
    is where such a mark (or a space between groups) was. The value may be right, but a person
    should look.
    """
    digits = [b for b, lab in zip(boxes, labels, strict=True) if lab in DIGITS]
    if len(digits) < 3:
        return False
    widths = sorted(b[2] - b[0] for b in digits)
    dw = max(1.0, float(widths[len(widths) // 2]))
    glyphs = list(zip(boxes, labels, strict=True))
    gaps = [  # digit next to digit in the reading, nothing read between them
        b[0] - a[2]
        for (a, la), (b, lb) in itertools.pairwise(glyphs)
        if la in DIGITS and lb in DIGITS
    ]
    if not gaps:
        return False
    usual = max(0.0, float(sorted(gaps)[len(gaps) // 2]))
    return any(g > GAP_WIDTH * dw and g > usual + 0.5 * dw for g in gaps)


def _is_tail(piece: Piece, post: np.ndarray, work: _Work) -> bool:
    """A dash, or a long flat flourish the classifier calls a reject, after the amount."""
    assert work.seg is not None
    k = int(post.argmax())
    h, w = piece.box[3] - piece.box[1], piece.box[2] - piece.box[0]
    rel_h, _, _ = work.seg.metrics.relative(piece.box)
    return k == _DASH or (k == _REJECT and w >= TAIL_ASPECT * max(1, h) and rel_h < 1.3)


def read_tail(pieces: list[tuple[Piece, np.ndarray, int | None]], work: _Work) -> int | None:
    """Read an amount's closing ``/-`` (or ``/`` and a flourish) that the glyphs alone miss.

    People close an amount with ``/-`` so nothing can be added after it. Seen alone, that ``/``
    is a slanted ``1`` (MNIST is full of them) and the flourish after it is no character at
    all, so ``329,000/-`` reads ``329,0001?``. Here a stroke taller than the digits, right after
    the last digit and followed only by dashes or flat flourishes (and any stars or hashes
    closing the line: ``**629/-**``), is read as ``/``, and those as ``-``. Returns the index of
    a ``1`` that became a ``/`` (None when none did): the caller flags it for a person when the
    ``1`` would make an amount too (``2501-`` is also something people write, if far less often
    than ``250/-``). A ``/`` before that stroke (a slanted ``1`` read alone) is left for the
    grammar to correct.
    """
    if work.seg is None or work.cell_mode or work.crop.name != "amount" or len(pieces) < 3:
        return None
    stop = len(pieces)
    while stop > 0 and int(pieces[stop - 1][1].argmax()) in _FILLERS:
        stop -= 1  # the stars or hashes written after the "/-": "**629/-**"
    end = stop
    while end > 0 and _is_tail(pieces[end - 1][0], pieces[end - 1][1], work):
        end -= 1
    if end == stop or end < 2:
        return None
    piece, post, cell = pieces[end - 1]
    before = int(pieces[end - 2][1].argmax())
    rel_h, _, _ = work.seg.metrics.relative(piece.box)
    k = int(post.argmax())
    if (before >= 10 and before != _SLASH) or k not in (_ONE, _SLASH) or rel_h < SLASH_HEIGHT:
        return None
    slash = np.full(NUM_CLASSES, 1e-6)
    slash[_SLASH] = max(float(post[_SLASH]), float(post[_ONE]))
    slash[_ONE] = min(float(post[_SLASH]), float(post[_ONE]))
    pieces[end - 1] = (piece, slash / slash.sum(), cell)
    for i in range(end, stop):
        tail_piece, tail_post, tail_cell = pieces[i]
        if int(tail_post.argmax()) == _REJECT:
            dash = np.full(NUM_CLASSES, 1e-6)
            dash[_DASH] = 1.0
            pieces[i] = (tail_piece, dash / dash.sum(), tail_cell)
    return end - 1 if k == _ONE else None


def one_reads(labels: Sequence[str], index: int, parse: Callable[[list[str]], Any]) -> bool:
    """Whether the field's reading (``labels``, one per glyph) makes an amount with the ``/`` at
    ``index`` read as the ``1`` it looked like. Where the group marks rule it out
    (``21,13,0001-``: a group of four), the ``/`` is what the amount's own grammar says, and no
    person needs to choose."""
    as_one = list(labels)
    as_one[index] = LABELS[_ONE]
    return parse(as_one).value is not None


def lost_mark_matters(
    work: _Work,
    boxes: Sequence[tuple[int, int, int, int]],
    labels: Sequence[str],
    value: str | None,
    cfg: PipelineConfig,
    marks: Sequence[tuple[int, int, int, int]] | None = None,
) -> bool:
    """Whether a dot-sized blob that segmentation dropped (``Segmentation.lost_marks``, or
    ``marks``) could have been the decimal point: read as ``.`` or ``,`` where it lies, the
    glyphs would give another valid amount (``24550`` with a dot lost between the fives). Where
    no decimal mark could stand (``52,40,0.00``, or after the last digit, ``52,40,000./-``) it
    changes nothing and says nothing. With no value read, a person looks anyway, and is told."""
    assert work.seg is not None
    if value is None:
        return True
    for mark in work.seg.lost_marks if marks is None else marks:
        centre = (mark[0] + mark[2]) / 2.0
        at = sum(1 for b in boxes if (b[0] + b[2]) / 2.0 < centre)
        parse = _parser(work, [*boxes[:at], mark, *boxes[at:]], cfg)
        for sep in sorted(DECIMAL_MARKS):
            other = parse([*labels[:at], sep, *labels[at:]]).value
            if other is not None and other != value:
                return True
    return False


def _png(image: np.ndarray) -> bytes | None:
    try:
        ok, buf = cv2.imencode(".png", image)
    except cv2.error:
        return None
    return buf.tobytes() if ok else None


@dataclass
class _PlanReading:
    """A plan's pieces with their probabilities, the decoded labels and value, the flags the
    plan raised and its segmentation score."""

    pieces: list[tuple[Piece, np.ndarray, int | None]]
    labels: list[str]
    reading: Reading
    probs: np.ndarray
    parse: Callable[[list[str]], Any]
    flags: list[str]
    seg_score: float


def _is_crumb(piece: Piece, work: _Work) -> bool:
    """A small piece above the baseline, between the digits: no ``.`` or ``,`` sits there."""
    assert work.seg is not None
    rel_h, rel_w, cy = work.seg.metrics.relative(piece.box)
    return max(rel_h, rel_w) < NOISE_SIZE and cy < CRUMB_LOW


def _read_plan(
    work: _Work,
    plan: Sequence[Step],
    batches: Sequence[_Batch],
    cfg: PipelineConfig,
    drop_crumbs: bool = False,
) -> _PlanReading:
    """Read a plan: its pieces' probabilities, noise at the ends dropped, the tail, the decoded
    labels. ``drop_crumbs``: leave out the small pieces above the baseline too (a crumb of
    a stroke, or a speck of dirt, that the classifier takes for a comma), and dashes between
    two digits, or between a digit and a group mark (no amount has one there: the broken-off
    foot of a ``1`` or bar of a ``5``, ``235-,000``)."""
    flags: list[str] = []
    seg_score = 1.0
    pieces: list[tuple[Piece, np.ndarray, int | None]] = []
    for chosen, close, joined, cell in plan:
        if len(chosen) > 1 and _is_cut(chosen):
            flags.append("touching_split")
            seg_score *= cfg.decision.split_penalty
        if joined:
            flags.append("strokes_joined")
            seg_score *= cfg.decision.split_penalty
        if close:
            flags.append("split_unsure")
        for piece in chosen:
            post = _post(work, piece, batches)
            assert post is not None  # a chosen piece was classified
            pieces.append((piece, post, cell))
    digits_at = [i for i, (_, post, _) in enumerate(pieces) if int(post.argmax()) < 10]
    if digits_at:  # crumbs before the first or after the last digit are dropped
        lo, hi = digits_at[0], digits_at[-1]
        kept = [p for i, p in enumerate(pieces) if lo <= i <= hi or not _is_noise(p[0], p[1], work)]
        if len(kept) < len(pieces):
            flags.append("noise_ignored")
        pieces = kept
    if drop_crumbs:
        labels_at = [int(post.argmax()) for _, post, _ in pieces]

        def between_digits(i: int) -> bool:
            """After a digit, and before a digit or a group mark (``235-,000``): inside the
            number, where no amount has a dash."""
            if not 0 < i < len(pieces) - 1 or labels_at[i - 1] >= 10:
                return False
            return labels_at[i + 1] < 10 or labels_at[i + 1] in _GROUP_MARKS

        kept = [
            p
            for i, p in enumerate(pieces)
            if not (labels_at[i] >= 10 and _is_crumb(p[0], work))
            and not (labels_at[i] == _DASH and between_digits(i))
        ]
        if len(kept) < len(pieces):
            flags.append("mark_dropped")
        pieces = kept
    flipped = read_tail(pieces, work)
    parse = _parser(work, [piece.box for piece, _, _ in pieces], cfg)
    probs = np.stack([post for _, post, _ in pieces]) if pieces else np.zeros((0, NUM_CLASSES))
    labels, reading = decode(probs, parse)
    # the decoded reading, not the glyphs' first choices: a glyph the decoder corrected may be
    # what lets the "1" make an amount
    if flipped is not None and one_reads(labels, flipped, parse):
        flags.append("slash_or_one")  # a tall "1" before the closing dash, read as "/"
    flags += reading.flags
    return _PlanReading(pieces, labels, reading, probs, parse, flags, seg_score)


def _sure_glyph(work: _Work, piece: Piece, batches: Sequence[_Batch], cfg: PipelineConfig) -> bool:
    """Whether the glyph reader reads the piece as a character (no reject) it is sure of."""
    post = _post(work, piece, batches)
    return post is not None and not _unsure(post, cfg.decision.min_glyph_prob)


def _line_cut(
    work: _Work,
    plan: Sequence[Step],
    batches: Sequence[_Batch],
    cfg: PipelineConfig,
    line_value: str,
) -> _PlanReading | None:
    """The plan with one segment read another way (another cut, or whole), where that reading
    gives the line reader's value and costs the glyph reader less than :data:`MAX_PLAN_LOSS`.

    The two readers then agree on a segmentation the glyph reader found nearly as good: in
    ``23,500/-`` the ``2`` and ``3`` touch, the glyph reader reads the pair whole as a ``3``
    (a cut costs more than a wide digit), the line reader reads ``23500``, and the cut reads
    ``2`` and ``3`` at 0.999 each. Only a segment whose own reading holds a glyph the glyph
    reader is unsure of (:func:`_unsure`) is read again, and only as a reading whose every piece
    it is sure of. The step is marked a close call, so the field goes to a
    person (``split_unsure``) with the value both readers read. Tried only where they disagree.
    """
    assert work.seg is not None
    for seg in work.seg.segments:
        if not seg.options:
            continue
        at = next(
            (
                k
                for k, (pieces, _, joined, _) in enumerate(plan)
                if not joined and any(pieces[0] is opt[0] for opt in ((seg.piece,), *seg.options))
            ),
            None,
        )
        if at is None:
            continue
        pieces, _, _, cell = plan[at]
        if all(_sure_glyph(work, piece, batches, cfg) for piece in pieces):
            continue  # the glyph reader is sure of its own reading here
        scored = _scored_options(work, seg, batches)
        read = next(
            (r for _, opt, r in scored if opt[0] is pieces[0] and len(opt) == len(pieces)), None
        )
        for score, option, reading in scored:
            if reading == read or scored[0][0] - score >= MAX_PLAN_LOSS:
                continue
            if not all(_sure_glyph(work, piece, batches, cfg) for piece in option):
                continue  # the glyph reader's own doubt: not for the line reader to settle
            trial = _read_plan(
                work, [*plan[:at], (option, True, False, cell), *plan[at + 1 :]], batches, cfg
            )
            if trial.reading.value == line_value:
                trial.flags.append("line_chose_cut")
                return trial
    return None


def _result(work: _Work, batches: Sequence[_Batch], cfg: PipelineConfig) -> FieldResult:
    crop = work.crop
    png = _png(crop.image)
    if work.seg is None:
        return FieldResult(
            name=crop.name,
            value=None,
            confidence=0.0,
            status=Status.REVIEW,
            flags=(*crop.flags, work.failure or "segmentation_failed"),
            box=crop.box,
            located_by=crop.located_by,
            crop_png=png,
        )
    plans = _plans(work, batches)
    chosen = _read_plan(work, plans[0], batches, cfg)
    plan = plans[0]
    for alternative in plans[1:] if chosen.reading.value is None else ():
        # the best segmentation gives no value: read the next best that does, and say so
        trial = _read_plan(work, alternative, batches, cfg)
        if trial.reading.value is not None:
            trial.flags.append("grammar_corrected")
            trial.seg_score *= cfg.decision.split_penalty
            chosen, plan = trial, alternative
            break
    line_value = _line_value(work, cfg)
    if line_value is not None and chosen.reading.value != line_value:
        agreed = _line_cut(work, plan, batches, cfg, line_value)
        chosen = agreed if agreed is not None else chosen
    if chosen.reading.value is None and work.crop.name == "amount" and not work.cell_mode:
        # nor any other: a crumb between the digits read as a comma may be what breaks it
        trial = _read_plan(work, plans[0], batches, cfg, drop_crumbs=True)
        if trial.reading.value is not None and "mark_dropped" in trial.flags:
            chosen = trial
    pieces, labels, reading, post_matrix = (
        chosen.pieces,
        chosen.labels,
        chosen.reading,
        chosen.probs,
    )
    boxes = [piece.box for piece, _, _ in pieces]
    parse = chosen.parse
    seg_score = chosen.seg_score
    flags: list[str] = [*crop.flags, *work.seg.flags, *chosen.flags]
    if any(seg.merged for seg in work.seg.segments):
        flags.append("merged_strokes")
    if work.cell_mode and crop.name == "account" and _cells_skipped(pieces):
        flags.append("cells_skipped")  # a digit may be missing where a cell was left empty
    if crop.name == "amount" and not work.cell_mode and reading.value is not None:
        # only digits next to each other in the reading: a mark between them was not seen
        read = [(b, lab) for b, lab in zip(boxes, labels, strict=True) if lab != REJECT]
        if wide_gap([b for b, _ in read], [lab for _, lab in read]):
            flags.append("wide_gap")
    if crop.name == "amount" and reading.value is not None and _looks_like_date(labels):
        flags.append("looks_like_date")  # a date row taken for the amount, most likely
    if work.seg.lost_marks and lost_mark_matters(work, boxes, labels, reading.value, cfg):
        flags.append("mark_dropped")
    joined = work.seg.joined_marks
    if (
        crop.name == "amount"
        and joined
        and reading.value is not None
        and lost_mark_matters(work, boxes, labels, reading.value, cfg, joined)
    ):
        flags.append("mark_joined")  # a point written against a digit (hdr.segment.joined)
    same = same_value_probs(labels, post_matrix, reading.value, lambda labs: parse(labs).value)
    confidence = field_confidence(same, seg_score) if reading.value is not None else 0.0
    value = reading.value
    if work.line is not None and line_value != value:
        if crop.name == "amount" and tail_read_as_digits(work.line.labels, labels, value):
            flags.append("line_read_tail")  # the same value, but for the "/-" it reads as digits
        elif crop.name == "amount" and line_missed_marks(work.line.labels, labels, value):
            flags.append("line_missed_marks")  # the same digits; it left out marks we read
        else:
            flags.append("readers_disagree")  # a person decides; both readings are shown
            if line_value is not None and _line_wins(
                work.line, labels, post_matrix, confidence, value
            ):
                value, confidence = line_value, work.line.prob
    status, out_flags = decide_field(
        crop.name, value, confidence, flags, min(same, default=0.0), cfg.decision
    )
    glyphs = []
    for (piece, post, cell), label in zip(pieces, labels, strict=True):
        top = np.argsort(-post)[:3]
        found = _classified(batches, piece)
        glyphs.append(
            GlyphResult(
                box=piece.box,
                label=label,
                prob=round(float(post.max()), 6),
                topk=tuple((LABELS[int(k)], round(float(post[k]), 6)) for k in top),
                split=piece.split,
                cell=piece.cell if piece.cell is not None else cell,
                image=None if found is None else found[1],
            )
        )
    return FieldResult(
        name=crop.name,
        value=value,
        confidence=round(confidence, 6),
        status=status,
        flags=out_flags,
        glyphs=tuple(glyphs),
        raw_text=_text(labels),
        box=crop.box,
        located_by=crop.located_by,
        crop_png=png,
        line_text=None if work.line is None else _text(work.line.labels),
        line_confidence=None if work.line is None else round(work.line.prob, 6),
    )


def _text(labels: Sequence[str]) -> str:
    """Labels as the text stored beside a field (``?`` for a reject)."""
    return "".join("?" if lab == REJECT else lab for lab in labels)


def _line_value(work: _Work, cfg: PipelineConfig) -> str | None:
    """The value of the line reader's labels (no glyph boxes: every glyph counts as digit-sized)."""
    if work.line is None:
        return None
    labels = work.line.labels
    if work.crop.name == "account":  # the account rules take no boxes
        return _parser(work, (), cfg)(labels).value
    return parse_amount(labels, set(range(len(labels)))).value


def read_lines(works: Sequence[_Work], line_reader: Any) -> None:
    """The line reader's reading of every segmented field, in one batched call."""
    from hdr.classify.lines import decode_best_path, line_image

    todo: list[tuple[_Work, np.ndarray]] = []
    for work in works:
        image = None if work.seg is None else line_image(work.seg)
        if image is not None:
            todo.append((work, image))
    if not todo:
        return
    frames = line_reader.logprobs(np.stack([img for _, img in todo]))
    for (work, _), logp in zip(todo, frames, strict=True):
        labels, prob = decode_best_path(logp)
        work.line = LineReading(labels, prob, np.asarray(logp, np.float64))


LINE_MARGIN = 0.0  # log-odds the line reader's reading must win by to be the value shown


def _line_wins(
    line: LineReading,
    labels: Sequence[str],
    probs: np.ndarray,
    confidence: float,
    value: str | None,
) -> bool:
    """Whether the line reader's reading, not the glyph reader's, is the value to show.

    Always where the glyph reader read no value. Where both read one, only when the line reader
    reads no more digits than the glyph reader and its reading is the likelier. The two readers
    fail in opposite directions: the glyph reader adds digits where it cuts touching digits or
    takes a stroke for a digit (``2515.99`` as ``22515.99``), and the line reader adds them
    where it reads a flourish as digits. On real cheques, whose ``/-`` tails are long flourishes
    no synthetic page draws, it reads the tail (``329,000/-`` as ``32900011``) or a group mark
    (``5,75,010`` as ``5731010``) as digits where the glyph reader reads none, so a reading
    with more digits than the glyph reader's never wins. Each reading is scored by both readers:
    the line reader's CTC likelihood of its labels, plus the glyph reader's log-probability of
    them (its field confidence for its own reading; for the line reader's, the glyph
    probabilities of its labels where they pair one to one with the glyphs, else the glyph
    reader's doubt in its own reading, 1 - confidence).
    """
    from hdr.classify.lines import ctc_log_likelihood

    if not labels or value is None:
        return True
    if sum(lab in DIGITS for lab in line.labels) > sum(lab in DIGITS for lab in labels):
        return False
    tiny = 1e-12
    own = ctc_log_likelihood(line.logprobs, labels) + math.log(max(confidence, tiny))
    if len(line.labels) == len(labels):
        index = [LABELS.index(lab) if lab in LABELS else _REJECT for lab in line.labels]
        glyph = float(np.log(np.maximum(probs[np.arange(len(index)), index], tiny)).sum())
    else:
        glyph = math.log(max(1.0 - confidence, tiny))
    other = ctc_log_likelihood(line.logprobs, line.labels) + glyph
    return other > own + LINE_MARGIN


def recognize_fields(
    crops: Sequence[FieldCrop], classifier: Any, cfg: PipelineConfig, line_reader: Any = None
) -> list[FieldResult]:
    """One :class:`FieldResult` per crop, in order; glyphs of all crops classified together.

    ``classifier`` has ``predict_proba(N x 28 x 28 float32) -> N x NUM_CLASSES`` (see
    :func:`hdr.classify.predictor.load_classifier`); ``line_reader`` (optional) has
    ``logprobs(N x 32 x 384) -> N x frames x classes`` (:class:`hdr.classify.lines.LineReader`):
    a field whose value it does not read too goes to review (``readers_disagree``), showing
    the likelier of the two readings (:func:`_line_wins`).
    """
    works = [_segment(crop) for crop in crops]
    if line_reader is not None:
        read_lines(works, line_reader)
    first = _Batch()
    for work in works:
        shifted = work.crop.name in cfg.model.average_shifts
        for seg in work.seg.segments if work.seg else ():
            first.add(seg.piece, shifted)
            for option in seg.options if seg.eager else ():
                for piece in option:
                    first.add(piece, shifted)
        for join in work.seg.joins if work.seg else ():
            if join is not None:
                first.add(join, shifted)
    first.run(classifier)
    second = _Batch()  # cuts of components the classifier was unsure of as one glyph
    for work in works:
        shifted = work.crop.name in cfg.model.average_shifts
        for seg in work.seg.segments if work.seg else ():
            if seg.options and not seg.eager:
                whole = first.get(seg.piece)
                if whole is not None and _unsure(
                    _posterior(work, seg.piece, whole[0]), cfg.decision.min_glyph_prob
                ):
                    for option in seg.options:
                        for piece in option:
                            second.add(piece, shifted)
    second.run(classifier)
    return [_result(work, (first, second), cfg) for work in works]


def decide_page(
    layout: LayoutLike,
    fields: Mapping[str, FieldResult],
    page_flags: Sequence[str],
    cfg: PipelineConfig,
) -> tuple[Status, tuple[str, ...]]:
    """Page status and reasons: see :func:`hdr.assemble.decide.decide_page`."""
    return _decide_page(layout, fields, page_flags, cfg)
