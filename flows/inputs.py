"""Finding the inputs of a batch, hashing them, and moving them to the archive afterwards.

A ``source`` is a folder (walked recursively in sorted order, as `hdr read` does), a glob
(``/shares/scans/2026-11-*/*.pdf``, ``**`` included), one file, or a list of any of these.
Each may also be a ``file://`` URI (percent-encoded bytes): that is how `hdr batch` passes a
file name that is not UTF-8, which a flow parameter (JSON) cannot hold as it is
(:func:`as_parameter`, :func:`from_parameter`).

>>> from flows.inputs import expand_source
>>> found = expand_source("tests/resources/sample")                 # doctest: +SKIP
>>> len(found.paths), found.skipped                                  # doctest: +SKIP
(20, 2)

Only I/O that can fail *transiently* is retried: EIO, ETIMEDOUT, ESTALE and friends, as a
network share gives them while it reconnects. A missing folder or a refused permission is
not retried; a file that stays unreadable is read by the pipeline anyway, which stores it
as an ``error`` row with its reason code.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import os
import shutil
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from hdr.errors import ReasonCode, UsageError
from hdr.io.walk import expand_inputs

TRANSIENT_ERRNOS = frozenset(
    {
        errno.EIO,
        errno.EAGAIN,
        errno.EBUSY,
        errno.ETIMEDOUT,
        errno.ESTALE,
        errno.EHOSTDOWN,
        errno.EHOSTUNREACH,
        errno.ENETDOWN,
        errno.ENETUNREACH,
        errno.ENETRESET,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.ECONNREFUSED,
        errno.ENOLCK,
    }
)
_GLOB_CHARS = frozenset("*?[")
T = TypeVar("T")


class TransientIOError(OSError):
    """An I/O failure worth retrying (the share may come back): the task is retried."""


def is_transient_os_error(exc: BaseException) -> bool:
    return isinstance(exc, TransientIOError) or (
        isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS
    )


def retry_transient(
    fn: Callable[[], T], attempts: int, backoff_seconds: float, sleep: Callable[[float], None]
) -> T:
    """``fn()``, retried ``attempts`` times after a transient OSError (exponential backoff)."""
    for attempt in range(attempts + 1):
        try:
            return fn()
        except OSError as exc:
            if attempt == attempts or not is_transient_os_error(exc):
                raise
            sleep(backoff_seconds * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class SourceFiles:
    """The files of a source, in processing order, and what was left out of folders."""

    paths: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # in folders, not PNG/JPEG/TIFF/PDF
    roots: list[str] = field(default_factory=list)  # the folders given (for the archive layout)


def as_parameter(path: str) -> str:
    """A path as a flow parameter can carry it: itself when it is text (so the UI shows it as
    typed), else a ``file://`` URI of its bytes.

    A file name that is not UTF-8 (``b"ch\\xe8que.png"``) reaches Python as lone surrogates,
    which JSON cannot encode; its URI is ASCII and :func:`from_parameter` gives the exact
    bytes back.

    >>> as_parameter(os.fsdecode(b"/scans/ch\\xe8que.png"))
    'file:///scans/ch%E8que.png'
    """
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return Path(os.path.abspath(os.path.expanduser(path))).as_uri()
    return path


def from_parameter(text: str) -> str:
    """The path a source item stands for: a ``file://`` URI decoded to the file system's bytes
    (as :func:`os.fsdecode` carries them), anything else as it is."""
    if not text.startswith("file://"):
        return text
    parts = urllib.parse.urlsplit(text)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost") or not parts.path:
        raise UsageError(
            ReasonCode.USAGE,
            f"the source {text!r} is not a local file URI",
            hint="give a path, or file:///absolute/path with %XX for bytes that are not UTF-8",
        )
    return os.fsdecode(urllib.parse.unquote_to_bytes(parts.path))


def _is_glob(text: str) -> bool:
    return any(ch in _GLOB_CHARS for ch in text)


def expand_source(source: str | Path | Iterable[str | Path]) -> SourceFiles:
    """The files a batch reads, each once, in a stable order.

    Raises ``UsageError(NOT_FOUND)`` for a path or glob that matches nothing (a typo must not
    look like an empty inbox), ``TransientIOError`` when the share answers with a transient
    error. An existing empty folder is simply an empty batch.
    """
    items = [source] if isinstance(source, str | Path) else list(source)
    if not items:
        raise UsageError(ReasonCode.USAGE, "the source is empty", hint="give a folder or files")
    out = SourceFiles()
    seen: set[str] = set()
    for item in items:
        text = from_parameter(str(item).strip())
        if not text:
            raise UsageError(ReasonCode.USAGE, "the source is empty", hint="give a folder or files")
        try:
            matches = _matches(text)
        except FileNotFoundError as exc:
            raise UsageError(
                ReasonCode.NOT_FOUND,
                f"the source {text!r} does not exist",
                hint="a folder, a glob or files; on a network share, check that it is mounted",
            ) from exc
        except OSError as exc:
            if is_transient_os_error(exc):
                raise TransientIOError(exc.errno, f"cannot list {text}: {exc.strerror}") from exc
            raise
        found = expand_inputs(matches)
        out.roots.extend(str(p.absolute()) for p in matches if p.is_dir())
        for path in found.paths:
            key = str(path.absolute())
            if key not in seen:
                seen.add(key)
                out.paths.append(key)
        out.skipped.extend(str(p) for p in found.skipped)
    return out


def _matches(text: str) -> list[Path]:
    # a file that exists is itself, whatever its name holds ("scan [1].png")
    if _is_glob(text) and not os.path.lexists(os.path.expanduser(text)):
        matches = sorted(Path(p) for p in glob.glob(os.path.expanduser(text), recursive=True))
        if not matches:
            raise UsageError(
                ReasonCode.NOT_FOUND,
                f"no file matches the pattern {text!r}",
                hint="check the pattern; ** matches folders at any depth",
            )
        return matches
    path = Path(text).expanduser()
    os.stat(path)  # raises ENOENT, or a transient error from a share (checked by the caller)
    return [path]


def file_sha256(path: str, attempts: int = 3, backoff_seconds: float = 0.5) -> str | None:
    """sha256 of the file's bytes; None when it cannot be read (the pipeline will say why).

    Transient errors are retried first: a share that blinks must not turn a good cheque into
    an ``error`` row.
    """

    if not os.path.isfile(path):  # a FIFO or a device would block open(); triage names it
        return None

    def digest() -> str:
        with open(path, "rb") as fh:  # one reused buffer: no fresh pages per block
            return hashlib.file_digest(fh, "sha256").hexdigest()

    try:
        return retry_transient(digest, attempts, backoff_seconds, time.sleep)
    except OSError:
        return None


def archive_destination(path: Path, roots: list[Path], archive: Path) -> Path:
    """Where ``path`` goes in ``archive``: its place under the source folder, kept."""
    for root in roots:
        try:
            return archive / path.relative_to(root)
        except ValueError:
            continue
    return archive / path.name


def move_to_archive(path: Path, destination: Path) -> Path:
    """Move one file; a different file already there keeps its name (``-1``, ``-2`` ... added).

    Returns where the file is now. The same bytes already at the destination: the source is
    removed (a rerun moving what an interrupted run had copied).
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    target = destination
    n = 0
    while target.exists():
        if _same_bytes(path, target):
            path.unlink()
            return target
        n += 1
        target = destination.with_name(f"{destination.stem}-{n}{destination.suffix}")
    shutil.move(str(path), str(target))
    return target


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    return file_sha256(str(a), 0) == file_sha256(str(b), 0)
