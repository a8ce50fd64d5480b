"""Expand the inputs of a command: files as given, folders walked recursively in sorted order.

A file named on the command line is always an input, whatever it holds (a broken one becomes
an ``error`` result). In a folder, hidden entries are skipped, and so are non-empty files whose
magic bytes are not PNG, JPEG, TIFF or PDF (a ``truth.jsonl`` or a README beside the scans):
they are counted in :attr:`InputList.skipped` so the command can say so. Symbolic links to
folders are not followed while walking (no loops).

>>> from pathlib import Path
>>> found = expand_inputs([Path("tests/resources/sample")])       # doctest: +SKIP
>>> found.paths[:1], found.skipped                                # doctest: +SKIP
([PosixPath('tests/resources/sample/doc-000.png')], 2)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hdr.io.triage import sniff_media_type

_HEAD = 1024


@dataclass
class InputList:
    paths: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)


def _looks_readable(path: Path) -> bool:
    """False only for a non-empty regular file whose first bytes are not a format we read."""
    try:
        if not path.is_file():  # a FIFO or device would block open(); triage names it
            return True
        with open(path, "rb") as fh:
            head = fh.read(_HEAD)
    except OSError:
        return True  # let triage give the precise reason (permission denied, ...)
    return not head or sniff_media_type(head) is not None


def expand_inputs(items: Iterable[Path]) -> InputList:
    """Files in the order given; each folder's files recursively, sorted by path."""
    out = InputList()
    for item in items:
        if not item.is_dir():
            out.paths.append(item)
            continue
        found: list[Path] = []
        for root, dirs, files in os.walk(item):  # followlinks=False: no symlink loops
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            found.extend(Path(root) / f for f in files if not f.startswith("."))
        for path in sorted(found):
            (out.paths if _looks_readable(path) else out.skipped).append(path)
    return out
