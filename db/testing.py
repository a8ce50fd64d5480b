"""Test and benchmark helpers: throw-away databases on both backends, sample results.

For tests of any package that stores results (db, flows, web)::

    @pytest.fixture(params=backend_params())
    def db_url(request, tmp_path):
        with temporary_database(request.param, tmp_path) as url:
            upgrade(url)
            yield url

PostgreSQL: ``HDR_TEST_PG_URL`` (default the local server, database ``test``); each
database is a fresh schema ``hdr_test_<random>``, selected through ``search_path`` in the
URL and dropped afterwards. An unreachable server skips the test, unless
``HDR_REQUIRE_PG=1`` (set by ``.ci/run``), which fails it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from hdr.types import DocumentResult, FieldResult, GlyphResult, PageResult, Status

PG_URL_ENV = "HDR_TEST_PG_URL"
REQUIRE_PG_ENV = "HDR_REQUIRE_PG"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def backend_params() -> list[object]:
    """``pytest`` parameters for both backends; the PostgreSQL one is marked ``postgres``."""
    import pytest

    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pg_base_url() -> str:
    return os.environ.get(PG_URL_ENV) or DEFAULT_PG_URL


@functools.cache
def pg_unreachable_reason(url: str) -> str | None:
    """Why the PostgreSQL server at ``url`` cannot be used, or None when it can."""
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:  # any failure means: not usable for tests
        return f"PostgreSQL at {make_url(url).render_as_string()} is unreachable: {err}"
    finally:
        engine.dispose()
    return None


def require_postgres() -> str:
    """The base PostgreSQL URL; skips the test (or fails it under HDR_REQUIRE_PG=1)."""
    import pytest

    url = pg_base_url()
    reason = pg_unreachable_reason(url)
    if reason:
        if os.environ.get(REQUIRE_PG_ENV) == "1":
            pytest.fail(f"{reason} (HDR_REQUIRE_PG=1: PostgreSQL tests must run)")
        pytest.skip(reason)
    return url


def url_with_schema(url: str, schema: str) -> str:
    """``url`` whose connections use ``schema`` first (libpq ``options=-csearch_path=...``)."""
    parsed = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


@contextlib.contextmanager
def postgres_schema(base_url: str | None = None) -> Iterator[str]:
    """A URL to a fresh, empty schema on the PostgreSQL server; the schema is dropped after."""
    base_url = base_url or pg_base_url()
    schema = f"hdr_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url_with_schema(base_url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def temporary_database(backend: str, directory: Path) -> Iterator[str]:
    """A URL to an empty database: an SQLite file in ``directory``, or a PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{(directory / 'results.sqlite3').as_posix()}"
    elif backend == "postgresql":
        with postgres_schema(require_postgres()) as url:
            yield url
    else:
        raise ValueError(f"unknown backend {backend!r}")


def crop_png(seed: int, width: int = 120, height: int = 32) -> bytes:
    """A small grayscale PNG, different for each seed (a stand-in for a field crop)."""
    import cv2

    rng = np.random.default_rng(seed)
    image = np.full((height, width), 235, np.uint8)
    for x in range(6, width - 10, 14):
        y = int(rng.integers(4, height - 14))
        image[y : y + 10, x : x + 3] = 20
    ok, data = cv2.imencode(".png", image)
    assert ok
    return bytes(data)


def sample_result(
    seed: int,
    *,
    status: Status = Status.REVIEW,
    amount: str | None = None,
    account: str | None = None,
    n_glyphs: int = 6,
    model_sha256: str | None = None,
    source: str | None = None,
) -> DocumentResult:
    """A realistic one-page :class:`DocumentResult` with an amount and an account field.

    ``status`` review puts the amount in review (the account accepted); accepted accepts
    both; error and rejected give a document without pages, as the pipeline does.
    """
    sha = hashlib.sha256(f"document {seed}".encode()).hexdigest()
    source = source or f"inbox/cheque_{seed:06d}.png"
    if status in (Status.ERROR, Status.REJECTED):
        code = "decode_failed" if status is Status.ERROR else "not_a_document"
        return DocumentResult(
            source=source,
            sha256=sha,
            media_type="image/png",
            status=status,
            reason_code=code,
            reason_message=f"sample {code}",
            model_sha256=model_sha256,
        )
    amount = amount or f"{100 + seed % 9000}.{seed % 100:02d}"
    account = account or f"{seed:010d}"

    def glyphs(text_value: str) -> tuple[GlyphResult, ...]:
        out = []
        for i, ch in enumerate(text_value[:n_glyphs]):
            other = "7" if ch != "7" else "1"
            out.append(
                GlyphResult(
                    box=(i * 14, 2, i * 14 + 12, 30),
                    label=ch,
                    prob=0.93,
                    topk=((ch, 0.93), (other, 0.05), ("reject", 0.02)),
                )
            )
        return tuple(out)

    amount_status = Status.REVIEW if status is Status.REVIEW else Status.ACCEPTED
    fields = {
        "amount": FieldResult(
            name="amount",
            value=amount,
            confidence=0.81 if amount_status is Status.REVIEW else 0.99,
            status=amount_status,
            flags=("low_confidence",) if amount_status is Status.REVIEW else (),
            box=(900, 180, 1180, 240),
            located_by="template:cheque_a",
            glyphs=glyphs(amount),
            raw_text=amount,
            crop_png=crop_png(seed),
            line_text=amount,
            line_confidence=0.42,
        ),
        "account": FieldResult(
            name="account",
            value=account,
            confidence=0.995,
            status=Status.ACCEPTED,
            box=(80, 420, 520, 470),
            located_by="template:cheque_a",
            glyphs=glyphs(account),
            raw_text=account,
            crop_png=crop_png(seed + 1_000_000),
        ),
    }
    page = PageResult(
        index=0, status=status, fields=fields, layout="cheque_a", width=1700, height=760
    )
    return DocumentResult(
        source=source,
        sha256=sha,
        media_type="image/png",
        status=status,
        pages=(page,),
        model_sha256=model_sha256,
        timings={"read": 0.12},
    )
