"""Image loading: gray/BGR uint8 pages, upright, one per TIFF frame; bad files get reason codes."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from hdr.config import LimitsConfig, PipelineConfig
from hdr.errors import InputError, ReasonCode
from hdr.io import PageError, iter_pages, triage
from hdr.types import Page

CFG = PipelineConfig()


def _save(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _pages(data: bytes, cfg: PipelineConfig = CFG, **kw: object) -> list[Page | PageError]:
    return list(iter_pages(triage(data, cfg.limits), cfg, **kw))  # type: ignore[arg-type]


def _one(data: bytes, cfg: PipelineConfig = CFG) -> Page:
    pages = _pages(data, cfg)
    assert len(pages) == 1 and isinstance(pages[0], Page), pages
    return pages[0]


def _error_code(data: bytes, cfg: PipelineConfig = CFG) -> ReasonCode:
    """The reason code of a file that fails as a whole or on its only page."""
    try:
        pages = _pages(data, cfg)
    except InputError as err:
        return err.code
    assert len(pages) == 1 and isinstance(pages[0], PageError), pages
    return pages[0].error.code


def test_gray_png_stays_gray_with_its_dpi() -> None:
    arr = np.tile(np.arange(200, dtype=np.uint8), (100, 1))
    page = _one(_save(Image.fromarray(arr), "PNG", dpi=(300, 300)))
    assert page.image.dtype == np.uint8 and page.image.shape == (100, 200)
    assert np.array_equal(page.image, arr)
    assert page.dpi == 300 and page.index == 0


def test_rgb_becomes_bgr() -> None:
    img = Image.new("RGB", (100, 80), (255, 0, 0))  # pure red
    page = _one(_save(img, "PNG"))
    assert page.image.shape == (80, 100, 3)
    assert tuple(page.image[10, 10]) == (0, 0, 255)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_exif_orientation_is_applied(fmt: str) -> None:
    arr = np.full((100, 300, 3), 255, np.uint8)
    arr[:, :50] = 0  # dark band on the left, as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    page = _one(_save(Image.fromarray(arr), fmt, exif=exif))
    assert page.image.shape[:2] == (300, 100)  # upright: portrait
    assert "exif_rotated" in page.flags
    assert page.image[:40].mean() < 60 and page.image[-100:].mean() > 200  # band now on top


def test_multi_frame_tiff_is_one_page_per_frame() -> None:
    frames = [Image.fromarray(np.full((90, 120), 40 * (i + 1), np.uint8)) for i in range(3)]
    data = _save(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    pages = _pages(data)
    assert [p.index for p in pages] == [0, 1, 2]
    assert [int(p.image.mean()) for p in pages if isinstance(p, Page)] == [40, 80, 120]


def test_too_many_tiff_frames() -> None:
    frames = [Image.new("L", (80, 80), 200) for _ in range(4)]
    data = _save(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    cfg = PipelineConfig(limits=LimitsConfig(max_pages=3))
    assert _error_code(data, cfg) is ReasonCode.TOO_MANY_PAGES


def _big_endian_tiff(arr: np.ndarray) -> bytes:
    """An uncompressed 8-bit gray TIFF in Motorola byte order (Pillow writes II), by hand."""
    h, w = arr.shape
    entries = [  # tag, type (3 SHORT, 4 LONG), value
        (256, 4, w),
        (257, 4, h),
        (258, 3, 8),
        (259, 3, 1),
        (262, 3, 1),
        (273, 4, 8),
        (277, 3, 1),
        (278, 4, h),
        (279, 4, w * h),
    ]
    ifd_offset = 8 + w * h
    ifd = struct.pack(">H", len(entries))
    for tag, kind, value in entries:
        packed = struct.pack(">HH", value, 0) if kind == 3 else struct.pack(">I", value)
        ifd += struct.pack(">HHI", tag, kind, 1) + packed
    ifd += struct.pack(">I", 0)
    return b"MM\x00*" + struct.pack(">I", ifd_offset) + arr.tobytes() + ifd


def test_big_endian_tiff_and_bigtiff() -> None:
    arr = (np.arange(100 * 150) % 251).astype(np.uint8).reshape(100, 150)
    motorola = _big_endian_tiff(arr)
    assert np.array_equal(_one(motorola).image, arr)
    big = _save(Image.fromarray(arr), "TIFF", big_tiff=True)
    assert big[:4] == b"II+\x00"
    assert np.array_equal(_one(big).image, arr)


def test_cmyk_becomes_bgr() -> None:
    img = Image.new("CMYK", (100, 80), (0, 0, 0, 255))  # pure black ink
    page = _one(_save(img, "JPEG", quality=95))
    assert page.image.shape == (80, 100, 3)
    assert page.image.mean() < 20
    assert "converted_cmyk" in page.flags


def test_16_bit_is_scaled_to_8_bit() -> None:
    arr = np.full((80, 100), 65535, np.uint16)
    arr[:, :50] = 32896  # mid grey
    page = _one(_save(Image.fromarray(arr), "PNG"))
    assert page.image.dtype == np.uint8
    assert page.image[0, 0] == 128 and page.image[0, 99] == 255


def test_palette_with_transparency_is_flattened_on_white() -> None:
    img = Image.new("P", (100, 80), 0)
    img.putpalette([0, 0, 0, 10, 10, 10] + [0] * 762)
    img.info["transparency"] = 0  # index 0 (black) is transparent: paper
    data = _save(img, "PNG", transparency=0)
    page = _one(data)
    assert page.image.min() == 255


def test_rgba_and_la_transparent_pixels_are_paper() -> None:
    rgba = np.zeros((80, 100, 4), np.uint8)  # black, fully transparent
    rgba[:, :30, 3] = 255  # left part opaque black ink
    page = _one(_save(Image.fromarray(rgba, "RGBA"), "PNG"))
    gray = page.image if page.image.ndim == 2 else page.image.mean(axis=2)
    assert gray[:, :30].max() == 0 and gray[:, 40:].min() == 255
    la = Image.fromarray(rgba[:, :, [0, 3]], "LA")
    page = _one(_save(la, "PNG"))
    assert page.image.ndim == 2 and page.image[:, 40:].min() == 255


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims a huge image (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = lambda kind, body: (  # noqa: E731
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    )
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_from_the_header() -> None:
    data = _png_claiming(100_000, 100_000)
    assert len(data) < 200
    assert _error_code(data) is ReasonCode.IMAGE_TOO_LARGE


def test_pixel_limit_comes_from_the_config() -> None:
    data = _save(Image.new("L", (400, 300), 255), "PNG")
    cfg = PipelineConfig(limits=LimitsConfig(max_pixels=100_000))
    assert _error_code(data, cfg) is ReasonCode.IMAGE_TOO_LARGE
    assert isinstance(_one(data), Page)


def test_too_small_image_and_field_mode_minimum() -> None:
    data = _save(Image.new("L", (200, 40), 255), "PNG")
    assert _error_code(data) is ReasonCode.IMAGE_TOO_SMALL
    pages = list(iter_pages(triage(data, CFG.limits), CFG, min_side=8))
    assert isinstance(pages[0], Page)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_truncated_file(fmt: str) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (300, 400), dtype=np.uint8)
    data = _save(Image.fromarray(noise), fmt)
    assert _error_code(data[: len(data) // 2]) is ReasonCode.TRUNCATED_FILE


def test_truncated_tiff_whose_directory_is_lost() -> None:
    noise = np.random.default_rng(1).integers(0, 256, (300, 400), dtype=np.uint8)
    data = _save(Image.fromarray(noise), "TIFF", compression="tiff_deflate")
    assert _error_code(data[: len(data) // 2]) is ReasonCode.TRUNCATED_FILE


def test_garbage_after_the_magic_is_decode_failed() -> None:
    rng = np.random.default_rng(2)
    data = b"\x89PNG\r\n\x1a\n" + rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
    assert _error_code(data) is ReasonCode.DECODE_FAILED


def test_tiff_without_dimensions_is_decode_failed() -> None:
    # Found by tests/fuzz: Pillow raises TypeError("Missing dimensions") for this header.
    data = bytes.fromhex(
        "49492a000c0000008017e0200900000103000100000001000000010103000100000001000000020103000100"
        "0000080000000301030001000000050000000000000006010300010000000100000011010400010000000800"
        "00001601030001000000010000001701040001000000040000001c010300010000000100000000000000"
    )
    tiny_ok = PipelineConfig(limits=LimitsConfig(min_side_px=1))
    assert _error_code(data, tiny_ok) is ReasonCode.DECODE_FAILED
