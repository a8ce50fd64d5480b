"""`hdr batch`: the first documents, read while Prefect's temporary API starts.

The flow cannot start before its API answers, a few seconds after `hdr batch` started it
(:mod:`flows.ephemeral`); by then this process has loaded Prefect, the results database and
the model, and one core is idle. :func:`reading_ahead` reads the first documents of the
first chunk there, one at a time, with the model and configuration the flow will use, and
keeps the results in memory. The chunk task that meets those files takes the results (and
stops the reading ahead): only a result made with the same model file (sha256) and pipeline
configuration, from the same bytes the task hashes itself, is taken; the task stores it like
the ones it reads, and reads everything else. Nothing is stored outside the flow, and what
no task took is dropped when the flow returns.

>>> with reading_ahead(paths[:32], choice, pipeline, db_url):      # doctest: +SKIP
...     process_batch(source)
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from flows.models import ModelChoice
from hdr.config import PipelineConfig, config_hash
from hdr.types import DocumentResult

log = logging.getLogger(__name__)

_KEY = tuple[str, str, str]  # model path, model sha256, pipeline config hash


def _key(model: ModelChoice, pipeline: PipelineConfig) -> _KEY:
    return (model.path, model.sha256, config_hash(pipeline))


class ReadAhead:
    """A thread reading ``paths`` in order until a chunk task takes over."""

    def __init__(
        self, paths: Sequence[str], model: ModelChoice, pipeline: PipelineConfig, db_url: str
    ) -> None:
        self.key = _key(model, pipeline)
        self._results: dict[str, DocumentResult] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._read,
            args=(list(paths), model, pipeline, db_url),
            name="hdr-read-ahead",
            daemon=True,
        )
        self._thread.start()

    def _read(
        self, paths: list[str], model: ModelChoice, pipeline: PipelineConfig, db_url: str
    ) -> None:
        try:
            from flows.inputs import file_sha256
            from flows.runtime import engine_for, reader_for
            from flows.tasks import _already_stored
            from hdr.pipeline import read_documents

            classifier, templates = reader_for(model.path, model.sha256, model.backend, pipeline)
            engine = engine_for(db_url)
            for path in paths:
                if self._stop.is_set():
                    return
                if _already_stored(engine, {path: file_sha256(path)}, model.sha256):
                    continue  # a rerun: the task skips it
                (result,) = read_documents(
                    [path], pipeline, classifier=classifier, templates=templates, workers=1
                )
                with self._lock:
                    self._results[path] = result
        except Exception as exc:  # only a head start: the chunk task reads what is missing
            log.debug("reading ahead stopped: %s", exc)

    def take(self, paths: Sequence[str], key: _KEY) -> dict[str, DocumentResult]:
        """Stop reading ahead; hand over the results of ``paths`` made under ``key``."""
        self._stop.set()
        self._thread.join()
        if key != self.key:
            return {}
        with self._lock:
            return {p: self._results.pop(p) for p in paths if p in self._results}


_current: ReadAhead | None = None
_current_lock = threading.Lock()


def take_read_ahead(
    paths: Sequence[str], model: ModelChoice, pipeline: PipelineConfig
) -> dict[str, DocumentResult]:
    """The results read ahead for ``paths`` with this model and configuration (often none)."""
    with _current_lock:
        current = _current
    if current is None:
        return {}
    return current.take(paths, _key(model, pipeline))


@contextlib.contextmanager
def reading_ahead(
    paths: Sequence[str], model: ModelChoice, pipeline: PipelineConfig, db_url: str
) -> Iterator[Any]:
    """Read ``paths`` ahead for the duration of the block (the flow's run)."""
    global _current
    ahead = ReadAhead(paths, model, pipeline, db_url)
    with _current_lock:
        _current = ahead
    try:
        yield ahead
    finally:
        with _current_lock:
            _current = None
        ahead.take((), ahead.key)  # stop, and drop what no task took


__all__ = ["ReadAhead", "reading_ahead", "take_read_ahead"]
