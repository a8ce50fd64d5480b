"""Pages that are not bank documents: a typed letter, an invoice table, a photo-like picture.

The pipeline must reject them (status ``rejected``), so they carry printed digits, ruled lines
and boxes, things a careless reader could mistake for a cheque's fields.

>>> import numpy as np
>>> from hdr.synth.other import draw_other_page
>>> page = draw_other_page(np.random.default_rng(0), dpi=100)
>>> page.mode
'RGB'
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from hdr.synth.printed import BANKS, SANS, SANS_BOLD, font_at

_WORDS_TEXT = (
    "the of and to in is that for it as with was on be by this are from at or an have not "
    "which they one you were all we when there can more if no out so said what up its about "
    "into than them only other new some could time these two may then do first any my now "
    "such like our over man me even most made after also did many before must through back "
    "years where much your way well down should because each just those people how too little"
)
WORDS = _WORDS_TEXT.split()
KINDS = ("letter", "invoice", "picture")


def _sentence(rng: np.random.Generator, n: int) -> str:
    words = [WORDS[int(i)] for i in rng.integers(0, len(WORDS), n)]
    return " ".join(words).capitalize() + "."


def _letter(draw: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator) -> None:
    size = max(8, h // 60)
    y = h * 0.06
    draw.text(
        (w * 0.08, y),
        BANKS[int(rng.integers(len(BANKS)))],
        fill=(20, 20, 60),
        font=font_at(SANS_BOLD, int(size * 1.6)),
    )
    y += size * 4
    draw.text(
        (w * 0.08, y),
        f"Ref. {int(rng.integers(10000, 99999))}/{int(rng.integers(1, 12))}",
        fill=(30, 30, 30),
        font=font_at(SANS, size),
    )
    y += size * 3
    while y < h * 0.88:
        line = _sentence(rng, int(rng.integers(6, 12)))
        draw.text((w * 0.08, y), line, fill=(25, 25, 25), font=font_at(SANS, size))
        y += size * (1.6 if rng.random() < 0.85 else 3.2)


def _invoice(draw: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator) -> None:
    size = max(8, h // 55)
    draw.text((w * 0.08, h * 0.05), "INVOICE", fill=(20, 20, 20), font=font_at(SANS_BOLD, size * 2))
    x0, x1 = int(w * 0.08), int(w * 0.92)
    rows = int(rng.integers(6, 14))
    top, row_h = int(h * 0.18), int(size * 2.2)
    for r in range(rows + 1):
        y = top + r * row_h
        draw.line((x0, y, x1, y), fill=(40, 40, 40), width=max(1, size // 10))
    for c in (0.0, 0.55, 0.7, 1.0):
        x = int(x0 + c * (x1 - x0))
        draw.line((x, top, x, top + rows * row_h), fill=(40, 40, 40), width=max(1, size // 10))
    for r in range(rows):
        y = int(top + r * row_h + row_h * 0.2)
        draw.text((x0 + 6, y), _sentence(rng, 3)[:30], fill=(30, 30, 30), font=font_at(SANS, size))
        qty, price = int(rng.integers(1, 20)), int(rng.integers(100, 99999))
        draw.text((x0 + 0.57 * (x1 - x0), y), str(qty), fill=(30, 30, 30), font=font_at(SANS, size))
        draw.text(
            (x0 + 0.72 * (x1 - x0), y),
            f"{price / 100:.2f}",
            fill=(30, 30, 30),
            font=font_at(SANS, size),
        )


def _picture(draw: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator) -> None:
    for _ in range(int(rng.integers(15, 40))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.03, 0.25) * min(w, h)
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.rectangle((x - r, y - r * 0.6, x + r, y + r * 0.6), fill=colour)


def draw_other_page(rng: np.random.Generator, dpi: int) -> Image.Image:
    """An A5 page (portrait or landscape) that is not a bank document."""
    kind = KINDS[int(rng.integers(len(KINDS)))]
    w, h = round(148 / 25.4 * dpi), round(210 / 25.4 * dpi)
    if rng.random() < 0.3:
        w, h = h, w
    paper = (250, 250, 247) if kind != "picture" else tuple(int(c) for c in rng.integers(0, 256, 3))
    img = Image.new("RGB", (w, h), paper)
    draw = ImageDraw.Draw(img)
    {"letter": _letter, "invoice": _invoice, "picture": _picture}[kind](draw, w, h, rng)
    return img
