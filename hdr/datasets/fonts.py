"""Handwriting-like fonts from Debian packages, and rendering text with them.

Fonts: fonts-dkg-handwriting, fonts-breip, fonts-bwht, fonts-humor-sans, fonts-klee,
fonts-rufscript (installed by `make setup`). Fonts are listed in a fixed order so that
rendering with a seed is deterministic.

>>> from hdr.datasets.fonts import handwriting_fonts, render_text
>>> ink = render_text("1250", handwriting_fonts()[0], size=48)   # uint8, ink > 0
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from hdr.errors import DataError, ReasonCode

FONT_DIRS = (Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts/opentype"))
# Folder names of the Debian packages' fonts (fifthhorseman = fonts-dkg-handwriting).
HANDWRITING_FONT_FOLDERS = ("fifthhorseman", "breip", "bwht", "humor-sans", "klee", "rufscript")
DEBIAN_PACKAGES = (
    "fonts-dkg-handwriting fonts-breip fonts-bwht fonts-humor-sans fonts-klee fonts-rufscript"
)
# Printed parts of synthetic documents (bank names, labels): any sans/serif that Debian ships.
PRINTED_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
)


@lru_cache(maxsize=1)
def handwriting_fonts() -> tuple[Path, ...]:
    """All handwriting-like font files, sorted; DataError when none is installed."""
    found: list[Path] = []
    for base in FONT_DIRS:
        for folder in HANDWRITING_FONT_FOLDERS:
            d = base / folder
            if d.is_dir():
                found.extend(p for p in d.iterdir() if p.suffix.lower() in (".ttf", ".otf"))
    if not found:
        raise DataError(
            ReasonCode.DEPENDENCY_MISSING,
            "no handwriting-like fonts found under /usr/share/fonts",
            f"apt-get install -y {DEBIAN_PACKAGES}",
        )
    return tuple(sorted(found))


@lru_cache(maxsize=1)
def printed_fonts() -> tuple[Path, ...]:
    found = tuple(Path(p) for p in PRINTED_FONT_CANDIDATES if Path(p).exists())
    return found or handwriting_fonts()[:1]


@lru_cache(maxsize=64)
def printed_fonts_for(char: str) -> tuple[Path, ...]:
    """Printed fonts that draw ``char`` (Liberation has no rupee sign: it would draw its
    missing-glyph box); empty when none does."""
    return tuple(f for f in printed_fonts() if font_has_glyph(f, char))


@lru_cache(maxsize=256)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size=size)


def font_has_glyph(path: Path, char: str) -> bool:
    """True when the font draws `char` differently from its missing-glyph box."""
    font = _font(path, 32)
    try:
        mask = np.asarray(font.getmask(char))
        missing = np.asarray(font.getmask("\uffff"))
    except Exception:
        return False
    if mask.size == 0 or mask.max() == 0:
        return False
    return not (mask.shape == missing.shape and np.array_equal(mask, missing))


def render_text(text: str, font_path: Path, size: int = 48, stroke: int = 0) -> np.ndarray:
    """Render `text` as ink intensity (uint8, ink > 0 on 0), cropped to the ink with a margin."""
    font = _font(font_path, size)
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    w, h = int(right - left) + 8, int(bottom - top) + 8  # ints already; typed as float
    canvas = Image.new("L", (max(w, 1), max(h, 1)), 0)
    ImageDraw.Draw(canvas).text(
        (4 - left, 4 - top), text, fill=255, font=font, stroke_width=stroke, stroke_fill=255
    )
    ink = np.asarray(canvas)
    ys, xs = np.nonzero(ink)
    if len(ys) == 0:
        return ink
    return ink[max(ys.min() - 2, 0) : ys.max() + 3, max(xs.min() - 2, 0) : xs.max() + 3].copy()
