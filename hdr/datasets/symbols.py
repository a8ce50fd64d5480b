"""Rendered training glyphs for every class: separators, currency, fillers, rejects, font digits.

A sample is a pure function of ``(seed, index)``: the class plan fixes which label index ``i``
has, and ``numpy.random.default_rng([seed, i])`` draws everything else, so any split can be
rebuilt bit for bit and shards can be made in any order. Every glyph goes through
:func:`hdr.classify.normalize.normalize_glyph`, the function the reading pipeline uses.

>>> from hdr.datasets.symbols import RenderSpec, rendered_dataset
>>> x, y = rendered_dataset(RenderSpec(digits_per_class=1, symbols_per_class=1, rejects=2), seed=7)
>>> x.shape, x.dtype
((21, 28, 28), dtype('float32'))
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import asdict, dataclass, field

import numpy as np

from hdr.classify.labels import CURRENCY, DIGITS, FILLERS, LABELS, REJECT, SEPARATORS, index_of
from hdr.classify.normalize import normalize_glyph
from hdr.datasets import glyphs
from hdr.datasets.augment import AugmentConfig, add_noise, augment_ink
from hdr.datasets.fonts import handwriting_fonts

# Bump when drawing or augmentation changes: it is part of the data hash in model cards.
GENERATOR_VERSION = 3

SYMBOLS: tuple[str, ...] = SEPARATORS + CURRENCY + FILLERS
# Reject sources and their shares; the order is part of the generator, never reorder.
REJECT_KINDS: tuple[tuple[str, float], ...] = (
    ("letter", 0.4),
    ("pair", 0.14),  # two touching characters, e.g. 'Rs' or '/-' left unsplit
    ("scribble", 0.14),
    ("box", 0.16),
    ("blob", 0.06),
    ("specks", 0.1),
)
# Procedural pen versions beside the fonts, for the shapes that fonts draw too uniformly.
P_PROCEDURAL = {"₹": 0.6, "€": 0.5, "-": 0.3, ".": 0.3, ",": 0.3, "/": 0.3, "*": 0.3, "#": 0.3}


@dataclass(frozen=True)
class RenderSpec:
    """How many rendered samples of each kind one split holds."""

    digits_per_class: int = 500
    symbols_per_class: int = 1500
    rejects: int = 9000
    p_noise: float = 0.15
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    # zeros as written inside a cursive run (glyphs.draw_cursive_zero), after all the rest;
    # recipes with them also take U u V v out of the reject letters (glyphs.py says why)
    cursive_zeros: int = 0
    p_joined_zeros: float = 0.0  # share of rejects that are a cursive zero joined to a / or a 0
    p_dotted: float = 0.0  # share of rejects that are a digit with a point pressed against it
    # fours written open at the top (glyphs.draw_open_four), after the cursive zeros
    open_fours: int = 0

    @property
    def reject_letters(self) -> str:
        return glyphs.CURSIVE_REJECT_LETTERS if self.cursive_zeros else glyphs.REJECT_LETTERS

    def class_plan(self) -> np.ndarray:
        """Label index of every sample, in generation order."""
        plan = [index_of(d) for d in DIGITS for _ in range(self.digits_per_class)]
        plan += [index_of(s) for s in SYMBOLS for _ in range(self.symbols_per_class)]
        plan += [index_of(REJECT)] * self.rejects
        plan += [index_of("0")] * self.cursive_zeros
        plan += [index_of("4")] * self.open_fours
        return np.asarray(plan, dtype=np.int64)

    def drawn(self, i: int) -> str:
        """How sample ``i`` of the plan is drawn: ``"cursive_zero"`` or ``"open_four"`` for the
        pen-drawn digits at the plan's end, ``""`` for the rest (fonts, procedural symbols,
        rejects)."""
        first = 10 * self.digits_per_class + len(SYMBOLS) * self.symbols_per_class + self.rejects
        if i < first:
            return ""
        return "cursive_zero" if i < first + self.cursive_zeros else "open_four"

    def is_cursive(self, i: int) -> bool:
        """Whether sample ``i`` of the plan is one of the cursive zeros near its end."""
        return self.drawn(i) == "cursive_zero"


def spec_hash(spec: RenderSpec, seed: int) -> str:
    """Hash of everything that determines a rendered split: spec, seed, generator, font files."""
    fonts = [(p.name, p.stat().st_size) for p in handwriting_fonts()]
    settings = asdict(spec)
    for name in ("cursive_zeros", "p_joined_zeros", "p_dotted", "open_fours"):
        if not settings[name]:  # recipes from before cursive zeros keep their hash
            del settings[name]
    blob = json.dumps(
        {"spec": settings, "seed": seed, "version": GENERATOR_VERSION, "fonts": fonts},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _procedural(char: str, rng: np.random.Generator) -> np.ndarray:
    c = glyphs._canvas()
    pen = glyphs._pen(rng, 3, 8)
    j = rng.uniform(0.5, 2.0)
    line = glyphs._polyline
    if char == "₹":
        return glyphs.draw_rupee(rng)
    if char == "€":
        return glyphs.draw_euro(rng)
    if char == "-":
        n = 6
        xs = np.linspace(rng.uniform(4, 14), rng.uniform(48, 60), n)
        line(c, glyphs._jitter(np.stack([xs, np.full(n, 32.0)], 1), rng, j * 0.6), pen)
    elif char == ".":
        r = int(rng.integers(3, 7))
        center = (32 + int(rng.integers(-2, 3)), 32 + int(rng.integers(-2, 3)))
        axes = (r, max(2, r + int(rng.integers(-1, 2))))
        glyphs.cv2.ellipse(c, center, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
    elif char == ",":
        pts = glyphs._arc(
            28, 20, rng.uniform(4, 9), rng.uniform(14, 22), -70, rng.uniform(80, 110), 10
        )
        glyphs.cv2.circle(c, (int(pts[0][0]) - 2, int(pts[0][1]) + 4), pen // 2 + 2, 255, -1)
        line(c, glyphs._jitter(pts, rng, j * 0.5), pen)
    elif char == "/":
        top = rng.uniform(40, 58)
        bottom = top - rng.uniform(22, 38)
        line(c, glyphs._jitter(np.array([[top, 4.0], [bottom, 60.0]]), rng, j), pen)
    elif char == "*":
        for k in range(int(rng.choice([3, 3, 4]))):
            a = np.deg2rad(k * 180 / 3 + rng.uniform(-15, 15) + 90)
            d = np.array([np.cos(a), np.sin(a)]) * rng.uniform(16, 24)
            line(c, glyphs._jitter(np.array([32 - d, 32 + d]), rng, j), pen)
    elif char == "#":
        slant = rng.uniform(-8, 8)
        for off in (rng.uniform(-13, -7), rng.uniform(7, 13)):
            line(
                c,
                glyphs._jitter(
                    np.array([[32 + off + slant, 6.0], [32 + off - slant, 58.0]]), rng, j
                ),
                pen,
            )
            line(c, glyphs._jitter(np.array([[6.0, 32 + off], [58.0, 32 + off]]), rng, j), pen)
    return c


# Printed box lines are straight and square: bending them (elastic, shear) would turn a
# corner into a fair handwritten '7' or 'L'. Box fragments get only what a scan does to them.
RIGID_AUGMENT = AugmentConfig(
    p_affine=0.6,
    max_rotation_deg=3.0,
    max_shear=0.0,
    scale_range=(0.9, 1.1),
    p_elastic=0.0,
    p_thicken=0.3,
    p_thin=0.1,
    p_blur=0.2,
    p_clip=0.0,
)


def _draw_reject(
    rng: np.random.Generator,
    letters: str = glyphs.REJECT_LETTERS,
    p_joined: float = 0.0,
    p_dotted: float = 0.0,
) -> tuple[np.ndarray, str]:
    """A reject sample's ink and which kind of reject it is."""
    if p_joined and rng.random() < p_joined:
        return glyphs.draw_joined_zero(rng), "joined"
    if p_dotted and rng.random() < p_dotted:
        return glyphs.draw_dotted_digit(rng), "dotted"
    kinds = [k for k, _ in REJECT_KINDS]
    probs = np.array([p for _, p in REJECT_KINDS])
    kind = kinds[int(rng.choice(len(kinds), p=probs / probs.sum()))]
    if kind == "letter":
        letter = letters[int(rng.integers(len(letters)))]
        return glyphs.render_char(letter, rng), kind
    if kind == "pair":
        # Letters and the '/-' that ends amounts; no digits: a pair of digits squeezed into
        # one glyph is too close to a wide single digit, and the splitter handles those.
        pool = letters + "/-"
        text = "".join(pool[int(i)] for i in rng.integers(len(pool), size=2))
        fonts = handwriting_fonts()
        font = fonts[int(rng.integers(len(fonts)))]
        return glyphs.render_text(text, font, int(rng.integers(36, 60))), kind
    if kind == "scribble":
        return glyphs.draw_scribble(rng), kind
    if kind == "box":
        digit = (
            glyphs.render_char(DIGITS[int(rng.integers(10))], rng) if rng.random() < 0.5 else None
        )
        return glyphs.draw_box_fragment(rng, digit), kind
    if kind == "blob":
        return glyphs.draw_blob(rng), kind
    return glyphs.draw_specks(rng), kind


def draw_ink(label: str, rng: np.random.Generator) -> np.ndarray:
    """The raw (un-augmented) ink image of one sample of ``label``."""
    if label == REJECT:
        return _draw_reject(rng)[0]
    if label in P_PROCEDURAL and rng.random() < P_PROCEDURAL[label]:
        return _procedural(label, rng)
    return glyphs.render_char(label, rng)


def slant_slash(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lean a steep '/' over to 53-69 degrees from the horizontal.

    Normalised to 20 px, a stroke steeper than about 70 degrees is a '1' (MNIST's ones lean
    that far), so a '/' only teaches the model something where it is clearly slanted; the
    reading pipeline tells steep strokes apart by context (amount grammar), not by shape.
    """
    m = glyphs.cv2.moments(ink)
    if m["mu02"] <= 0:
        return ink
    slope = m["mu11"] / m["mu02"]  # dx/dy of the stroke; negative for '/' (y grows downwards)
    target = -rng.uniform(0.38, 0.75)
    if slope <= target:
        return ink
    h, w = ink.shape
    k = target - slope  # < 0: x' = x + k * y leans the top to the right
    extra = int(np.ceil(-k * h)) + 2
    mat = np.array([[1.0, k, extra], [0.0, 1.0, 0.0]], dtype=np.float32)
    return glyphs.cv2.warpAffine(ink, mat, (w + extra, h), flags=glyphs.cv2.INTER_LINEAR)


_PEN_DRAWN = {"cursive_zero": glyphs.draw_cursive_zero, "open_four": glyphs.draw_open_four}


def make_glyph(
    label: str, rng: np.random.Generator, spec: RenderSpec, drawn: str = ""
) -> np.ndarray:
    """One normalised 28 x 28 float32 glyph of ``label``, drawn as :meth:`RenderSpec.drawn`
    says (``"cursive_zero"``, ``"open_four"``; by default from a font or procedurally)."""
    if label == REJECT:
        raw, kind = _draw_reject(rng, spec.reject_letters, spec.p_joined_zeros, spec.p_dotted)
        ink = augment_ink(raw, rng, RIGID_AUGMENT if kind == "box" else spec.augment)
    elif drawn:
        ink = augment_ink(_PEN_DRAWN[drawn](rng), rng, spec.augment)
    else:
        aug = spec.augment
        if label in (".", ",", "-") and (aug.p_context or aug.p_bleed):
            # a line or a blot on a mark this small makes another symbol, not a harder one
            aug = dataclasses.replace(aug, p_context=0.0, p_bleed=0.0)
        ink = augment_ink(draw_ink(label, rng), rng, aug)
    if label == "/":
        ink = slant_slash(ink, rng)
    glyph = normalize_glyph(ink)
    if rng.random() < spec.p_noise:
        glyph = add_noise(glyph, rng)
    return glyph


def rendered_sample(plan: np.ndarray, seed: int, i: int, spec: RenderSpec) -> np.ndarray:
    """Sample ``i`` of a split with class plan ``plan`` (pure function of seed and index)."""
    rng = np.random.default_rng([seed, i])
    return make_glyph(LABELS[int(plan[i])], rng, spec, spec.drawn(i))


def rendered_dataset(spec: RenderSpec, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """All samples of a rendered split: float32 N x 28 x 28 glyphs and int64 labels."""
    plan = spec.class_plan()
    images = np.stack([rendered_sample(plan, seed, i, spec) for i in range(len(plan))])
    return images.astype(np.float32), plan
