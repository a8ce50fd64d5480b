"""What a worker process loads once and keeps: database engines, the classifier, the templates.

A chunk task may run in the flow's process (threads) or in a Dask worker on another machine;
either way the first chunk in a process loads the model and the templates, and every later
chunk reuses them. The cache key is the model's path *and* sha256, so a retrained file at the
same path is never mistaken for the old one.

>>> from flows.runtime import engine_for, reader_for
>>> engine = engine_for("sqlite:///results.sqlite3")              # doctest: +SKIP
>>> classifier, templates = reader_for(choice, cfg)              # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine

from db import create_engine_from_url
from hdr.config import PipelineConfig, config_hash

_LOCK = threading.Lock()
_ENGINES: dict[str, Engine] = {}
_READERS: dict[tuple[str, str, str, str], tuple[Any, list[Any]]] = {}


def engine_for(url: str) -> Engine:
    """One engine (and connection pool) per database URL and process."""
    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _ENGINES[url] = create_engine_from_url(url)
        return engine


def reader_for(path: str, sha256: str, backend: str, cfg: PipelineConfig) -> tuple[Any, list[Any]]:
    """The classifier (verified against ``sha256``) and the layout templates, loaded once."""
    key = (path, sha256, backend, config_hash(cfg))
    with _LOCK:
        cached = _READERS.get(key)
        if cached is None:
            from hdr.classify.predictor import load_classifier
            from hdr.fields.templates import load_templates

            classifier = load_classifier(path, sha256, backend)
            templates = list(load_templates(cfg.resolve(cfg.templates_dir)))
            cached = _READERS[key] = (classifier, templates)
        return cached


def get_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The Prefect run logger inside a run; a plain logger when a task is called with ``.fn``."""
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("flows")


def dispose_all() -> None:
    """Close every cached engine (tests, and a worker shutting down)."""
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()
