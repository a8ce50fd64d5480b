"""Progress of a batch for whoever runs it in this process (`hdr batch` draws a bar from it).

The flow announces the total, each chunk task announces its documents as they are stored
(when it runs in this process), and the flow announces each finished chunk (which covers
chunks that ran on Dask workers elsewhere). A listener sees every source at least once; the
:class:`ProgressCounter` below counts each once.

>>> from flows.progress import ProgressCounter, listening
>>> counter = ProgressCounter()
>>> with listening(counter):                                   # doctest: +SKIP
...     process_batch("inbox/")
>>> counter.done, counter.total                                # doctest: +SKIP
(500, 500)
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProgressEvent:
    kind: Literal["start", "document", "chunk"]
    total: int = 0  # start: documents in the batch
    sources: tuple[str, ...] = ()  # document / chunk: the files now stored
    status: str | None = None  # document: its status (or "skipped")
    batch_id: int | None = None


Listener = Callable[[ProgressEvent], None]
_listeners: list[Listener] = []
_lock = threading.Lock()


def emit(event: ProgressEvent) -> None:
    """Tell every listener; a listener that fails is logged, the batch goes on."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(event)
        except Exception:  # a progress bar must never stop a batch
            log.exception("progress listener failed")


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[Listener]:
    """Register ``listener`` for the duration of the block."""
    with _lock:
        _listeners.append(listener)
    try:
        yield listener
    finally:
        with _lock:
            _listeners.remove(listener)


class ProgressCounter:
    """Counts each source once, whichever event reported it; calls ``on_change(done, total)``."""

    def __init__(self, on_change: Callable[[int, int], None] | None = None) -> None:
        self.total = 0
        self.batch_id: int | None = None
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._on_change = on_change

    @property
    def done(self) -> int:
        return len(self._seen)

    def __call__(self, event: ProgressEvent) -> None:
        with self._lock:
            if event.kind == "start":
                self.total, self.batch_id = event.total, event.batch_id
            self._seen.update(event.sources)
            done, total = len(self._seen), self.total
        if self._on_change is not None:
            self._on_change(done, total)
