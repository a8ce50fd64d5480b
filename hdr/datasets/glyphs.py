"""Drawing single glyphs as ink images (uint8, ink > 0 on 0): font characters and pen strokes.

Fonts give the shapes of separators, currency marks, fillers, letters and digits; strokes drawn
with OpenCV give what no font has (the rupee sign in a hand style, scribbles, box-border
fragments, blobs, specks). Every function takes a numpy ``Generator`` and nothing else random.

>>> import numpy as np
>>> from hdr.datasets.glyphs import draw_rupee
>>> draw_rupee(np.random.default_rng(0)).max()
np.uint8(255)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from hdr.datasets.fonts import font_has_glyph, handwriting_fonts, printed_fonts_for, render_text

# Letters for the reject class. Left out on purpose, because in handwriting they are drawn like
# a digit and teaching "reject" for them would teach the model to reject real digits:
#   O o D Q -> 0,   I i l j J -> 1,   Z z -> 2,   S s -> 5,   b G -> 6,   T -> 7,   B -> 8,
#   g q a y d -> 9 (single-storey a, d, and y with a straight tail are a 9 written quickly,
#   or a 9 / 0 with a stroke attached).
REJECT_LETTERS = "ACEFHKLMNPRUVWXYcefhkmnprtuvwx"
# ... and from recipes that train on cursive zeros (``RenderSpec.cursive_zeros``) also
#   U u V v -> 0: a zero written fast and joined to the next one is open at the top
#   (``1,00,000`` written ``1,0υυ``), and a model taught "reject" for u and v rejects it.
CURSIVE_REJECT_LETTERS = "ACEFHKLMNPRWXYcefhkmnprtwx"

# Characters whose glyph in a handwriting font is not the character (Humor Sans draws a face
# for the euro sign); such pairs are never used.
_BAD_FONT_CHARS = {("Humor-Sans.ttf", "€")}


@lru_cache(maxsize=64)
def fonts_for(char: str) -> tuple[Path, ...]:
    """Handwriting fonts that draw ``char``; printed fonts when none does (e.g. the rupee sign)."""
    found = tuple(
        f
        for f in handwriting_fonts()
        if (f.name, char) not in _BAD_FONT_CHARS and font_has_glyph(f, char)
    )
    if found:
        return found
    return printed_fonts_for(char)


def render_char(
    char: str, rng: np.random.Generator, fonts: tuple[Path, ...] | None = None
) -> np.ndarray:
    """One character in a random font, size and pen width."""
    choices = fonts if fonts is not None else fonts_for(char)
    if not choices:
        raise ValueError(f"no installed font draws {char!r}")
    font = choices[int(rng.integers(len(choices)))]
    size = int(rng.integers(36, 64))
    stroke = int(rng.choice([0, 0, 0, 0, 1]))
    return render_text(char, font, size=size, stroke=stroke)


def _canvas(size: int = 64) -> np.ndarray:
    return np.zeros((size, size), np.uint8)


def _pen(rng: np.random.Generator, lo: int = 2, hi: int = 7) -> int:
    return int(rng.integers(lo, hi + 1))


def _jitter(points: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    return points + rng.normal(0.0, amount, points.shape)


def _polyline(img: np.ndarray, pts: np.ndarray, thickness: int, closed: bool = False) -> None:
    cv2.polylines(img, [np.round(pts).astype(np.int32)], closed, 255, thickness, cv2.LINE_AA)


def _arc(
    cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 24
) -> np.ndarray:
    t = np.deg2rad(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def draw_rupee(rng: np.random.Generator) -> np.ndarray:
    """The rupee sign as a pen draws it: two bars, a bowl off the upper bar, a diagonal leg."""
    img, j, pen = _canvas(), rng.uniform(0.5, 2.0), _pen(rng)
    left, right = rng.uniform(12, 18), rng.uniform(44, 52)
    top, mid = rng.uniform(8, 12), rng.uniform(20, 26)
    _polyline(img, _jitter(np.array([[left, top], [right, top]]), rng, j), pen)
    if rng.random() < 0.85:  # the second bar is sometimes left out
        _polyline(img, _jitter(np.array([[left, mid], [right, mid]]), rng, j), pen)
    bowl_r = rng.uniform(7, 11)
    bowl = _arc(left + 14, top + bowl_r, rng.uniform(10, 15), bowl_r, -90, 90)
    bowl = np.vstack([[left, top], bowl, [left, top + 2 * bowl_r]])
    _polyline(img, _jitter(bowl, rng, j), pen)
    leg = np.array(
        [[left + rng.uniform(0, 5), top + 2 * bowl_r], [rng.uniform(40, 50), rng.uniform(54, 60)]]
    )
    _polyline(img, _jitter(leg, rng, j), pen)
    return img


def draw_euro(rng: np.random.Generator) -> np.ndarray:
    """The euro sign: an open C with two bars through its left side."""
    img, j, pen = _canvas(), rng.uniform(0.5, 1.8), _pen(rng)
    cx, cy = rng.uniform(34, 38), 32.0
    rx, ry = rng.uniform(16, 22), rng.uniform(20, 25)
    _polyline(
        img,
        _jitter(_arc(cx, cy, rx, ry, rng.uniform(35, 55), rng.uniform(305, 325), 30), rng, j),
        pen,
    )
    for dy in (-rng.uniform(4, 7), rng.uniform(3, 6)):
        x0 = cx - rx - rng.uniform(4, 8)
        _polyline(
            img, _jitter(np.array([[x0, cy + dy], [cx + rng.uniform(0, 8), cy + dy]]), rng, j), pen
        )
    return img


def draw_scribble(rng: np.random.Generator) -> np.ndarray:
    """A random smooth pen path: loops, zig-zags, crossings."""
    img = _canvas()
    # Six or more turns: fewer make a smooth curve that is often a fair 2, 3, 7 or 9.
    n = int(rng.integers(6, 12))
    ctrl = rng.uniform(6, 58, (n, 2))
    t = np.linspace(0, 1, 12 * n)
    corners = np.stack([np.interp(t, np.linspace(0, 1, n), ctrl[:, k]) for k in (0, 1)], axis=1)
    smooth = cv2.GaussianBlur(corners.astype(np.float32).reshape(-1, 1, 2), (1, 9), 0)
    _polyline(img, smooth.reshape(-1, 2), _pen(rng, 2, 6))
    return img


def draw_box_fragment(rng: np.random.Generator, digit: np.ndarray | None = None) -> np.ndarray:
    """Pieces of printed boxes: corners, T and + junctions, double lines, a line with a digit bit.

    A single straight line is left out on purpose: normalised to 20 px it is a '-' or a '1',
    and telling those apart from box edges is the segmenter's job (line removal, geometry).
    """
    img = _canvas()
    pen = _pen(rng, 1, 4)
    x, y = rng.uniform(8, 56), rng.uniform(8, 56)
    kind = int(rng.integers(5))
    if kind == 0:  # corner
        sx, sy = rng.choice([-1, 1], 2)
        _polyline(
            img,
            np.array(
                [[x + sx * rng.uniform(20, 50), y], [x, y], [x, y + sy * rng.uniform(20, 50)]]
            ),
            pen,
        )
    elif kind == 1:  # T junction
        _polyline(img, np.array([[0, y], [63, y]]), pen)
        _polyline(img, np.array([[x, y], [x, y + rng.choice([-1, 1]) * rng.uniform(15, 50)]]), pen)
    elif kind == 2:  # grid crossing
        _polyline(img, np.array([[0, y], [63, y]]), pen)
        _polyline(img, np.array([[x, 0], [x, 63]]), pen)
    elif kind == 3:  # two parallel edges of neighbouring boxes
        gap = rng.uniform(6, 20)
        horiz = rng.random() < 0.5
        for off in (0.0, gap):
            seg = (
                np.array([[4, y + off], [60, y + off]])
                if horiz
                else np.array([[x + off, 4], [x + off, 60]])
            )
            _polyline(img, seg, pen)
    else:  # an edge with a piece of a digit hanging off it
        _polyline(img, np.array([[0, y], [63, y]]), pen)
        if digit is not None and digit.size:
            piece = _digit_piece(digit, rng)
            ph, pw = piece.shape
            top = int(np.clip(y - ph if rng.random() < 0.5 else y, 0, 64 - ph))
            left = int(rng.integers(0, max(1, 64 - pw)))
            region = img[top : top + ph, left : left + pw]
            np.maximum(region, piece, out=region)
    return img


def _digit_piece(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A corner of a digit (under a third of it), scaled to at most 24 px."""
    h, w = digit.shape
    ph, pw = max(2, int(h * rng.uniform(0.2, 0.35))), max(2, int(w * rng.uniform(0.3, 0.6)))
    y0 = 0 if rng.random() < 0.5 else h - ph
    x0 = int(rng.integers(0, max(1, w - pw + 1)))
    piece = digit[y0 : y0 + ph, x0 : x0 + pw]
    scale = min(1.0, 24 / max(piece.shape))
    return cv2.resize(
        piece, (max(1, int(pw * scale)), max(1, int(ph * scale))), interpolation=cv2.INTER_AREA
    )


def draw_blob(rng: np.random.Generator) -> np.ndarray:
    """An irregular ink smudge: overlapping lobes with ragged edges and gaps.

    Unlike a '.', which normalises to a compact round dot, a smudge has concavities and holes.
    """
    img = _canvas()
    for _ in range(int(rng.integers(2, 5))):
        centre = (int(rng.uniform(14, 50)), int(rng.uniform(14, 50)))
        axes = (int(rng.uniform(4, 16)), int(rng.uniform(3, 10)))
        cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
    # Bite pieces out of the edge so the outline stays concave, then speckle the inside.
    for _ in range(int(rng.integers(1, 4))):
        c = (int(rng.uniform(10, 54)), int(rng.uniform(10, 54)))
        cv2.circle(img, c, int(rng.uniform(3, 9)), 0, -1)
    img[rng.random(img.shape) < rng.uniform(0.1, 0.4)] = 0
    return img


def draw_specks(rng: np.random.Generator) -> np.ndarray:
    """Scattered dots and short dashes: scanner dust and paper texture."""
    img = _canvas()
    for _ in range(int(rng.integers(5, 30))):
        c = (int(rng.integers(2, 62)), int(rng.integers(2, 62)))
        if rng.random() < 0.7:
            cv2.circle(img, c, int(rng.integers(1, 3)), 255, -1)
        else:
            d = rng.integers(-5, 6, 2)
            cv2.line(img, c, (int(c[0] + d[0]), int(c[1] + d[1])), 255, 1)
    return img


def _cursive_zero_path(rng: np.random.Generator) -> tuple[np.ndarray, int, float]:
    """The pen path of one cursive zero on a 64 px canvas, its pen width and jitter."""
    j, pen = rng.uniform(0.4, 1.6), _pen(rng, 3, 8)
    ry = rng.uniform(12, 20)
    rx = ry * rng.uniform(0.55, 1.3)
    cx, cy = 32.0, 34.0
    gap = rng.choice([0.0, rng.uniform(15, 60), rng.uniform(60, 110)], p=[0.3, 0.4, 0.3])
    opening = rng.uniform(-110, -40)  # where the loop stays open: at the top, or top right
    sweep = 360.0 - gap + (rng.uniform(0, 40) if gap == 0.0 else 0.0)
    start = opening - 360.0 + gap / 2 + sweep  # the pen goes round counter-clockwise
    loop = _arc(cx, cy, rx, ry, start, start - sweep, 40)
    if rng.random() < 0.5:  # a flat bottom or a pointed one: round u, narrow v
        loop[:, 0] = cx + (loop[:, 0] - cx) * (1.0 - 0.35 * np.clip((loop[:, 1] - cy) / ry, 0, 1))
    parts = [loop]
    if rng.random() < 0.6:  # the stroke that joined it to the glyph before
        first = loop[0]
        entry = np.array([[first[0] - rng.uniform(6, 18), first[1] + rng.uniform(-4, 14)], first])
        parts.insert(0, entry)
    if rng.random() < 0.7:  # and the one that leaves for the next
        last = loop[-1]
        exit_ = np.array([last, [last[0] + rng.uniform(6, 20), last[1] - rng.uniform(-4, 10)]])
        parts.append(exit_)
    path = np.vstack(parts)
    path[:, 0] += rng.uniform(-0.1, 0.4) * (cy - path[:, 1])  # slant
    return path, pen, j


def draw_cursive_zero(rng: np.random.Generator) -> np.ndarray:
    """A zero as written fast inside a run (``000``): a loop, often open at the top, often small
    and wide, with the joining strokes to the glyphs before and after it.

    Fonts and MNIST draw a zero as a closed oval; in cursive runs the pen enters at the top
    left, goes round and leaves up to the right before the loop closes, which leaves a ``u`` or
    ``v`` shape with a tail on either side (what the splitter cuts out of ``υυυ``).
    """
    img = _canvas()
    path, pen, j = _cursive_zero_path(rng)
    _polyline(img, _jitter(path, rng, j), pen)
    return img


# The styles draw_open_four writes, and how often each. The round one, a bowl high up with a
# long tail, is also a nine whose loop did not close at the top; it is left out of training.
# Taught the other two, a model reads round fours as fours all the same, and it reads the MNIST
# nines written like open fours as fours as surely as when taught all three
# (docs/BENCHMARKS.md, twenty-third session; bench/open_fours.py).
FOUR_STYLES = ("round", "hooked", "square")
STYLES_OF_FOUR = (0.0, 0.7, 0.3)


def draw_open_four(rng: np.random.Generator, style: str | None = None) -> np.ndarray:
    """A four written open at the top, as many hands in India (and elsewhere) write it, in two
    strokes: a ``u`` or an ``L``, and a right stroke that runs on below its bottom.

    Three ways of writing it: a round ``u`` with a long tail (``ч``); a deep bowl whose left
    stroke starts with a hook at the top and whose tail is short, close to a single-storey ``a``
    left open; and a square ``L`` crossed by the right stroke. MNIST's fours are mostly closed
    or a sharp open ``4``. A model taught that a ``u`` in a run of zeros is a zero
    (:func:`draw_cursive_zero`) reads the hooked one as ``0`` (``1,40,000`` read
    ``1,00,000`` on a real cheque). What tells them apart is the right stroke going on below
    the bowl, and the hook. ``style``: ``"round"``, ``"hooked"`` or ``"square"``; by default
    one drawn as :data:`STYLES_OF_FOUR` says.
    """
    img = _canvas()
    j, pen = rng.uniform(0.4, 1.4), _pen(rng, 3, 8)
    top, bottom = rng.uniform(6, 14), rng.uniform(52, 60)
    height = bottom - top
    width = rng.uniform(18, 34)
    left = 32.0 - width * rng.uniform(0.45, 0.6)
    right = left + width
    if style is None:
        style = str(rng.choice(FOUR_STYLES, p=STYLES_OF_FOUR))
    elif style not in FOUR_STYLES:
        raise ValueError(f"no such style of four: {style!r}")
    if style == "square":  # down, then across past the right stroke
        waist = top + height * rng.uniform(0.5, 0.78)
        first = np.array(
            [
                [left + rng.uniform(-4, 3), top + rng.uniform(0, 8)],
                [left, waist],
                [right + rng.uniform(0, 8), waist + rng.uniform(-3, 3)],
            ]
        )
        tail_end = bottom
    else:  # the left side bends into a bowl that rises on the right
        hooked = style == "hooked"
        waist = top + height * (rng.uniform(0.72, 0.9) if hooked else rng.uniform(0.5, 0.78))
        ry = (waist - top) * (rng.uniform(0.35, 0.6) if hooked else rng.uniform(0.3, 0.7))
        if hooked:  # the pen starts right of the stroke and curls over into it, well clear
            # of the right stroke (closed, it is a single-storey ``a``: a nine)
            pen = min(pen, 6)
            start = np.array(
                [
                    [left + width * rng.uniform(0.15, 0.35), top + rng.uniform(-1, 4)],
                    [left + rng.uniform(0, 3), top + rng.uniform(3, 8)],
                ]
            )
        else:
            start = np.array([[left + rng.uniform(-4, 3), top + rng.uniform(0, 8)]])
        bowl = _arc(left + width / 2, waist - ry, width / 2, ry, 180, 0, 16)
        up = np.array([[right + rng.uniform(-2, 2), top + rng.uniform(0, 12)]])
        first = np.vstack([start, bowl, up])
        tail_end = waist + height * rng.uniform(0.1, 0.25) if hooked else bottom
    second = np.array(
        [
            [right + rng.uniform(-2, 2), top + rng.uniform(-4, 10)],
            [right + rng.uniform(-4, 3), tail_end],
        ]
    )
    if style == "hooked" and rng.random() < 0.5:  # a flick off the tail's end
        second = np.vstack([second, second[-1] + [rng.uniform(2, 6), -rng.uniform(0, 4)]])
    slant = rng.uniform(-0.1, 0.35)
    for path in (first, second):
        path[:, 0] += slant * (32.0 - path[:, 1])
        _polyline(img, _jitter(path, rng, j), pen)
    return img


def draw_joined_zero(rng: np.random.Generator) -> np.ndarray:
    """A cursive zero joined to what follows it, as one stroke: the ``/`` of a closing ``/-``
    (``000/-`` written without lifting the pen) or the next zero. Not one character: the
    reject class, so that the reader tries cutting it (a ``0/`` left whole reads as a ``4``).
    """
    img = np.zeros((64, 128), np.uint8)
    path, pen, j = _cursive_zero_path(rng)
    end = path[-1]
    if rng.random() < 0.5:  # on into a slash: up to its top, then down through the baseline
        top = np.array([end[0] + rng.uniform(6, 16), rng.uniform(4, 14)])
        foot = np.array([top[0] - rng.uniform(8, 16), rng.uniform(52, 62)])
        path = np.vstack([path, top, foot])
    else:  # on into the next zero
        second, _, _ = _cursive_zero_path(rng)
        second[:, 0] += end[0] - second[:, 0].min() - rng.uniform(0, 6)
        path = np.vstack([path, second])
    path[:, 0] += 8.0 - min(0.0, float(path[:, 0].min()))
    _polyline(img, _jitter(path, rng, j), pen)
    return img


def _stroke_px(ink: np.ndarray) -> float:
    """Typical stroke width of ``ink`` in pixels: twice the mean distance to the paper inside
    the strokes' middle lines (about right for pen strokes, which is all this is used for)."""
    mask = (ink > 127).astype(np.uint8)
    if not mask.any():
        return 1.0
    dist = cv2.distanceTransform(np.pad(mask, 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
    ridge = dist[dist >= 0.5 * dist.max()]
    return float(2.0 * ridge.mean())


def slide_until_touching(ink: np.ndarray, cx: int, cy: int, radius: int, step: int) -> int | None:
    """The first centre x, from ``cx`` moving by ``step`` along row ``cy``, at which a filled
    disk of ``radius`` meets ``ink`` (a boolean mask); None when it leaves the image first."""
    mask = ink.astype(np.uint8)
    disk = np.zeros_like(mask)
    for _ in range(mask.shape[1] + 2 * radius + 2):
        disk[:] = 0
        cv2.circle(disk, (cx, cy), radius, 1, -1)
        if (disk & mask).any():
            return cx
        cx += step
    return None


def draw_dotted_digit(rng: np.random.Generator, digit: str | None = None) -> np.ndarray:
    """A digit with a decimal point pressed against its foot, as one blob: ``.0`` of ``209.00``
    or ``0.`` of ``20.00`` written with the point touching the digit beside it.

    Not one character: the reject class, so that the reader does not read the digit alone and
    lose the point (``209.00`` read ``20900.00``; docs/BENCHMARKS.md, twenty-first session),
    but cuts the piece, or sends the field to a person. The point is a filled round dot one to
    two strokes wide, standing on the digit's baseline at its left or right, slid along the
    baseline until it meets the digit's ink (and up to 0.4 of its radius further).
    """
    char = digit if digit is not None else str(int(rng.integers(10)))
    ink = render_char(char, rng)
    ys, xs = np.nonzero(ink > 127)
    if ys.size == 0:
        return ink
    pen = max(2.0, _stroke_px(ink))
    radius = max(2, round(pen * rng.uniform(0.8, 1.3)), round(0.06 * ink.shape[0]))
    pad = 2 * radius + 2
    img = np.pad(ink, pad)
    ys, xs = ys + pad, xs + pad
    top, base = int(ys.min()), int(ys.max())
    cy = base - radius + int(rng.integers(-1, max(1, round(0.05 * (base - top))) + 1))
    left = bool(rng.random() < 0.5)
    step = 1 if left else -1
    start = int(xs.min()) - radius - 1 if left else int(xs.max()) + radius + 1
    met = slide_until_touching(img > 127, start, cy, radius, step)
    if met is None:
        return ink
    cx = met + step * int(rng.integers(0, max(1, round(0.4 * radius)) + 1))
    cv2.circle(img, (cx, cy), radius, 255, -1, cv2.LINE_AA)
    ys, xs = np.nonzero(img)
    return img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
