"""PDF pages through real poppler: page by page at the configured dpi, and every refusal coded."""

from __future__ import annotations

import inspect
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from hdr.config import LimitsConfig, PdfConfig, PipelineConfig
from hdr.errors import InputError, ReasonCode
from hdr.io import Deadline, PageError, iter_pages, triage
from hdr.io.pdf import iter_pdf_pages
from hdr.types import Page

CFG = PipelineConfig(pdf=PdfConfig(dpi=100))


def _scan(mark_x: int) -> Image.Image:
    """A 4 x 2 inch page at 100 dpi, white with a black square whose x says which page it is."""
    img = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(img).rectangle((mark_x, 80, mark_x + 40, 120), fill="black")
    return img


def _pillow_pdf(n_pages: int) -> bytes:
    pages = [_scan(40 + 80 * i) for i in range(n_pages)]
    buf = io.BytesIO()
    pages[0].save(buf, "PDF", resolution=100, save_all=True, append_images=pages[1:])
    return buf.getvalue()


def _raw_pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF written object by object, with a correct cross-reference table."""
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer)
    return out + b"startxref\n%d\n%%%%EOF\n" % xref


def _pages_pdf(n_pages: int) -> bytes:
    """A PDF of ``n_pages`` empty 4 x 2 inch pages (poppler wants one object per page)."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(n_pages))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 144] >>"
    return _raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n_pages),
            *[page] * n_pages,
        ]
    )


def _code(data: bytes, cfg: PipelineConfig = CFG) -> ReasonCode:
    with pytest.raises(InputError) as err:
        list(iter_pages(triage(data, cfg.limits), cfg))
    return err.value.code


def test_pages_are_rasterised_one_at_a_time_at_the_configured_dpi(tmp_path: Path) -> None:
    path = tmp_path / "two.pdf"
    path.write_bytes(_pillow_pdf(2))
    pages = iter_pages(triage(path, CFG.limits), CFG)
    assert inspect.isgenerator(pages)
    first = next(pages)  # the first page comes before the second is rendered
    assert isinstance(first, Page) and first.index == 0 and first.dpi == 100
    rest = list(pages)
    assert [p.index for p in rest] == [1]
    for page, mark_x in ((first, 40), (rest[0], 120)):
        assert isinstance(page, Page)
        assert page.image.shape == (200, 400)  # rendered gray: the pipeline reads gray
        ys, xs = np.nonzero(page.image < 128)
        assert abs(xs.min() - mark_x) <= 2 and abs(ys.min() - 80) <= 2


def test_dpi_changes_the_raster_size() -> None:
    cfg = PipelineConfig(pdf=PdfConfig(dpi=200))
    pages = list(iter_pages(triage(_pillow_pdf(1), cfg.limits), cfg))
    assert isinstance(pages[0], Page) and pages[0].image.shape[:2] == (400, 800)


def test_pdf_given_as_bytes_is_read() -> None:
    pages = list(iter_pages(triage(_pillow_pdf(3), CFG.limits), CFG))
    assert [p.index for p in pages if isinstance(p, Page)] == [0, 1, 2]


def test_password_protected_pdf_is_pdf_encrypted() -> None:
    # Standard security handler with a user password we do not know: poppler cannot open it.
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -44 >>" % (b"11" * 32, b"22" * 32)
    catalog = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 144] >>",
        encrypt,
    ]
    file_id = b"<00112233445566778899aabbccddeeff>"
    data = _raw_pdf(catalog, b"/Encrypt 4 0 R /ID [%s %s] " % (file_id, file_id))
    assert _code(data) is ReasonCode.PDF_ENCRYPTED


def test_pdf_without_pages() -> None:
    data = _raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])
    assert _code(data) is ReasonCode.PDF_NO_PAGES


def test_ten_thousand_pages_are_refused_before_rasterising() -> None:
    data = _pages_pdf(10_000)
    assert _code(data) is ReasonCode.TOO_MANY_PAGES
    with pytest.raises(InputError) as err:
        list(iter_pages(triage(data, CFG.limits), CFG))
    assert "10,000 pages" in err.value.message


def test_a_page_too_large_at_this_dpi_is_refused_and_others_are_read() -> None:
    data = _raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] >>",  # 200 x 200 inches
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 144] >>",
        ]
    )
    pages = list(iter_pages(triage(data, CFG.limits), CFG))
    assert isinstance(pages[0], PageError)
    assert pages[0].error.code is ReasonCode.IMAGE_TOO_LARGE
    assert isinstance(pages[1], Page) and pages[1].image.shape[:2] == (200, 400)


def test_not_a_pdf_after_the_magic_is_decode_failed() -> None:
    data = b"%PDF-1.4\n" + b"this is not a PDF at all\n" * 3 + b"%%EOF\n"
    assert _code(data) is ReasonCode.DECODE_FAILED


def test_truncated_pdf() -> None:
    data = _pages_pdf(1)
    assert _code(data[:60]) is ReasonCode.TRUNCATED_FILE


def test_a_complete_pdf_with_one_page_reads() -> None:
    pages = list(iter_pages(triage(_pages_pdf(1), CFG.limits), CFG))
    assert isinstance(pages[0], Page) and pages[0].image.shape[:2] == (200, 400)


def test_time_budget_is_enforced(tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(_pillow_pdf(1))
    spent = Deadline(budget_s=0.0, name=str(path))
    with pytest.raises(InputError) as err:
        list(iter_pdf_pages(path, str(path), LimitsConfig(), PdfConfig(), spent))
    assert err.value.code is ReasonCode.TIME_BUDGET_EXCEEDED


def test_missing_poppler_is_dependency_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without pdfinfo/pdftoppm
    err = _code(_pillow_pdf(1))
    assert err is ReasonCode.DEPENDENCY_MISSING
