"""Engines and sessions from one URL, and database failures turned into ``StorageError``.

>>> from db.session import create_engine_from_url, session_scope
>>> engine = create_engine_from_url("sqlite:///results.sqlite3")
>>> with session_scope(engine) as session:
...     session.execute(text("SELECT 1")).scalar_one()
1

SQLite connections get WAL, a busy timeout and foreign keys; a transaction opened with
``session_scope(engine, write=True)`` is ``BEGIN IMMEDIATE`` there, so concurrent writers
queue on the lock instead of failing half-way. PostgreSQL is reached through psycopg 3
(``postgresql+psycopg://user@host:5432/db``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, make_url
from sqlalchemy.orm import Session, sessionmaker

from hdr.errors import ReasonCode, StorageError

SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE_OPTION = "hdr_write"


def default_url() -> str:
    """``HDR_DB_URL``, or an SQLite file under ``HDR_DATA_DIR``."""
    from hdr.config import Settings

    return Settings().db_url_or_default()


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<invalid URL>"


def create_engine_from_url(
    url: str | None = None, *, sqlite_foreign_keys: bool = True, **kwargs: Any
) -> Engine:
    """An engine for ``url`` (default: :func:`default_url`), tuned for the backend.

    Extra keyword arguments go to :func:`sqlalchemy.create_engine`.

    Raises ``StorageError(DB_UNAVAILABLE)`` for a URL that names no usable backend.
    """
    url = url or default_url()
    try:
        parsed = make_url(url)
    except exc.ArgumentError as err:
        raise StorageError(
            ReasonCode.DB_UNAVAILABLE,
            f"HDR_DB_URL is not a database URL: {url!r}",
            hint="use sqlite:///path/file.sqlite3 or postgresql+psycopg://user@host:5432/db",
        ) from err
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, sqlite_foreign_keys, **kwargs)
    if parsed.get_backend_name() == "postgresql":
        # No pre-ping (a round trip per checkout); a dropped connection fails one transaction
        # with DB_UNAVAILABLE, which callers retry. Recycle before server-side idle timeouts.
        kwargs.setdefault("pool_recycle", 1800)
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", 5)
    try:
        return create_engine(url, **kwargs)
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as err:
        raise StorageError(
            ReasonCode.DB_UNAVAILABLE,
            f"cannot use the database URL {redact(url)}: {err}",
            hint="supported: sqlite:/// and postgresql+psycopg://",
        ) from err


def _sqlite_engine(url: str, database: str | None, foreign_keys: bool, **kwargs: Any) -> Engine:
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The driver's own transaction handling is off; we emit BEGIN ourselves (below).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: durable against process crashes
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A ``sessionmaker`` bound to ``engine`` (objects stay readable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextlib.contextmanager
def translate_errors(url: str | None = None) -> Iterator[None]:
    """Turn SQLAlchemy failures into ``StorageError`` with a sentence and a hint."""
    where = f" at {redact(url)}" if url else ""
    try:
        yield
    except StorageError:
        raise
    except exc.OperationalError as err:
        text = str(err.orig or err).lower()
        if "no such table" in text:
            raise _no_schema(where) from err
        if "unable to open" in text or "connect" in text or "connection" in text:
            raise StorageError(
                ReasonCode.DB_UNAVAILABLE,
                f"cannot reach the results database{where}",
                hint="start the database server or point HDR_DB_URL at a reachable one",
            ) from err
        raise StorageError(
            ReasonCode.DB_ERROR, f"database error{where}: {_first_line(err)}"
        ) from err
    except exc.ProgrammingError as err:
        if "does not exist" in str(err.orig or err) and "relation" in str(err.orig or err):
            raise _no_schema(where) from err
        raise StorageError(
            ReasonCode.DB_ERROR, f"database error{where}: {_first_line(err)}"
        ) from err
    except exc.SQLAlchemyError as err:
        raise StorageError(
            ReasonCode.DB_ERROR, f"database error{where}: {_first_line(err)}"
        ) from err


def _no_schema(where: str) -> StorageError:
    return StorageError(
        ReasonCode.DB_ERROR,
        f"the results database{where} has no schema yet",
        hint="run `hdr db upgrade`",
    )


def _first_line(err: exc.SQLAlchemyError) -> str:
    text = str(getattr(err, "orig", None) or err).strip()
    return text.splitlines()[0] if text else type(err).__name__


@contextlib.contextmanager
def transaction(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session in one transaction, without error translation (see :func:`session_scope`)."""
    with Session(engine, expire_on_commit=False) as session:
        session.connection(execution_options={_WRITE_OPTION: write})  # begins the transaction
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextlib.contextmanager
def write_connection(engine: Engine) -> Iterator[Connection]:
    """A Core connection in one write transaction (SQLite: ``BEGIN IMMEDIATE``), committed on
    success and rolled back on any exception; no error translation."""
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE_OPTION: True})
        with conn.begin():
            yield conn


@contextlib.contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any exception.

    ``write=True`` starts the transaction for writing (SQLite: ``BEGIN IMMEDIATE``), so that
    concurrent writers wait for the lock instead of failing on a stale read snapshot.
    Database failures come out as ``StorageError``.

    >>> with session_scope(engine, write=True) as session:
    ...     batch_id = start_batch(session, "inbox/", "ops", model_sha256, cfg_hash)
    """
    with translate_errors(str(engine.url)), transaction(engine, write=write) as session:
        yield session
