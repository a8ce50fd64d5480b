"""Input: triage by magic bytes, then pages from images (Pillow) or PDFs (pdf2image), streamed.

>>> from hdr.config import load_pipeline_config
>>> from hdr.io import triage, iter_pages
>>> cfg = load_pipeline_config()
>>> source = triage("cheque.pdf", cfg.limits)                  # doctest: +SKIP
>>> for page in iter_pages(source, cfg): ...                    # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from hdr.config import PipelineConfig
from hdr.io.images import iter_image_pages
from hdr.io.pages import Deadline, PageError
from hdr.io.pdf import iter_pdf_pages
from hdr.io.triage import MediaType, Source, sniff_media_type, triage
from hdr.types import Page

__all__ = [
    "Deadline",
    "MediaType",
    "PageError",
    "Source",
    "iter_pages",
    "sniff_media_type",
    "triage",
]


def iter_pages(
    source: Source,
    cfg: PipelineConfig,
    deadline: Deadline | None = None,
    *,
    min_side: int | None = None,
) -> Iterator[Page | PageError]:
    """The pages of a triaged input, one at a time; raises InputError when the file is unreadable.

    ``min_side`` overrides ``limits.min_side_px`` (a cropped field image may be small).
    """
    if source.media_type is not MediaType.PDF:
        yield from iter_image_pages(source.data, source.name, cfg.limits, min_side=min_side)
        return
    if source.path is not None:
        yield from iter_pdf_pages(source.path, source.name, cfg.limits, cfg.pdf, deadline)
        return
    # poppler reads files: bytes given in memory go to a private temporary file for the duration.
    with tempfile.TemporaryDirectory(prefix="hdr-pdf-") as tmp:
        path = Path(tmp) / "input.pdf"
        path.write_bytes(source.data)
        yield from iter_pdf_pages(path, source.name, cfg.limits, cfg.pdf, deadline)
