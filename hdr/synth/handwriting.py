"""Handwriting: MNIST TEST-split digits and font-rendered symbols, placed the way people write.

Digits come from the MNIST *test* split (never valid), so a model trained on MNIST train is
measured honestly on synthetic documents. Only pages made for a model to learn from
(:mod:`hdr.datasets.harvest`) take theirs from the train split (``digit_split="train"``).
Separators, currency marks, fillers, letters and some digits are rendered with handwriting
fonts. Every placed glyph is reported with its label, its box on the page and its source
(``mnist-test:<index>``, ``mnist-train:<index>`` on training pages, ``font:<file>`` or ``pen``
for strokes drawn directly), so tests can re-read it.

Ink is an alpha layer (float32, 0..1) the size of the page; :func:`composite` lays it on paper.

>>> import numpy as np
>>> from hdr.synth.handwriting import Writer, write_line
>>> rng = np.random.default_rng(0)
>>> layer = np.zeros((120, 400), np.float32)
>>> placed = write_line(layer, "1,250/-", (10, 10, 390, 110), Writer.draw(rng, 200), rng)
>>> [g.label for g in placed]
['1', ',', '2', '5', '0', '/', '-']
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from hdr.datasets.fonts import handwriting_fonts, printed_fonts, printed_fonts_for, render_text
from hdr.datasets.mnist import load_mnist

# (height, bottom below the baseline), both in units of the digit height
_SHAPE = {
    ",": (0.30, 0.14),
    "/": (1.10, 0.06),
    "*": (0.45, -0.50),
    "-": (1.00, -0.35),  # the dash of a "/-" tail: about mid-height, as real cheques write it
    "#": (0.80, 0.0),
    "$": (1.15, 0.07),
    "x": (0.60, 0.0),
    "e": (0.62, 0.0),
    "n": (0.62, 0.0),
}
Box = tuple[float, float, float, float]
INK_COLOURS = {
    "blue": (25, 45, 150),
    "royal_blue": (35, 60, 190),
    "dark_blue": (15, 25, 85),
    "black": (22, 22, 28),
    "violet": (70, 35, 125),
}


@dataclass(frozen=True)
class PlacedGlyph:
    label: str  # the character written; letters stand for the reject class
    box: Box  # ink bounds in page pixels
    source: str  # "mnist-test:<i>" | "font:<file>" | "pen"
    cell: int | None = None


MARKS = ".,"
MARK_TOUCH = 0.03  # how far (in digit heights) a mark may run into its neighbour
# Glyphs a digit never hides inside: the marks, and the currency signs a narrow 1 could vanish in
UNHIDDEN = MARKS + "₹€$"
TAIL_MAX = 1.6  # longest dash of a "/-" tail, in digit heights (real cheques: up to about 1.5)


@dataclass(frozen=True)
class Writer:
    """One person's hand for one document: pen, ink, size, spacing and habits."""

    dpi: int
    pen_px: float  # stroke width
    ink: str  # key of INK_COLOURS
    slant: float  # extra shear, x per y
    fill: float  # digit height over field (or cell) height
    gap: float  # mean gap between glyphs, in digit heights
    touch_p: float  # chance that a gap closes (touching or overlapping glyphs)
    cross_p: float  # chance that a glyph strays over a printed border
    mnist_share: float  # share of digits taken from MNIST, the rest from fonts
    font: Path  # this writer's handwriting font
    digit_split: str = "test"  # MNIST split the digits come from (see DIGIT_SPLITS)

    @classmethod
    def draw(
        cls, rng: np.random.Generator, dpi: int, clean: bool = False, digit_split: str = "test"
    ) -> Writer:
        fonts = handwriting_fonts()
        inks = sorted(INK_COLOURS)
        return cls(
            dpi=dpi,
            pen_px=max(1.6, rng.uniform(0.35, 0.65) * dpi / 25.4),
            ink=inks[int(rng.integers(len(inks)))],
            slant=float(rng.uniform(-0.08, 0.08) if clean else rng.uniform(-0.2, 0.25)),
            fill=float(rng.uniform(0.55, 0.78)),
            gap=float(rng.uniform(0.12, 0.35)) if clean else float(rng.uniform(0.03, 0.3)),
            touch_p=0.0 if clean else float(rng.choice([0.0, 0.1, 0.3])),
            cross_p=0.0 if clean else float(rng.choice([0.0, 0.05, 0.15])),
            mnist_share=1.0 if clean else float(rng.uniform(0.6, 1.0)),
            font=fonts[int(rng.integers(len(fonts)))],
            digit_split=digit_split,
        )


# MNIST splits documents may draw their digits from: "test" for every set that measures a model
# (benchmark, tuning, samples), "train" only for pages whose glyphs a model learns from
# (hdr.datasets.harvest). Never "valid": it chooses the checkpoint.
DIGIT_SPLITS = ("test", "train")


@lru_cache(maxsize=2)
def _mnist(split: str = "test") -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    if split not in DIGIT_SPLITS:
        raise ValueError(f"digit split must be one of {DIGIT_SPLITS}, not {split!r}")
    images, labels = load_mnist(split)  # type: ignore[arg-type]
    return images, tuple(np.flatnonzero(labels == d) for d in range(10))


def mnist_image(index: int, split: str = "test") -> np.ndarray:
    """The 28 x 28 MNIST image a glyph was drawn from (white ink on black), of ``split``."""
    return _mnist(split)[0][index]


def _shear(alpha: np.ndarray, slant: float) -> np.ndarray:
    h, w = alpha.shape
    if abs(slant) < 0.02:
        return alpha
    extra = int(np.ceil(abs(slant) * h))
    m = np.array([[1.0, -slant, float(extra if slant > 0 else 0)], [0.0, 1.0, 0.0]], np.float32)
    return cv2.warpAffine(alpha, m, (w + extra, h), flags=cv2.INTER_LINEAR)


def _fit_height(ink: np.ndarray, height: int, max_width: int | None = None) -> np.ndarray:
    ys, xs = np.nonzero(ink > 40)
    if len(ys) == 0:
        return np.zeros((max(height, 1), 1), np.float32)
    ink = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = ink.shape
    scale = height / h
    if max_width is not None and w * scale > max_width:
        scale = max_width / w
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(ink, size, interpolation=interp)


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width of an ink image: twice the area over the outline length.

    The image is padded first: a glyph cropped tight to its ink (a straight ``1`` is nothing
    but its bar) has outline on the crop's edges too, and erosion does not see it there. Left
    unpadded, a plain bar measured many times its width and was thinned away to a grey smudge.
    """
    mask = np.pad((ink > 110).astype(np.uint8), 1)
    area = int(mask.sum())
    if area == 0:
        return 0.0
    outline = area - int(cv2.erode(mask, np.ones((3, 3), np.uint8)).sum())
    return 2.0 * area / max(outline, 1)


def _stroke(ink: np.ndarray, pen_px: float) -> np.ndarray:
    """Thin or thicken a rendered glyph towards the writer's pen width."""
    delta = pen_px - stroke_width(ink)
    r = round(abs(delta) / 2)
    if r >= 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        ink = cv2.dilate(ink, kernel) if delta > 0 else cv2.erode(ink, kernel)
    return np.clip((ink.astype(np.float32) / 255.0 - 0.22) / 0.45, 0.0, 1.0)


def _pen_glyph(char: str, height: int, pen: float, rng: np.random.Generator) -> np.ndarray:
    """Dots and dashes drawn as pen strokes: fonts make them too small or too regular."""
    t = max(2, round(pen))
    if char == ".":
        d = max(t + 1, round(0.14 * height))
        canvas = np.zeros((d + 2, d + 2), np.uint8)
        cv2.circle(canvas, ((d + 2) // 2, (d + 2) // 2), d // 2, 255, -1, cv2.LINE_AA)
    else:  # "-", the tail of "/-": on real cheques often a long flourish, longer than a digit
        w = max(3 * t, round(rng.uniform(0.35, TAIL_MAX) * height))
        tilt = int(rng.integers(-t, t + 1))
        canvas = np.zeros((2 * t + abs(tilt) + 2, w + 2), np.uint8)
        y = t + max(tilt, 0) + 1
        cv2.line(canvas, (1, y), (w, y - tilt), 255, t, cv2.LINE_AA)
    return canvas.astype(np.float32) / 255.0


@dataclass(frozen=True)
class GlyphSource:
    """Where a glyph's shape comes from: an MNIST test image, a font, or the pen itself."""

    kind: str  # "mnist" | "font" | "pen"
    index: int = -1  # MNIST index (in ``split``)
    font: Path | None = None
    split: str = "test"  # MNIST split of ``index``

    @property
    def name(self) -> str:
        if self.kind == "mnist":
            return f"mnist-{self.split}:{self.index}"
        return f"font:{self.font.name}" if self.font is not None else "pen"


def _source_for(char: str, writer: Writer, rng: np.random.Generator) -> GlyphSource:
    if char.isdigit() and rng.random() < writer.mnist_share:
        idx = _mnist(writer.digit_split)[1][int(char)]
        index = int(idx[int(rng.integers(len(idx)))])
        return GlyphSource("mnist", index=index, split=writer.digit_split)
    if char in ".-":
        return GlyphSource("pen")
    if char in "₹€":  # no handwriting font draws these: a printed sans, slanted like a hand
        fonts = printed_fonts_for(char) or printed_fonts()  # Debian's DejaVu draws both
        return GlyphSource("font", font=fonts[int(rng.integers(len(fonts)))])
    return GlyphSource("font", font=writer.font)


def render_glyph(
    char: str,
    source: GlyphSource,
    height: int,
    writer: Writer,
    rng: np.random.Generator,
    max_width: int | None = None,
) -> np.ndarray:
    """The ink alpha of one glyph, ``height`` pixels tall, slanted the writer's way."""
    height = max(4, height)
    if source.kind == "mnist":
        ink = _fit_height(mnist_image(source.index, source.split), height, max_width)
        alpha = _stroke(ink, writer.pen_px)
    elif source.kind == "pen" or source.font is None:
        alpha = _pen_glyph(char, height, writer.pen_px, rng)
    else:
        rendered = render_text(char, source.font, size=max(12, int(height * 1.4)))
        ink = _fit_height(rendered, height, max_width)
        alpha = _stroke(ink, writer.pen_px)
    return _shear(alpha, writer.slant)


def paste(layer: np.ndarray, alpha: np.ndarray, x: int, y: int) -> Box | None:
    """Lay ``alpha`` on ``layer`` at (x, y) (ink adds up, capped at 1); returns the ink bounds."""
    h, w = alpha.shape
    H, W = layer.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x0 >= x1 or y0 >= y1:
        return None
    part = alpha[y0 - y : y1 - y, x0 - x : x1 - x]
    region = layer[y0:y1, x0:x1]
    np.minimum(region + part, 1.0, out=region)
    ys, xs = np.nonzero(part > 0.5)
    if len(ys) == 0:
        return None
    return (
        float(x0 + xs.min()),
        float(y0 + ys.min()),
        float(x0 + xs.max() + 1),
        float(y0 + ys.max() + 1),
    )


def _shape(char: str) -> tuple[float, float]:
    if char.isdigit() or char.isupper() or char in "₹€k":
        return (1.0, 0.0)
    return _SHAPE.get(char, (1.0, 0.0))


def write_line(
    layer: np.ndarray,
    text: str,
    box: tuple[float, float, float, float],
    writer: Writer,
    rng: np.random.Generator,
) -> list[PlacedGlyph]:
    """Write ``text`` along the field ``box`` (page pixels): sized to fit, sometimes straying."""
    if not text:
        return []
    bx0, by0, bx1, by1 = box
    bw, bh = bx1 - bx0, by1 - by0
    sources = [_source_for(c, writer, rng) for c in text]
    stray = rng.random() < writer.cross_p * 2
    h = bh * (rng.uniform(0.85, 1.1) if stray else writer.fill)
    gaps = [
        h
        * (
            rng.uniform(-0.15, 0.0)
            if rng.random() < writer.touch_p
            else max(0.02, rng.normal(writer.gap, 0.06))
        )
        for _ in text
    ]
    # A dot or comma may touch its neighbour, but a hand never writes it inside the next
    # digit: hidden there, it could not be read by anyone, and the truth would still want it.
    # Nor a digit inside a currency sign (a narrow 1 would vanish in it).
    for i in range(len(text) - 1):
        if text[i] in UNHIDDEN or text[i + 1] in UNHIDDEN:
            gaps[i] = max(gaps[i], -MARK_TOUCH * h)
    small_cents = len(text) > 3 and text[-3] in ".," and rng.random() < 0.2
    for _attempt in range(3):
        glyphs = []
        for i, (c, src) in enumerate(zip(text, sources, strict=True)):
            rel_h, rel_b = _shape(c)
            scale = 0.7 if small_cents and i >= len(text) - 2 else 1.0
            g = render_glyph(c, src, round(h * rel_h * scale), writer, rng)
            glyphs.append((g, rel_b, scale))
        total = sum(g.shape[1] for g, _, _ in glyphs) + sum(gaps[:-1])
        room = bw * (1.04 if stray else 0.96)  # a straying hand may overrun the box a little
        if total <= room:
            break
        factor = room * 0.98 / total
        h *= factor
        gaps = [gp * factor for gp in gaps]
    slack = max(0.0, bw - total)
    x = bx0 + (rng.uniform(-0.06, 0.02) * bw if stray else rng.uniform(0.02, 0.9) * slack)
    baseline = by0 + bh / 2 + h / 2 + rng.normal(0, 0.05) * bh
    placed = []
    for (g, rel_b, scale), c, src, gap in zip(glyphs, text, sources, gaps, strict=True):
        lift = (1 - scale) * h * 0.55
        y = baseline + rel_b * h - g.shape[0] - lift + rng.normal(0, 0.03) * h
        bounds = paste(layer, g, round(x), round(y))
        if bounds is not None:
            placed.append(PlacedGlyph(c, bounds, src.name))
        x += g.shape[1] + gap
    return placed


def write_cells(
    layer: np.ndarray,
    text: str,
    cells: list[tuple[float, float, float, float]],
    writer: Writer,
    rng: np.random.Generator,
) -> list[PlacedGlyph]:
    """Write one character per cell, left-aligned; the rest of the cells stay empty."""
    placed = []
    for i, (c, (cx0, cy0, cx1, cy1)) in enumerate(zip(text, cells, strict=False)):
        cw, ch = cx1 - cx0, cy1 - cy0
        src = _source_for(c, writer, rng)
        stray = rng.random() < writer.cross_p
        h = ch * (rng.uniform(0.95, 1.15) if stray else writer.fill * rng.uniform(0.93, 1.07))
        g = render_glyph(c, src, round(h), writer, rng, None if stray else int(cw * 0.84))
        dx = rng.normal(0, 0.06) * cw + (rng.choice([-0.35, 0.35]) * cw if stray else 0.0)
        x = cx0 + (cw - g.shape[1]) / 2 + dx
        y = cy0 + (ch - g.shape[0]) / 2 + rng.normal(0, 0.05) * ch
        bounds = paste(layer, g, round(x), round(y))
        if bounds is not None:
            placed.append(PlacedGlyph(c, bounds, src.name, cell=i))
    return placed


def write_text(
    layer: np.ndarray,
    text: str,
    x: float,
    y_bottom: float,
    height: float,
    writer: Writer,
    max_width: float,
) -> None:
    """Free handwriting (payee, amount in words, date) in the writer's font, no truth kept."""
    if not text.strip():
        return
    ink = render_text(text, writer.font, size=max(10, int(height * 1.3)))
    fitted = _fit_height(ink, int(height), int(max_width / (1 + abs(writer.slant) * 0.3)))
    alpha = _shear(_stroke(fitted, writer.pen_px), writer.slant)
    paste(layer, alpha, int(x), int(y_bottom - alpha.shape[0]))


def strike_through(
    layer: np.ndarray, box: tuple[float, ...], writer: Writer, rng: np.random.Generator
) -> None:
    """Cross out what lies in ``box``: a line, a double line, or a zigzag."""
    x0, y0, x1, y1 = (float(v) for v in box)
    t = max(2, round(writer.pen_px * 1.2))
    style = int(rng.integers(3))
    lines: list[np.ndarray]
    if style == 2:
        n = int(rng.integers(3, 6))
        xs = np.linspace(x0 - 4, x1 + 4, 2 * n + 1)
        ys = np.where(np.arange(2 * n + 1) % 2 == 0, y0 + 0.2 * (y1 - y0), y1 - 0.2 * (y1 - y0))
        lines = [np.stack([xs, ys], 1)]
    else:
        lines = []
        for k in range(1 + (style == 1)):
            ym = y0 + (y1 - y0) * (0.45 + 0.15 * k) + rng.normal(0, 0.05) * (y1 - y0)
            tilt = rng.uniform(-0.3, 0.3) * (y1 - y0)
            lines.append(np.array([[x0 - 6, ym + tilt], [x1 + 6, ym - tilt]]))
    for pts in lines:
        cv2.polylines(layer, [np.round(pts).astype(np.int32)], False, 1.0, t, cv2.LINE_AA)


def scribble(
    layer: np.ndarray, box: tuple[float, ...], writer: Writer, rng: np.random.Generator
) -> None:
    """A signature-like scribble across ``box``."""
    x0, y0, x1, y1 = (float(v) for v in box)
    t = np.linspace(0, 1, 240)
    xs = x0 + (x1 - x0) * (t + 0.05 * np.sin(2 * np.pi * rng.uniform(3, 7) * t))
    ys = (y0 + y1) / 2 + (y1 - y0) * 0.35 * (
        np.sin(2 * np.pi * rng.uniform(4, 9) * t + rng.uniform(0, 6))
        * np.exp(-t * rng.uniform(0, 2))
    )
    thickness = max(1, round(writer.pen_px * 0.8))
    pts = np.round(np.stack([xs, ys], 1)).astype(np.int32)
    cv2.polylines(layer, [pts], False, 1.0, thickness, cv2.LINE_AA)


def composite(
    page: np.ndarray, layer: np.ndarray, writer: Writer, rng: np.random.Generator
) -> np.ndarray:
    """Lay the ink layer on an RGB uint8 page; ink a little uneven, like a ballpoint."""
    ink = np.array(INK_COLOURS[writer.ink], np.float32) + rng.normal(0, 6, 3).astype(np.float32)
    mask = layer > 0
    if not mask.any():
        return page
    a = layer[mask][:, None] * np.float32(rng.uniform(0.85, 1.0))
    out = page.copy()
    out[mask] = np.clip(page[mask] * (1 - a) + ink * a, 0, 255).astype(np.uint8)
    return out
