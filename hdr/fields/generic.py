"""Field location without a template: score what is printed and decide which box is which.

The amount box is a printed rectangle, wider than tall, usually in the right half of the page,
often with a currency mark inside its left end, just left of it, or in a small cell of its own.
The account number is a row of 8 to 24 adjacent equal cells that is not the date row (8 small
cells at the top right). With no printed amount box, the amount is the handwriting on the right
above a rule that starts after a currency mark. Every choice carries a score; a low or contested
score makes the caller flag ``layout_unsure``.

>>> from hdr.fields.lines import Rect
>>> from hdr.fields.structure import Structure
>>> st = Structure(width=1600, height=700, rects=(Rect((1200, 260, 1540, 350)),))
>>> import numpy as np
>>> find_amount(st, np.zeros((700, 1600), np.uint8)).box
(1200, 260, 1540, 350)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from hdr.fields.lines import (
    CellRow,
    adjacent_runs,
    join_collinear,
    stacked_pairs,
    tiled_unions,
    union,
)
from hdr.fields.marks import MARK_MIN_SCORE, find_mark
from hdr.fields.structure import Structure
from hdr.types import Box

AMOUNT_MIN_SCORE = 0.45  # below: no amount box
AMOUNT_SURE_SCORE = 0.6  # below, or a rival within AMOUNT_MARGIN: layout_unsure
AMOUNT_MARGIN = 0.1
UNBOXED_MAX_SCORE = 0.7  # the most an amount without a printed box can score
ACCOUNT_MIN_SCORE = 0.5
CHEQUE_ASPECT = (1.6, 3.2)  # width / height of cheques and most paying-in slips


@dataclass(frozen=True)
class AmountCandidate:
    box: Box  # where the amount is written (page px; the printed border excluded)
    score: float
    mark: str = ""  # the currency mark found next to it ("" if none)
    mark_box: Box | None = None
    boxed: bool = True  # False: handwriting above a rule, no printed rectangle
    contested: bool = False  # another box scored almost as well


@dataclass(frozen=True)
class AccountCandidate:
    row: CellRow
    score: float


def _interior_ink(ink: np.ndarray, box: Box) -> float:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    mx, my = max(1, w // 20), max(1, h // 8)
    patch = ink[y0 + my : y1 - my, x0 + mx : x1 - mx]
    return float(np.count_nonzero(patch)) / patch.size if patch.size else 0.0


def _in_a_row(box: Box, structure: Structure) -> bool:
    """True when ``box`` lies in the band of a detected cell row (a cell, or cells whose
    separators were too faint to split them)."""
    cx = (box[0] + box[2]) / 2
    for row in structure.rows:
        x0, y0, x1, y1 = row.box
        tol = 0.25 * (y1 - y0)
        if x0 <= cx <= x1 and box[1] >= y0 - tol and box[3] <= y1 + tol:
            return True
    return False


def _score_amount_run(
    structure: Structure, ink: np.ndarray, run: list[Box]
) -> AmountCandidate | None:
    """Score side-by-side rectangles (one box, or one split by dividers) as the amount box."""
    W, H = structure.width, structure.height
    lead: Box | None = None
    if len(run) >= 2 and (run[0][2] - run[0][0]) <= 1.6 * (run[0][3] - run[0][1]):
        lead, run = run[0], run[1:]  # a small first cell: a printed currency mark or label
    box = union(run)
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if not (0.07 * W <= w <= 0.75 * W and 0.03 * H <= h <= 0.3 * H and 1.8 <= w / h <= 14):
        return None
    cx, cy = (x0 + x1) / 2 / W, (y0 + y1) / 2 / H
    score = 0.3 * float(np.clip((cx - 0.3) / 0.45, 0.0, 1.0))
    score += 0.15 if 2.5 <= w / h <= 8 else 0.07
    score += 0.1 if 0.12 <= w / W <= 0.65 else 0.0
    if cy > 0.85:  # the code line band at the bottom
        score -= 0.3
    if 0.005 <= _interior_ink(ink, box) <= 0.4:
        score += 0.1  # something is written in it
    # the currency mark: in the small first cell, just left outside, or inside the left end
    regions: list[tuple[Box, bool]] = [
        ((x0, y0, x0 + round(min(0.4 * w, 1.5 * h)), y1), True),
        ((x0 - round(1.6 * h), y0 - h // 4, x0, y1 + h // 4), False),
    ]
    if lead is not None:
        regions.insert(0, (lead, False))
        score += 0.1
    mark, mark_box = "", None
    for region, inside in regions:
        found, mscore, mbox = find_mark(ink, region, max(6, round(0.35 * h)), round(1.05 * h))
        if mscore >= MARK_MIN_SCORE:
            mark, mark_box = found, mbox
            score += 0.4
            if inside:  # the write-in area starts after the printed mark
                box = (min(mbox[2] + max(2, h // 20), x1 - h), y0, x1, y1)
            break
    if lead is not None and mark_box is None:
        box = union([lead, box])  # not a mark after all: it may hold the first digits
    return AmountCandidate(box=box, score=round(score, 3), mark=mark, mark_box=mark_box)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _unboxed_amount(structure: Structure, ink: np.ndarray) -> AmountCandidate | None:
    """Handwriting above a rule that begins at a currency mark (no printed box, or a box whose
    sides the scan lost)."""
    W, H = structure.width, structure.height
    best: AmountCandidate | None = None
    rules = join_collinear(list(structure.h_rules), round(0.03 * W))  # digits cut the line
    row_lines = [(r.box[1], r.box[3], r.box[0], r.box[2]) for r in structure.rows]
    for rule in rules:
        if not 0.08 * W <= rule.length <= 0.6 * W:
            continue
        if any(
            x0 - 5 <= (rule.start + rule.end) / 2 <= x1 + 5
            and (abs(rule.pos - y0) <= 5 or abs(rule.pos - y1) <= 5)
            for y0, y1, x0, x1 in row_lines
        ):
            continue  # a cell row's own rule
        # up to the rule above it if it has about the same ends (a box's top whose sides were
        # lost), else a line's height
        slack = 0.25 * rule.length
        above = [
            r
            for r in structure.h_rules
            if 0.08 * H <= rule.pos - r.pos <= 0.25 * H  # (closer: a strike-through)
            and abs(r.start - rule.start) <= slack
            and abs(r.end - rule.end) <= slack
        ]
        lid = max(above, key=lambda r: r.pos) if above else None
        top = lid.pos if lid else max(0, rule.pos - round(0.12 * H))
        right = max(rule.end, lid.end) if lid else rule.end
        band_top = min(top, max(0, rule.pos - round(0.12 * H)))
        mark, mscore, mbox = find_mark(
            ink,
            (rule.start - round(0.08 * W), band_top, rule.start + round(0.05 * W), rule.pos + 2),
            max(6, round(0.025 * H)),
            round(0.12 * H),
        )
        if mscore < MARK_MIN_SCORE:
            continue
        box = (mbox[2] + 2, top, right, rule.pos)
        if box[2] - box[0] < 0.06 * W:
            continue
        # a currency mark at the start of a rule with writing over it: almost a box with one
        score = 0.4 + 0.1 * float(0.005 <= _interior_ink(ink, box) <= 0.4)
        score += 0.1 * float((box[0] + box[2]) / 2 > 0.5 * W)
        score += 0.1 * min(1.0, rule.length / (0.2 * W))  # an underline, not a digit's stroke
        if best is None or score > best.score:
            best = AmountCandidate(box, round(score, 3), mark, mbox, boxed=False)
    return best


def _in_a_column(candidate: AmountCandidate, boxes: list[Box]) -> bool:
    """A box with others of its width stacked close above or below it: a table's column.

    Three such boxes make a column (a box cut across by a stroke is only two)."""
    x0, y0, x1, y1 = candidate.box
    w = x1 - x0
    column = [b for b in boxes if abs(b[0] - x0) <= 0.05 * w and abs(b[2] - x1) <= 0.05 * w]
    near = [
        b for b in column if b[1] - y1 <= 1.5 * (b[3] - b[1]) and y0 - b[3] <= 1.5 * (b[3] - b[1])
    ]
    return len(near) >= 3


def find_amount(structure: Structure, ink: np.ndarray) -> AmountCandidate | None:
    """The most amount-like box on the page (or handwriting on a rule after a mark), or None.

    The winner is ``contested`` when another place, apart from it, scores within
    AMOUNT_MARGIN; a winner with no plausible rival at all earns a little confidence.
    """
    boxes = [r.box for r in structure.rects if not _in_a_row(r.box, structure)]
    runs = adjacent_runs(boxes)
    # a box cut across by a stroke (a strike-through, a long dash) is two boxes one above the
    # other: their union is a candidate too
    runs += [[union([a, b])] for a, b in stacked_pairs(boxes)]
    runs += [[u] for u in tiled_unions(boxes)]
    candidates = [_score_amount_run(structure, ink, run) for run in runs]
    boxed_best = max((c.score for c in candidates if c is not None), default=0.0)
    if boxed_best < UNBOXED_MAX_SCORE:  # else no unboxed amount could win
        candidates.append(_unboxed_amount(structure, ink))
    scored = sorted((c for c in candidates if c is not None), key=lambda c: -c.score)
    if not scored or scored[0].score < AMOUNT_MIN_SCORE:
        return None
    best = scored[0]
    others = [c for c in scored[1:] if not _overlaps(c.box, best.box)]
    if any(c.score >= best.score - AMOUNT_MARGIN for c in others) or _in_a_column(best, boxes):
        return replace(best, contested=True)
    if not any(c.score >= AMOUNT_MIN_SCORE for c in others):
        return replace(best, score=round(best.score + 0.1, 3))
    return best


def _looks_like_date(row: CellRow, structure: Structure) -> bool:
    x0, _, x1, y1 = row.box
    return row.count <= 8 and y1 < 0.3 * structure.height and (x0 + x1) / 2 > 0.5 * structure.width


def find_account(
    structure: Structure, length: tuple[int, int], avoid: Box | None = None
) -> AccountCandidate | None:
    """The row of equal cells most likely to hold an account number of ``length`` digits."""
    lo, hi = length
    best: AccountCandidate | None = None
    for row in structure.rows:
        if row.count < max(lo, 4) or row.count > max(hi, 24) or _looks_like_date(row, structure):
            continue
        if avoid is not None and _overlaps(row.box, avoid):
            continue
        heights = [c[3] - c[1] for c in row.cells]
        widths = [c[2] - c[0] for c in row.cells]
        ratio = float(np.median(heights)) / max(float(np.median(widths)), 1.0)
        score = 0.5 if lo <= row.count <= hi else 0.35
        score += 0.2 if 0.7 <= ratio <= 3.0 else 0.0
        score += 0.1 if row.count >= 10 else 0.0  # dates and codes are shorter
        score += 0.15 if float(np.std(widths)) <= 0.12 * float(np.mean(widths)) else 0.0
        if best is None or score > best.score:
            best = AccountCandidate(row, round(score, 3))
    return best if best is not None and best.score >= ACCOUNT_MIN_SCORE else None


def looks_like_document(
    structure: Structure, amount: AmountCandidate | None, account: AccountCandidate | None
) -> bool:
    """Whether this page is a bank document (the pages asked about have passed the paper
    checks of :mod:`hdr.fields.locate`: bare paper with strokes on it, not blank).

    A cheque or slip has one amount box: a box with a currency mark, or one that no other
    box rivals, is enough; a weak or contested box (a table's cells) needs an account row
    beside it. Any other page counts only when it is shaped like a cheque or a paying-in slip
    (small print on a letter can line up like cells, an invoice has boxes): then it is one,
    whatever was found on it. A low-resolution bitonal scan breaks the printed rules into
    dashes that no locator may find, and a cheque turned away as "not a document" is never
    seen by a person; a cheque-shaped page whose fields were not found goes to review with
    ``field_not_found`` instead.
    """
    if amount is not None and (
        amount.mark or (amount.score >= AMOUNT_SURE_SCORE and not amount.contested)
    ):
        return True
    if amount is not None and account is not None:
        return True
    aspect = structure.width / max(structure.height, 1)
    return CHEQUE_ASPECT[0] <= aspect <= CHEQUE_ASPECT[1]
