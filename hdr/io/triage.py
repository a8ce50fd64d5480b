"""Triage: open an input safely, read its bytes within the limits, and name its type by magic bytes.

The extension is never trusted: a PNG called ``cheque.pdf`` is read as a PNG, and a text file
called ``cheque.png`` is refused with ``unsupported_format``. Every refusal is an
:class:`hdr.errors.InputError` with a :class:`hdr.errors.ReasonCode` and a sentence for a person.

Symlink policy: with ``limits.follow_symlinks`` (the default) a link is followed and its target
must be a regular file; with it off, a link is refused as ``not_a_regular_file``. Devices, FIFOs,
sockets and directories are always refused, and the file is checked with ``fstat`` on the open
descriptor, so it cannot be swapped between the check and the read.

>>> from hdr.io.triage import sniff_media_type
>>> sniff_media_type(b"%PDF-1.7 ...")
<MediaType.PDF: 'application/pdf'>
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from hdr.config import LimitsConfig
from hdr.errors import InputError, ReasonCode


class MediaType(StrEnum):
    """The input formats we read, named by their IANA media types."""

    PNG = "image/png"
    JPEG = "image/jpeg"
    TIFF = "image/tiff"
    PDF = "application/pdf"


_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_TIFF = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF, both byte orders
# Readers (poppler, Acrobat) accept a PDF header anywhere in the first KiB: some scanners and
# mail gateways prepend junk. We accept what poppler accepts and nothing further away.
_PDF = b"%PDF-"
_PDF_WINDOW = 1024


@dataclass(frozen=True)
class Source:
    """An input that passed triage: its bytes, their sha256 and its media type."""

    name: str  # what the user gave: the path as typed, or "<bytes>"
    data: bytes
    media_type: MediaType
    sha256: str
    path: Path | None = None  # the file on disk, when there is one


def sniff_media_type(head: bytes) -> MediaType | None:
    """The media type named by the first bytes of a file, or None when we do not read it."""
    if head.startswith(_PNG):
        return MediaType.PNG
    if head.startswith(_JPEG):
        return MediaType.JPEG
    if head[:4] in _TIFF:
        return MediaType.TIFF
    if _PDF in head[:_PDF_WINDOW]:
        return MediaType.PDF
    return None


def _describe(head: bytes) -> str:
    """A few words on what an unsupported file seems to be, for the error message."""
    known = {
        b"GIF8": "a GIF image",
        b"BM": "a BMP image",
        b"PK\x03\x04": "a ZIP archive (or an Office document)",
        b"\x1f\x8b": "a gzip archive",
        b"RIFF": "a RIFF file (WebP, WAV or AVI)",
        b"\x00\x00\x00\x0cjP": "a JPEG 2000 image",
    }
    for magic, what in known.items():
        if head.startswith(magic):
            return what
    sample = head[:64]
    if sample and all(32 <= b < 127 or b in (9, 10, 13) for b in sample):
        return "text"
    return f"unknown binary data starting with {head[:8].hex(' ')}"


def read_input_bytes(path: Path, limits: LimitsConfig) -> bytes:
    """Read a whole input file; refuse what is not a readable regular file within the limit."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block the batch
    if not limits.follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError as exc:
        kind = "a broken symbolic link" if path.is_symlink() else "no such file"
        raise InputError(ReasonCode.FILE_NOT_FOUND, f"{path}: {kind}") from exc
    except PermissionError as exc:
        raise InputError(
            ReasonCode.PERMISSION_DENIED,
            f"{path}: permission denied",
            hint="give the user running hdr read access to the file",
        ) from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(
                ReasonCode.NOT_A_REGULAR_FILE,
                f"{path}: is a symbolic link, and links are not followed",
                hint="set limits.follow_symlinks: true, or pass the target itself",
            ) from exc
        raise InputError(ReasonCode.READ_FAILED, f"{path}: cannot open: {exc.strerror}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            what = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise InputError(ReasonCode.NOT_A_REGULAR_FILE, f"{path}: is {what}")
        if info.st_size > limits.max_file_bytes:
            raise _too_large(path, info.st_size, limits)
        chunks: list[bytes] = []
        total = 0
        while True:
            # Read past the size stat told us (a growing file, or /proc) but never past the limit.
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > limits.max_file_bytes:
                raise _too_large(path, total, limits)
            chunks.append(chunk)
    except OSError as exc:
        raise InputError(ReasonCode.READ_FAILED, f"{path}: read failed: {exc.strerror}") from exc
    finally:
        os.close(fd)
    return b"".join(chunks)


def _too_large(path: Path | str, size: int, limits: LimitsConfig) -> InputError:
    return InputError(
        ReasonCode.FILE_TOO_LARGE,
        f"{path}: {size:,} bytes is over the limit of {limits.max_file_bytes:,} bytes",
        hint="raise limits.max_file_bytes in the pipeline config if this file is genuine",
    )


def triage(source: str | Path | bytes, limits: LimitsConfig) -> Source:
    """Read an input (a path or the bytes themselves) and name its type, or raise InputError.

    >>> from hdr.config import LimitsConfig
    >>> src = triage(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(32), LimitsConfig())
    >>> src.media_type.value, src.name
    ('image/png', '<bytes>')
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name, path = "<bytes>", None
        if len(data) > limits.max_file_bytes:
            raise _too_large(name, len(data), limits)
    else:
        path = Path(source)
        name = str(source)
        data = read_input_bytes(path, limits)
    if not data:
        raise InputError(ReasonCode.EMPTY_FILE, f"{name}: the file is empty (0 bytes)")
    media_type = sniff_media_type(data[:_PDF_WINDOW])
    if media_type is None:
        raise InputError(
            ReasonCode.UNSUPPORTED_FORMAT,
            f"{name}: is {_describe(data[:64])}, not a PNG, JPEG, TIFF or PDF",
            hint="scan or export the document as PNG, JPEG, TIFF or PDF",
        )
    digest = hashlib.sha256(data).hexdigest()
    return Source(name=name, data=data, media_type=media_type, sha256=digest, path=path)
