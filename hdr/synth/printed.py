"""The printed parts of a document: paper tint, security background, labels, boxes, code line.

Everything is drawn from a template's anchors, so the printed landmarks are exactly where the
template says. Bank names are invented; the MICR-style code line uses a bold monospace font
with the E-13B special symbols drawn as bars.

>>> import numpy as np
>>> from hdr.fields.templates import load_templates
>>> from hdr.synth.printed import draw_printed
>>> page = draw_printed(load_templates()[0], 800, 366, np.random.default_rng(0))
>>> page.size
(800, 366)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from hdr.fields.templates import Anchor, Template

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
SANS, SANS_BOLD, SERIF_BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif-Bold.ttf"
MONO_BOLD = "DejaVuSansMono-Bold.ttf"
BANKS = (
    "Bank of Arcadia",
    "First Meridian Bank",
    "Northwind Savings",
    "Cooperative Bank of Lorien",
    "Union Harbour Bank",
    "Banque du Val d'Ys",
    "Sparkasse Neustadt",
    "Bharat Sahakari Bank",
    "Emerald Coast Credit Union",
    "Crescent Trust Bank",
)
STREETS = ("MG Road", "Elm Street", "Rue des Lilas", "Park Avenue", "Station Road", "Hauptstrasse")
NAMES = (
    "A. SHARMA",
    "JOHN Q SAMPLE",
    "MARIE DUPONT",
    "R. KRISHNAN",
    "LENA MÜLLER",
    "PRIYA NAIR",
    "SAM OKAFOR",
    "ELENA ROSSI",
)
BANK_COLOURS = ((20, 40, 110), (110, 20, 30), (15, 80, 45), (60, 30, 90), (30, 30, 30))


@lru_cache(maxsize=128)
def font_at(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT_DIR + name, size=max(6, size))


def _px(box: tuple[float, ...], w: int, h: int) -> tuple[int, int, int, int]:
    return (round(box[0] * w), round(box[1] * h), round(box[2] * w), round(box[3] * h))


def _fit_text(
    draw: ImageDraw.ImageDraw,
    text: str,
    box: tuple[int, int, int, int],
    name: str,
    colour: tuple[int, int, int],
    align: str = "left",
) -> None:
    x0, y0, x1, y1 = box
    size = max(6, int((y1 - y0) * 0.8))
    font = font_at(name, size)
    width = draw.textlength(text, font=font)
    if width > x1 - x0:
        size = max(6, int(size * (x1 - x0) / width))
        font = font_at(name, size)
        width = draw.textlength(text, font=font)
    x = x0 if align == "left" else x1 - width
    draw.text((x, (y0 + y1) / 2), text, fill=colour, font=font, anchor="lm")


def variable_texts(template: Template, rng: np.random.Generator) -> dict[str, str]:
    """Values for the ``{...}`` placeholders: bank, branch, payer, number, micr."""
    number = f"{int(rng.integers(100000, 999999))}"
    routing = "".join(str(d) for d in rng.integers(0, 10, 9))
    street = STREETS[int(rng.integers(len(STREETS)))]
    code = "".join(chr(65 + int(c)) for c in rng.integers(0, 26, 4))
    account = int(rng.integers(100000, 999999))
    return {
        "bank": BANKS[int(rng.integers(len(BANKS)))],
        "branch": f"{street} Branch  IFSC {code}0{int(rng.integers(100000, 999999))}",
        "payer": NAMES[int(rng.integers(len(NAMES)))] + f", {int(rng.integers(1, 99))} {street}",
        "number": number[-4:],
        "micr": f"A{number}A {routing}B {account}C {int(rng.integers(10, 99))}",
    }


def _background(
    draw: ImageDraw.ImageDraw,
    template: Template,
    w: int,
    h: int,
    colour: tuple[int, int, int],
    rng: np.random.Generator,
) -> None:
    kind = template.style.background
    step = max(4, w // 120)
    if kind == "guilloche":
        t = np.linspace(0, 2 * np.pi, 600)
        for k in range(14):
            phase = rng.uniform(0, 2 * np.pi)
            xs = w * (0.5 + 0.48 * np.sin(t * 3 + phase) * np.cos(t * (1 + k % 3)))
            ys = h * (0.5 + 0.45 * np.sin(t * (2 + k % 4) + phase))
            draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=colour, width=1)
    elif kind == "waves":
        xs = np.arange(0, w + step, step, dtype=np.float64)
        for y in range(0, h, step * 2):
            ys = y + step * 0.8 * np.sin(xs / (step * 6) + y)
            draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=colour, width=1)
    elif kind == "dots":
        r = max(1, step // 5)
        for y in range(step, h, step * 2):
            for x in range(step + (y // step % 2) * step, w, step * 2):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    elif kind == "lines":
        for y in range(0, h, step * 2):
            draw.line((0, y, w, y), fill=colour, width=1)


def _micr(draw: ImageDraw.ImageDraw, text: str, box: tuple[int, int, int, int]) -> None:
    """Digits in a bold monospace; A/B/C stand for the E-13B transit, amount, on-us symbols."""
    x0, y0, x1, y1 = box
    size = max(8, int((y1 - y0) * 0.8))
    font = font_at(MONO_BOLD, size)
    advance = draw.textlength("0", font=font)
    if advance * len(text) > x1 - x0:
        size = max(8, int(size * (x1 - x0) / (advance * len(text))))
        font = font_at(MONO_BOLD, size)
        advance = draw.textlength("0", font=font)
    x, ym = float(x0), (y0 + y1) / 2
    bar_h = size * 0.7
    for ch in text:
        if ch.isdigit():
            draw.text((x, ym), ch, fill=(10, 10, 10), font=font, anchor="lm")
        elif ch in "ABC":
            bw = max(1.0, advance * 0.18)
            heights = {"A": (1.0, 0.45), "B": (0.45, 1.0), "C": (1.0, 0.3)}[ch]
            for k, frac in enumerate(heights):
                bx = x + k * advance * 0.4
                hh = bar_h * frac
                draw.rectangle(
                    (bx, ym - bar_h / 2, bx + bw, ym - bar_h / 2 + hh), fill=(10, 10, 10)
                )
        x += advance


def _draw_anchor(
    draw: ImageDraw.ImageDraw,
    a: Anchor,
    box: tuple[int, int, int, int],
    texts: dict[str, str],
    ink: tuple[int, int, int],
    bank_ink: tuple[int, int, int],
    lw: int,
    comb: bool,
) -> None:
    x0, y0, x1, y1 = box
    if a.kind == "rect":
        draw.rectangle(box, outline=ink, width=lw)
        if a.name == "details_table":  # a deposit slip's cheque list: a ruled grid
            rows, cols = 5, 3
            for r in range(1, rows):
                y = y0 + (y1 - y0) * r // rows
                draw.line((x0, y, x1, y), fill=ink, width=max(1, lw // 2))
            for c in range(1, cols):
                x = x0 + (x1 - x0) * c // cols
                draw.line((x, y0, x, y1), fill=ink, width=max(1, lw // 2))
    elif a.kind == "cells":
        n = a.cells or 1
        if comb:  # a comb: a base line and short ticks, the other common cell style
            draw.line((x0, y1, x1, y1), fill=ink, width=lw)
            for i in range(n + 1):
                xf = x0 + (x1 - x0) * i / n
                draw.line((xf, y1 - (y1 - y0) * 0.35, xf, y1), fill=ink, width=lw)
        else:
            draw.rectangle(box, outline=ink, width=lw)
            for i in range(1, n):
                xf = x0 + (x1 - x0) * i / n
                draw.line((xf, y0, xf, y1), fill=ink, width=max(1, lw - 1))
    elif a.kind == "line":
        y = (y0 + y1) // 2
        draw.line((x0, y, x1, y), fill=ink, width=max(1, lw - 1))
    elif a.kind == "micr":
        _micr(draw, (a.text or "{micr}").format(**texts), box)
    elif a.text:
        if a.name == "bank":
            _fit_text(draw, a.text.format(**texts), box, SERIF_BOLD, bank_ink)
        elif a.variable:
            _fit_text(draw, a.text.format(**texts), box, SANS, ink)
        else:
            _fit_text(draw, a.text, box, SANS_BOLD if a.text.isupper() else SANS, ink)


def draw_printed(
    template: Template,
    width: int,
    height: int,
    rng: np.random.Generator,
    texts: dict[str, str] | None = None,
    plain: bool = False,
) -> Image.Image:
    """A fresh page of ``width`` x ``height`` px with every printed part of ``template``."""
    tint = np.clip(np.array(template.style.tint) + rng.integers(-6, 7, 3), 0, 255)
    paper = tuple(int(c) for c in tint)
    img = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(img)
    if not plain:
        pattern = tuple(int(c) for c in np.clip(tint - rng.integers(14, 30), 170, 255))
        _background(draw, template, width, height, pattern, rng)  # type: ignore[arg-type]
    texts = texts or variable_texts(template, rng)
    bank_ink = BANK_COLOURS[int(rng.integers(len(BANK_COLOURS)))]
    grey = int(rng.integers(20, 80))
    ink = (grey, grey, grey) if rng.random() < 0.6 else bank_ink
    lw = max(1, round(width / template.page.width_mm * rng.uniform(0.18, 0.32)))
    comb = rng.random() < 0.25
    for a in template.anchors:
        _draw_anchor(draw, a, _px(a.box, width, height), texts, ink, bank_ink, lw, comb)
    return img
