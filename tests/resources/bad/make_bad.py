"""Write the corpus of broken and hostile inputs in this folder (deterministic: same bytes).

Run from the repository root::

    .venv/bin/python tests/resources/bad/make_bad.py

Every case is listed in :data:`CASES` with the reason code the pipeline must give it (``None``
where several answers are right, e.g. a photo may be ``not_a_document`` or ``blank_page``) and
why the case matters. Large cases are written compactly: a decompression bomb is a small PNG
whose header claims a huge image, the 500-page PDF shares one page object body, the 20,000 x
20,000 page is a 1-bit PNG of ~50 KB. Cases that git cannot hold (a symbolic link, an
unreadable file, a non-UTF-8 file name, a FIFO, a folder) are made at run time by
``tests/integration/test_bad_inputs.py``.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Case:
    name: str  # file name in this folder
    status: str  # "error" | "rejected" | "either"
    code: str | None  # the reason code when it is certain, else None
    why: str


CASES: list[Case] = []


def case(name: str, status: str, code: str | None, why: str):
    def register(fn):
        CASES.append(Case(name, status, code, why))
        fn.case_name = name
        return fn

    return register


# ----------------------------------------------------------------- helpers


def _png_bytes(img: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **kw)
    return buf.getvalue()


def _jpeg_bytes(img: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80, **kw)
    return buf.getvalue()


def _tiff_bytes(frames: list[Image.Image], **kw: object) -> bytes:
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=len(frames) > 1, append_images=frames[1:], **kw)
    return buf.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_raw(width: int, height: int, depth: int, color: int, idat: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def _pdf(objects: list[bytes], *, trailer_extra: bytes = b"") -> bytes:
    """A PDF from object bodies (object 1 is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer_extra)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _pdf_pages(n_pages: int, width_pt: float = 612, height_pt: float = 792) -> bytes:
    """A valid PDF of ``n_pages`` blank pages (every page is one short object)."""
    first_page = 3
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(n_pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n_pages),
    ]
    box = b"[0 0 %g %g]" % (width_pt, height_pt)
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox %s >>" % box] * n_pages
    return _pdf(objects)


def _paper(width: int = 1400, height: int = 640) -> Image.Image:
    """An empty sheet, slightly uneven like a scan (a smooth shade compresses to a few KB)."""
    shade = 238 + (np.arange(width) * 12 // max(1, width - 1)).astype(np.uint8)
    return Image.fromarray(np.tile(shade, (height, 1)), "L")


# ----------------------------------------------------------------- empty, text, wrong formats


@case("zero_bytes.png", "error", "empty_file", "an empty file (a failed upload or copy)")
def zero_bytes() -> bytes:
    return b""


@case("text_named.png", "error", "unsupported_format", "plain text with an image extension")
def text_named() -> bytes:
    return b"Account 0012345678, amount 1250.00\nThis is a text file, not a scan.\n"


@case("html_named.jpg", "error", "unsupported_format", "an HTML error page saved as the image")
def html_named() -> bytes:
    return (
        b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
        b"<body>gone</body></html>\n"
    )


@case("utf16_text.tif", "error", "unsupported_format", "UTF-16 text (BOM) named as a TIFF")
def utf16_text() -> bytes:
    return "cheque 1250.00\r\n".encode("utf-16")


@case("gif_named.png", "error", "unsupported_format", "a GIF (a format we do not read) named .png")
def gif_named() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (200, 100), 255).save(buf, "GIF")
    return buf.getvalue()


@case("zip_named.pdf", "error", "unsupported_format", "a ZIP archive (or .docx) named .pdf")
def zip_named() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("cheque.txt", date_time=(2026, 1, 1, 0, 0, 0))
        zf.writestr(info, "not a scan")
    return buf.getvalue()


@case("elf_binary.jpg", "error", "unsupported_format", "an executable's header named .jpg")
def elf_binary() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 2


# ----------------------------------------------------------------- truncated and corrupt images


@case("truncated.png", "error", "truncated_file", "a PNG cut short in transfer")
def truncated_png() -> bytes:
    rng = np.random.default_rng(9101)
    data = _png_bytes(Image.fromarray(rng.integers(0, 256, (100, 200), np.uint8), "L"))
    return data[: len(data) // 2]


@case("truncated.jpg", "error", "truncated_file", "a JPEG cut short in transfer")
def truncated_jpg() -> bytes:
    rng = np.random.default_rng(9102)
    data = _jpeg_bytes(Image.fromarray(rng.integers(0, 256, (100, 200), np.uint8), "L"))
    return data[: len(data) // 2]


@case("truncated.tif", "error", "truncated_file", "a TIFF cut before its image directory")
def truncated_tif() -> bytes:
    data = _tiff_bytes([_paper(600, 300)])
    return data[:4000]


@case("png_header_only.png", "error", None, "just the 8-byte PNG signature")
def png_header_only() -> bytes:
    return b"\x89PNG\r\n\x1a\n"


@case("jpeg_garbage.jpg", "error", None, "a JPEG start marker followed by random bytes")
def jpeg_garbage() -> bytes:
    rng = np.random.default_rng(9103)
    return b"\xff\xd8\xff\xe0" + rng.integers(0, 256, 2000, np.uint8).tobytes()


@case("png_bad_idat.png", "error", None, "valid PNG chunks around corrupt compressed pixels")
def png_bad_idat() -> bytes:
    rng = np.random.default_rng(9104)
    return _png_raw(400, 200, 8, 0, rng.integers(0, 256, 3000, np.uint8).tobytes())


@case("png_zero_width.png", "error", None, "a PNG header that says 0 x 200 pixels")
def png_zero_width() -> bytes:
    return _png_raw(0, 200, 8, 0, zlib.compress(b""))


@case("tiff_ifd_past_end.tif", "error", "truncated_file", "a TIFF whose directory is past the end")
def tiff_ifd_past_end() -> bytes:
    return b"II*\x00" + struct.pack("<I", 1_000_000) + bytes(64)


@case("bigtiff_garbage.tif", "error", None, "a BigTIFF signature followed by random bytes")
def bigtiff_garbage() -> bytes:
    rng = np.random.default_rng(9105)
    return (
        b"II+\x00\x08\x00\x00\x00"
        + struct.pack("<Q", 16)
        + rng.integers(0, 256, 500, np.uint8).tobytes()
    )


@case("tiff_no_width.tif", "error", "decode_failed", "a TIFF directory without ImageWidth")
def tiff_no_width() -> bytes:
    # `make fuzz` found TIFFs like this one: Pillow may raise TypeError("Missing dimensions").
    entries = [(257, 3, 1, 100), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, 8)]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        packed = struct.pack("<HHI", tag, kind, count)
        ifd += packed + (struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + bytes(64)


# ----------------------------------------------------------------- sizes


@case(
    "bomb_100k.png", "error", "image_too_large", "decompression bomb: 100,000^2 px claimed in 60 B"
)
def bomb_png() -> bytes:
    # The header claims 10^10 pixels; the pixels are never there. Must be refused from the header.
    return _png_raw(100_000, 100_000, 8, 0, zlib.compress(bytes(1024), 9))


@case(
    "bomb_tiff.tif", "error", "image_too_large", "decompression bomb: a TIFF claiming 60,000^2 px"
)
def bomb_tiff() -> bytes:
    # One-strip uncompressed gray TIFF whose tags claim 60,000 x 60,000 pixels.
    entries = [
        (256, 4, 1, 60_000),  # ImageWidth (LONG)
        (257, 4, 1, 60_000),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # Photometric: black is zero
        (273, 4, 1, 200),  # StripOffsets
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, 60_000),  # RowsPerStrip
        (279, 4, 1, 3_600_000_000),  # StripByteCounts
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        packed = struct.pack("<HHI", tag, kind, count)
        packed += struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        ifd += packed
    ifd += struct.pack("<I", 0)
    head = b"II*\x00" + struct.pack("<I", 8) + ifd
    return head + bytes(256 - len(head))


@case("page_20000px.png", "error", "image_too_large", "a genuine 20,000 x 20,000 px page (1-bit)")
def page_20000() -> bytes:
    width = height = 20_000
    row = b"\x00" + b"\xff" * (width // 8)  # filter byte + a white row of 1-bit pixels
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    return _png_raw(width, height, 1, 0, idat)


@case(
    "pdf_page_20000px.pdf",
    "error",
    "image_too_large",
    "a PDF page of 7200 pt: 20,000 px at 200 dpi",
)
def pdf_page_20000() -> bytes:
    return _pdf_pages(1, 7200, 7200)


@case("one_by_one.png", "error", "image_too_small", "a 1 x 1 pixel image (a tracking pixel)")
def one_by_one() -> bytes:
    return _png_bytes(Image.new("L", (1, 1), 255))


@case("thin_strip.png", "error", "image_too_small", "a 2000 x 20 px strip: no page is that thin")
def thin_strip() -> bytes:
    return _png_bytes(Image.new("L", (2000, 20), 255))


# ----------------------------------------------------------------- PDFs


@case("pdf_encrypted.pdf", "error", "pdf_encrypted", "a PDF that needs a user password")
def pdf_encrypted() -> bytes:
    # Standard security handler, RC4 40-bit (V1 R2). /U is not the hash of the empty password,
    # so a reader must ask for a password: poppler answers "Incorrect password".
    enc = (
        b"<< /Filter /Standard /V 1 /R 2 /P -44 "
        b"/O <" + b"a1" * 32 + b"> /U <" + b"5c" * 32 + b"> >>"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        enc,
    ]
    ident = b"<" + b"0123456789abcdef" * 2 + b">"
    return _pdf(objects, trailer_extra=b"/Encrypt 4 0 R /ID [%s %s] " % (ident, ident))


@case("pdf_no_pages.pdf", "error", "pdf_no_pages", "a valid PDF whose page tree is empty")
def pdf_no_pages() -> bytes:
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


@case("pdf_500_pages.pdf", "error", "too_many_pages", "500 pages: over limits.max_pages")
def pdf_500() -> bytes:
    return _pdf_pages(500)


@case("pdf_truncated.pdf", "error", "truncated_file", "a PDF cut short (no xref, no %%EOF)")
def pdf_truncated() -> bytes:
    return _pdf_pages(2)[:150]


@case("pdf_garbage.pdf", "error", None, "a PDF header, random bytes, and an %%EOF")
def pdf_garbage() -> bytes:
    rng = np.random.default_rng(9106)
    return b"%PDF-1.7\n" + rng.integers(0, 256, 3000, np.uint8).tobytes() + b"\n%%EOF\n"


@case("pdf_named.jpg", "error", "pdf_no_pages", "a PDF (empty page tree) named .jpg: magic wins")
def pdf_named_jpg() -> bytes:
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 0 /Kids [] >>"])


@case("pdf_blank_page.pdf", "rejected", "blank_page", "a valid one-page PDF with nothing on it")
def pdf_blank() -> bytes:
    return _pdf_pages(1, 612, 280)


# ----------------------------------------------------------------- decodable, but not a cheque


@case("blank_page.png", "rejected", "blank_page", "a scan of an empty sheet")
def blank_page() -> bytes:
    return _png_bytes(_paper())


@case("photo.jpg", "rejected", None, "a photograph (skimage's public-domain NASA astronaut)")
def photo() -> bytes:
    from skimage import data

    return _jpeg_bytes(Image.fromarray(data.astronaut(), "RGB"))


@case("noise.png", "rejected", "not_a_document", "uniform random noise: no paper, no strokes")
def noise() -> bytes:
    rng = np.random.default_rng(9107)
    return _png_bytes(Image.fromarray(rng.integers(0, 256, (200, 400), np.uint8), "L"))


@case("black_page.png", "either", None, "an all-black page (scanner lid open, no paper)")
def black_page() -> bytes:
    return _png_bytes(Image.new("L", (1400, 640), 0))


@case("transparent.png", "rejected", "blank_page", "an RGBA PNG, fully transparent: white paper")
def transparent() -> bytes:
    return _png_bytes(Image.new("RGBA", (1400, 640), (0, 0, 0, 0)))


@case("jpeg_named.pdf", "rejected", "blank_page", "a JPEG of an empty sheet named .pdf")
def jpeg_named_pdf() -> bytes:
    return _jpeg_bytes(_paper(1400, 641))


@case("cmyk.tif", "rejected", "blank_page", "a CMYK TIFF (prepress export) of an empty sheet")
def cmyk() -> bytes:
    return _tiff_bytes([_paper(1400, 642).convert("CMYK")], compression="tiff_adobe_deflate")


@case("cmyk.jpg", "rejected", "blank_page", "a CMYK JPEG (Adobe) of an empty sheet")
def cmyk_jpg() -> bytes:
    return _jpeg_bytes(_paper(1400, 643).convert("CMYK"))


@case("gray16.tif", "rejected", "blank_page", "a 16-bit gray TIFF of an empty sheet")
def gray16() -> bytes:
    sheet = np.asarray(_paper(1400, 644), np.uint16) * 257
    return _tiff_bytes([Image.fromarray(sheet)], compression="tiff_adobe_deflate")


@case("multiframe.tif", "rejected", "blank_page", "a 3-frame TIFF, every frame an empty sheet")
def multiframe() -> bytes:
    frames = [_paper(1400, 645 + i) for i in range(3)]
    return _tiff_bytes(frames, compression="tiff_lzw")


@case("multiframe_60.tif", "error", "too_many_pages", "a 60-frame TIFF: over limits.max_pages")
def multiframe_60() -> bytes:
    frames = [Image.new("L", (100, 100), 255) for _ in range(60)]
    return _tiff_bytes(frames, compression="tiff_lzw")


@case("exif_rotated.jpg", "rejected", "blank_page", "an empty sheet with EXIF Orientation 6")
def exif_rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6
    return _jpeg_bytes(_paper(640, 1400), exif=exif.tobytes())


def write_all(folder: Path = HERE) -> dict[str, int]:
    """Write every case into ``folder``; file name -> size in bytes."""
    sizes = {}
    for fn in list(globals().values()):
        name = getattr(fn, "case_name", None)
        if name is None:
            continue
        data = fn()
        (folder / name).write_bytes(data)
        sizes[name] = len(data)
    return sizes


if __name__ == "__main__":
    written = write_all()
    for file_name, size in sorted(written.items()):
        print(f"{size:>9,}  {file_name}")
    print(f"{sum(written.values()):>9,}  in {len(written)} files")
