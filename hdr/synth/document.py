"""One synthetic page: printed layout + handwriting + scan effects, with its exact truth.

>>> import numpy as np
>>> from hdr.synth.document import PageSpec, render_page
>>> page = render_page(PageSpec(layout="us_personal", dpi=150), np.random.default_rng(7))
>>> page.truth["layout"], page.image.ndim in (2, 3)
('us_personal', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from hdr.fields.templates import Template, load_templates
from hdr.synth import amounts
from hdr.synth.handwriting import (
    PlacedGlyph,
    Writer,
    composite,
    scribble,
    strike_through,
    write_cells,
    write_line,
    write_text,
)
from hdr.synth.other import draw_other_page
from hdr.synth.printed import draw_printed, variable_texts
from hdr.synth.scan import ScanParams, map_box, scan
from hdr.synth.truth import NOT_A_DOCUMENT, expected_status
from hdr.synth.unseen import UNSEEN_TEMPLATES

PAYEES = (
    "Ravi Kumar",
    "J. Smith",
    "Anna Weber",
    "City Power Ltd",
    "M. Laurent",
    "Self",
    "Green Grocers",
    "K. Iyer",
)


@lru_cache(maxsize=1)
def all_templates() -> dict[str, Template]:
    """Shipped templates (configs/templates) then the unseen ones, by name."""
    return {t.name: t for t in (*load_templates(), *UNSEEN_TEMPLATES)}


@dataclass(frozen=True)
class PageSpec:
    """What to draw; None fields are drawn at random by :func:`render_page`."""

    layout: str | None = None  # template name, or "not_a_document"
    dpi: int = 200
    hard_case: str | None = None
    clean: bool = False  # no scan effects, no touching or straying digits, plain paper
    bilevel_ok: bool = False  # the file format can hold a bilevel page (TIFF G4)
    digit_split: str = "test"  # MNIST split of the handwritten digits (synth.handwriting)


@dataclass(frozen=True)
class RenderedPage:
    image: np.ndarray  # HxWx3 RGB or HxW gray (0/255 when mode "1")
    mode: str
    truth: dict[str, Any]  # TruthRecord fields except file, page, pages, format


def _box_px(box: tuple[float, ...], w: int, h: int) -> tuple[float, float, float, float]:
    return (box[0] * w, box[1] * h, box[2] * w, box[3] * h)


def _glyphs(placed: list[PlacedGlyph], m: np.ndarray, size: tuple[int, int]) -> list[dict]:
    return [
        {"label": g.label, "box": map_box(m, g.box, size), "source": g.source, "cell": g.cell}
        for g in placed
    ]


def _extras(
    layer: np.ndarray,
    t: Template,
    w: int,
    h: int,
    value: str | None,
    writer: Writer,
    rng: np.random.Generator,
    clean: bool,
) -> None:
    """Payee, amount in words, date and signature: handwriting the truth does not describe."""
    for a in t.anchors:
        x0, y0, x1, y1 = _box_px(a.box, w, h)
        line_h = h * 0.06
        if a.name == "payee_line" and not clean:
            write_text(
                layer,
                PAYEES[int(rng.integers(len(PAYEES)))],
                x0 + 0.05 * (x1 - x0),
                y0,
                line_h,
                writer,
                0.9 * (x1 - x0),
            )
        elif a.name in ("words_line", "words_line_1") and value and not clean:
            words = amounts.amount_in_words(value)
            write_text(layer, words, x0 + 0.02 * (x1 - x0), y0, line_h, writer, 0.96 * (x1 - x0))
        elif a.name == "date_cells" and not clean:
            n = a.cells or 8
            cw = (x1 - x0) / n
            date = f"{int(rng.integers(1, 29)):02d}{int(rng.integers(1, 13)):02d}2025"
            for i, c in enumerate(date[:n]):
                write_text(
                    layer,
                    c,
                    x0 + i * cw + 0.2 * cw,
                    y1 - 0.15 * (y1 - y0),
                    0.6 * (y1 - y0),
                    writer,
                    0.7 * cw,
                )
        elif a.name == "date_line" and not clean:
            date = f"{int(rng.integers(1, 29))}/{int(rng.integers(1, 13))}/2025"
            write_text(layer, date, x0 + 0.1 * (x1 - x0), y0, line_h, writer, 0.85 * (x1 - x0))
        elif a.name == "signature_line" and not clean:
            scribble(
                layer, (x0 + 0.1 * (x1 - x0), y0 - 0.09 * h, x1 - 0.05 * (x1 - x0), y0), writer, rng
            )


def _page_size(t: Template, dpi: int) -> tuple[int, int]:
    return round(t.page.width_mm / 25.4 * dpi), round(t.page.height_mm / 25.4 * dpi)


def render_page(spec: PageSpec, rng: np.random.Generator) -> RenderedPage:
    """Draw one page as ``spec`` says, everything else at random from ``rng``."""
    params = ScanParams.draw(rng, clean=spec.clean, bilevel_ok=spec.bilevel_ok)
    if NOT_A_DOCUMENT in (spec.layout, spec.hard_case):
        doc = np.asarray(draw_other_page(rng, spec.dpi))
        image, m = scan(doc, params, rng)
        size = (image.shape[1], image.shape[0])
        truth = _truth(NOT_A_DOCUMENT, "other", False, NOT_A_DOCUMENT, spec.dpi, size, params)
        return RenderedPage(image, params.mode, truth)
    templates = all_templates()
    t = templates[spec.layout] if spec.layout else next(iter(templates.values()))
    w, h = _page_size(t, spec.dpi)
    texts = variable_texts(t, rng)
    paper = np.asarray(draw_printed(t, w, h, rng, texts, plain=spec.clean))
    writer = Writer.draw(rng, spec.dpi, clean=spec.clean, digit_split=spec.digit_split)
    layer = np.zeros((h, w), np.float32)
    case = spec.hard_case

    amount_text, value = amounts.draw_amount(t, rng)
    if case == "letter_in_amount":
        amount_text = amounts.insert_letter(amount_text, rng)
    account = amounts.draw_account(t, rng)
    account_text = amounts.insert_letter(account, rng) if case == "letter_in_account" else account

    amount_box = _box_px(t.fields.amount.box, w, h)
    cells = [_box_px(c, w, h) for c in t.fields.account.cell_boxes()]
    placed_amount: list[PlacedGlyph] = []
    placed_account: list[PlacedGlyph] = []
    if case != "blank_amount":
        placed_amount = write_line(layer, amount_text, amount_box, writer, rng)
    if case == "crossed_out" and placed_amount:
        ink = np.array([g.box for g in placed_amount])
        strike_through(layer, (*ink[:, :2].min(0), *ink[:, 2:].max(0)), writer, rng)
    if case != "blank_account":
        placed_account = write_cells(layer, account_text, cells, writer, rng)
    _extras(layer, t, w, h, value, writer, rng, spec.clean)
    doc = composite(paper, layer, writer, rng)

    image, m = scan(doc, params, rng)
    size = (image.shape[1], image.shape[0])
    truth = _truth(t.name, t.kind, t.name.startswith("unseen_"), case, spec.dpi, size, params)
    valid_amount = case not in ("blank_amount", "crossed_out", "letter_in_amount")
    valid_account = case not in ("blank_account", "letter_in_account")
    truth.update(
        amount=value if valid_amount else None,
        account=account if valid_account else None,
        amount_text=amount_text if case != "blank_amount" else None,
        account_text=account_text if case != "blank_account" else None,
        boxes={
            "amount": map_box(m, amount_box, size),
            "account": map_box(m, _box_px(t.fields.account.box, w, h), size),
        },
        cells=[map_box(m, c, size) for c in cells],
        glyphs={
            "amount": _glyphs(placed_amount, m, size),
            "account": _glyphs(placed_account, m, size),
        },
    )
    return RenderedPage(image, params.mode, truth)


def _truth(
    layout: str,
    kind: str,
    unseen: bool,
    case: str | None,
    dpi: int,
    size: tuple[int, int],
    params: ScanParams,
) -> dict[str, Any]:
    return {
        "layout": layout,
        "unseen": unseen,
        "kind": kind,
        "amount": None,
        "account": None,
        "expected_status": expected_status(case),
        "hard_case": case,
        "amount_text": None,
        "account_text": None,
        "boxes": {},
        "cells": [],
        "glyphs": {},
        "dpi": dpi,
        "size": list(size),
        "rotation": round(params.angle, 3),
        "mode": params.mode,
    }
