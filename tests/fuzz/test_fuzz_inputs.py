"""Fuzzing the input stages: triage on random and mutated bytes, then decoding the pages.

Only :class:`hdr.errors.HdrError` may escape (a refusal with a reason code); anything else is a
crash that a hostile file could cause in a batch. Pages that fail on their own come back as
``PageError`` values carrying an ``InputError``, which is also fine.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from hdr.config import LimitsConfig, load_pipeline_config
from hdr.errors import HdrError
from hdr.io import Deadline, PageError, iter_pages, triage
from hdr.types import Page
from tests.fuzz.fuzzing import examples

pytestmark = pytest.mark.fuzz

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "sample"
CFG = load_pipeline_config()
LIMITS = LimitsConfig(max_pages=5, time_budget_s=20.0)
MAGICS = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"II+\x00", b"%PDF-1.4\n"]


def _small_image(fmt: str, mode: str, size: tuple[int, int], seed: int) -> bytes:
    """A small valid image to mutate: decoding it is fast, so the fuzzer goes deep."""
    rng = np.random.default_rng(seed)
    gray = rng.integers(0, 256, (size[1], size[0]), np.uint8)
    img = Image.fromarray(gray, "L").convert(mode)
    buf = io.BytesIO()
    kw = {"compression": "tiff_lzw"} if fmt == "TIFF" and mode != "1" else {}
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _read_all(data: bytes) -> None:
    """Triage and decode every page; only the project's own errors may come out."""
    try:
        source = triage(data, LIMITS)
        cfg = CFG.model_copy(update={"limits": LIMITS})
        for page in iter_pages(source, cfg, Deadline(LIMITS.time_budget_s, "<fuzz>")):
            if isinstance(page, PageError):
                assert isinstance(page.error, HdrError)
                continue
            assert isinstance(page, Page)
            assert page.image.dtype == np.uint8 and page.image.ndim in (2, 3)
            assert min(page.image.shape[:2]) >= 1
    except HdrError as err:
        assert err.code.value and err.message


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` with a few byte flips, an insertion, a deletion, or cut short."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "overwrite"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[pos] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif kind == "truncate":
            del data[pos:]
        else:
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[pos : pos + len(chunk)] = chunk
    return bytes(data)


@settings(settings.get_profile("hdr-fuzz"), max_examples=examples(6000))
@given(st.binary(max_size=2048))
def test_triage_and_decode_random_bytes(data: bytes) -> None:
    _read_all(data)


@settings(settings.get_profile("hdr-fuzz"), max_examples=examples(6000))
@given(st.sampled_from(MAGICS), st.binary(max_size=1024))
def test_triage_and_decode_magic_then_garbage(magic: bytes, tail: bytes) -> None:
    _read_all(magic + tail)


@settings(settings.get_profile("hdr-fuzz"), max_examples=examples(3000))
@given(
    st.sampled_from(["PNG", "JPEG", "TIFF"]),
    st.sampled_from(["L", "RGB", "1", "CMYK", "P"]),
    st.tuples(st.integers(1, 96), st.integers(1, 96)),
    st.integers(0, 2**16),
    st.data(),
)
def test_decode_mutated_small_images(fmt: str, mode: str, size, seed: int, data) -> None:
    if fmt == "JPEG" and mode in ("1", "P"):
        mode = "L"
    if fmt == "PNG" and mode == "CMYK":
        mode = "RGB"  # PNG has no CMYK
    base = _small_image(fmt, mode, size, seed)
    _read_all(data.draw(mutated(base)))


SAMPLE_IMAGES = ["doc_0001.jpg", "doc_0004.tif", "doc_0002.png", "doc_0016.tif"]


@settings(settings.get_profile("hdr-fuzz"), max_examples=examples(600))
@given(st.sampled_from(SAMPLE_IMAGES), st.data())
def test_decode_mutated_sample_documents(name: str, data) -> None:
    _read_all(data.draw(mutated((SAMPLE / name).read_bytes())))


@settings(settings.get_profile("hdr-fuzz"), max_examples=examples(120))
@given(st.data())
def test_rasterise_mutated_sample_pdf(data) -> None:
    """poppler runs per example (slow): few examples, but every one through the real tool."""
    _read_all(data.draw(mutated((SAMPLE / "doc_0018.pdf").read_bytes())))
