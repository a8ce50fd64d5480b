"""PDF pages through poppler (pdf2image): page count and encryption first, then one page at a time.

``pdfinfo`` runs first, so an encrypted file, a file without pages or a 10,000-page file is
refused before anything is rasterised, and every page's size at the configured dpi is checked
against ``limits.max_pixels`` before that page is rendered. Pages are rendered one at a time
(``first_page = last_page``), so memory holds one page however long the document is, and every
poppler call gets the time left in the document's budget as its timeout.

>>> from hdr.config import LimitsConfig, PdfConfig
>>> pages = iter_pdf_pages(Path("cheque.pdf"), "cheque.pdf", LimitsConfig(), PdfConfig())
>>> next(pages).dpi  # doctest: +SKIP
200
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pdf2image import convert_from_path, pdfinfo_from_path
from pdf2image.exceptions import (
    PDFInfoNotInstalledError,
    PDFPageCountError,
    PDFPopplerTimeoutError,
    PopplerNotInstalledError,
)

from hdr.config import LimitsConfig, PdfConfig
from hdr.errors import InputError, ReasonCode
from hdr.io.images import check_pixels
from hdr.io.pages import Deadline, PageError
from hdr.types import Page

_PAGE_SIZE = re.compile(r"([\d.]+)\s*x\s*([\d.]+)\s*pts")
_NO_POPPLER_HINT = "install poppler-utils (make setup does)"


_NO_DEADLINE_TIMEOUT_S = 600  # even without a budget, a hung poppler must not hang the batch


def _timeout(deadline: Deadline | None) -> int:
    if deadline is None:
        return _NO_DEADLINE_TIMEOUT_S
    left = deadline.remaining()
    if left <= 0:
        raise deadline.exceeded("PDF rasterisation")
    return max(1, int(left + 0.999))


def pdf_info(path: Path, name: str, deadline: Deadline | None = None, **kw: Any) -> dict[str, Any]:
    """pdfinfo's fields for a file, with poppler's failures turned into reason codes."""
    try:
        return pdfinfo_from_path(str(path), timeout=_timeout(deadline), **kw)
    except PDFPopplerTimeoutError as exc:
        raise (deadline or Deadline(0, name)).exceeded("pdfinfo") from exc
    except (PDFInfoNotInstalledError, PopplerNotInstalledError) as exc:
        raise InputError(
            ReasonCode.DEPENDENCY_MISSING,
            f"{name}: poppler's pdfinfo is not installed",
            hint=_NO_POPPLER_HINT,
        ) from exc
    except PDFPageCountError as exc:
        text = str(exc).replace("Unable to get page count.", "").strip()
        if "password" in text.lower():
            raise InputError(
                ReasonCode.PDF_ENCRYPTED,
                f"{name}: the PDF is encrypted with a password",
                hint="ask the sender for an unprotected copy",
            ) from exc
        if "Invalid page count 0" in text:
            raise InputError(ReasonCode.PDF_NO_PAGES, f"{name}: the PDF has no pages") from exc
        lines = [line for line in text.splitlines() if "Wrong page range" not in line]
        detail = lines[0] if lines else "poppler could not parse it"
        if not _ends_with_eof_marker(path):
            raise InputError(
                ReasonCode.TRUNCATED_FILE,
                f"{name}: the PDF is cut short (no %%EOF at its end): {detail}",
                hint="the file was cut short in transfer: send it again",
            ) from exc
        raise InputError(ReasonCode.DECODE_FAILED, f"{name}: not a readable PDF: {detail}") from exc


def _ends_with_eof_marker(path: Path) -> bool:
    """A complete PDF ends with %%EOF (give or take trailing whitespace or junk)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - 1024))
            return b"%%EOF" in fh.read()
    except OSError:
        return False


def _page_sizes(info: dict[str, Any], count: int) -> dict[int, tuple[float, float]]:
    """Page index -> (width, height) in points, from pdfinfo's ``Page N size`` lines."""
    sizes: dict[int, tuple[float, float]] = {}
    for key, value in info.items():
        if key.startswith("Page") and key.endswith("size"):
            number = key[4:-4].strip()
            found = _PAGE_SIZE.search(str(value))
            if number.isdigit() and found:
                sizes[int(number) - 1] = (float(found.group(1)), float(found.group(2)))
    if not sizes and "Page size" in info:  # a single-page answer has no page number
        found = _PAGE_SIZE.search(str(info["Page size"]))
        if found:
            sizes = dict.fromkeys(range(count), (float(found.group(1)), float(found.group(2))))
    return sizes


def iter_pdf_pages(
    path: Path,
    name: str,
    limits: LimitsConfig,
    pdf: PdfConfig,
    deadline: Deadline | None = None,
) -> Iterator[Page | PageError]:
    """Rasterise a PDF at ``pdf.dpi``, one page at a time, as gray pages (poppler's own
    luminance: the same as OpenCV's from its RGB rendering to within 2 levels, where colour is).

    Raises InputError for the whole file (encrypted, no pages, too many pages, unreadable);
    yields a PageError for one page that is too large at this dpi or fails to render.
    """
    # A PDF that needs a password fails in pdfinfo (pdf_encrypted). One that pdfinfo opens but
    # reports "Encrypted: yes" has an empty user password: only copy/print rights are
    # restricted, and its pages are read like any other.
    # One pdfinfo call gives the page count and the size of every page we may render.
    info = pdf_info(path, name, deadline, first_page=1, last_page=limits.max_pages + 1)
    count = int(info.get("Pages", 0) or 0)
    if count <= 0:
        raise InputError(ReasonCode.PDF_NO_PAGES, f"{name}: the PDF has no pages")
    if count > limits.max_pages:
        raise InputError(
            ReasonCode.TOO_MANY_PAGES,
            f"{name}: {count:,} pages, over the limit of {limits.max_pages}",
            hint="split the file, or raise limits.max_pages",
        )
    sizes = _page_sizes(info, count)
    for index in range(count):
        try:
            page = _render_page(path, name, index, sizes.get(index), limits, pdf, deadline)
        except InputError as failure:
            if failure.code is ReasonCode.TIME_BUDGET_EXCEEDED:
                raise
            yield PageError(index=index, error=failure)
        else:
            yield page


def _render_page(
    path: Path,
    name: str,
    index: int,
    size_pt: tuple[float, float] | None,
    limits: LimitsConfig,
    pdf: PdfConfig,
    deadline: Deadline | None,
) -> Page:
    """Rasterise page ``index`` (0-based) alone, after checking its pixel size at this dpi."""
    if size_pt is not None:
        width, height = round(size_pt[0] / 72 * pdf.dpi), round(size_pt[1] / 72 * pdf.dpi)
        check_pixels(width, height, name, limits, index)
    try:
        images = convert_from_path(
            str(path),
            dpi=pdf.dpi,
            first_page=index + 1,
            last_page=index + 1,
            grayscale=True,  # the pipeline reads gray; a third of the bytes through the pipe
            timeout=_timeout(deadline),
        )
    except PDFPopplerTimeoutError as exc:
        raise (deadline or Deadline(0, name)).exceeded(f"rasterising page {index + 1}") from exc
    except (PDFPageCountError, OSError, ValueError) as exc:
        raise InputError(ReasonCode.DECODE_FAILED, f"{name}: page {index + 1}: {exc}") from exc
    if not images:
        raise InputError(
            ReasonCode.DECODE_FAILED, f"{name}: poppler rendered nothing for page {index + 1}"
        )
    image = images[0] if images[0].mode == "L" else images[0].convert("L")
    return Page(index=index, image=np.array(image, dtype=np.uint8), dpi=pdf.dpi)
