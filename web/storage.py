"""Uploaded files on disk: checked at the door, stored under server-generated names.

>>> folder = new_job_folder(uploads_root)                        # uploads/<32 hex digits>/
>>> stored = store_file(folder, 0, "cheque.png", stream, cfg)      # -> db.uploads.NewFile
>>> stored.stored_name, stored.media_type
('000-3f9c0a1b2c3d4e5f.png', 'image/png')

A person's file name is kept only to be shown; the path is ``<folder>/<position>-<sha256
prefix>.<ext>``, so nothing sent can name a path. The type comes from the magic bytes (PNG,
JPEG, TIFF or PDF), the size is counted while the bytes are copied (the copy stops at the
limit), and PDF and TIFF pages are counted before the file is accepted.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from pathlib import Path
from typing import BinaryIO

from db.uploads import NewFile
from hdr.errors import InputError, ReasonCode
from hdr.io.triage import MediaType, sniff_media_type
from web.config import WebConfig

_EXTENSIONS = {
    MediaType.PNG: ".png",
    MediaType.JPEG: ".jpg",
    MediaType.TIFF: ".tif",
    MediaType.PDF: ".pdf",
}
_CHUNK = 1024 * 1024
_HEAD = 1024  # enough for every magic number we know (a PDF header may come late in it)


def new_job_folder(root: Path) -> Path:
    """A fresh folder for one upload, named by the server (never by the person)."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = root / secrets.token_hex(16)
    folder.mkdir(mode=0o700)
    return folder


def inside(root: Path, path: Path) -> bool:
    """Whether ``path`` lies under ``root`` once both are resolved (symlinks included)."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _display_name(name: str | None) -> str:
    text = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if ch.isprintable())
    return text[:200] or "upload"


def store_file(
    folder: Path, position: int, original_name: str | None, stream: BinaryIO, cfg: WebConfig
) -> NewFile:
    """Copy one upload into ``folder`` and check it; :class:`InputError` when it is refused."""
    name = _display_name(original_name)
    digest = hashlib.sha256()
    partial = folder / f".{position:03d}.part"
    size = 0
    head = b""
    with open(partial, "xb") as out:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > cfg.max_file_bytes:
                out.close()
                partial.unlink(missing_ok=True)
                raise InputError(
                    ReasonCode.FILE_TOO_LARGE,
                    f"{name} is larger than {cfg.max_file_bytes // (1024 * 1024)} MiB",
                    hint="send it in smaller files, or ask an admin to raise web.max_file_bytes",
                )
            if len(head) < _HEAD:
                head += chunk[: _HEAD - len(head)]
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        partial.unlink(missing_ok=True)
        raise InputError(ReasonCode.EMPTY_FILE, f"{name} is empty")
    media_type = sniff_media_type(head)
    if media_type is None:
        partial.unlink(missing_ok=True)
        raise InputError(
            ReasonCode.UNSUPPORTED_FORMAT,
            f"{name} is not a PNG, JPEG, TIFF or PDF file",
            hint="scan the document to one of those formats",
        )
    sha = digest.hexdigest()
    stored = folder / f"{position:03d}-{sha[:16]}{_EXTENSIONS[media_type]}"
    os.replace(partial, stored)
    try:
        pages = count_pages(stored, media_type, name)
    except InputError:
        stored.unlink(missing_ok=True)
        raise
    if pages is not None and pages > cfg.max_pages:
        stored.unlink(missing_ok=True)
        raise InputError(
            ReasonCode.TOO_MANY_PAGES,
            f"{name} has {pages} pages, more than the {cfg.max_pages} allowed per file",
            hint="split the file",
        )
    return NewFile(name, stored.name, size, media_type.value, pages, sha)


def count_pages(path: Path, media_type: MediaType, name: str) -> int | None:
    """Pages of a PDF (pdfinfo) or a TIFF (frames); 1 for PNG and JPEG; None if unknown."""
    if media_type is MediaType.PDF:
        from hdr.io.pdf import pdf_info

        pages = pdf_info(path, name).get("Pages")
        return int(pages) if pages is not None else None
    if media_type is MediaType.TIFF:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as img:
                return int(getattr(img, "n_frames", 1))
        except (UnidentifiedImageError, OSError):
            return None  # the pipeline will say what is wrong with it
    return 1


def store_bytes(folder: Path, position: int, name: str, data: bytes, cfg: WebConfig) -> NewFile:
    """:func:`store_file` for bytes already in memory (a URL download)."""
    import io

    return store_file(folder, position, name, io.BytesIO(data), cfg)
