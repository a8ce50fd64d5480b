"""Alembic migrations on SQLite and PostgreSQL: round trip, agreement with the models, guards."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.pool import NullPool

from db import (
    create_engine_from_url,
    current_revision,
    downgrade,
    head_revision,
    session_scope,
    set_review,
    start_batch,
    store_document,
    upgrade,
)
from db.migrate import ALEMBIC_INI
from db.models import Base
from db.testing import backend_params, sample_result, temporary_database
from hdr.errors import StorageError

pytestmark = pytest.mark.integration

TABLES = {
    "model_versions", "batches", "documents", "results", "batch_items",
    "pages", "fields", "glyphs", "reviews",
}  # fmt: skip
WEB_TABLES = {"users", "web_sessions", "upload_jobs", "upload_files", "field_approvals"}  # 0003
VIEWS = {"v_document_results", "v_field_results", "v_review_queue", "v_batch_summary"}


@pytest.fixture(params=backend_params())
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with temporary_database(request.param, tmp_path) as url:
        yield url


def schema_objects(url: str) -> tuple[set[str], set[str]]:
    engine = create_engine_from_url(url, poolclass=NullPool)
    try:
        inspector = inspect(engine)
        return set(inspector.get_table_names()) - {"alembic_version"}, set(
            inspector.get_view_names()
        )
    finally:
        engine.dispose()


def store_one(url: str) -> int:
    engine = create_engine_from_url(url)
    try:
        with session_scope(engine, write=True) as session:
            batch_id = start_batch(session, "inbox/", "ops", "a" * 64)
        return store_document(engine, batch_id, sample_result(1)).document_id
    finally:
        engine.dispose()


def field_columns(url: str) -> set[str]:
    engine = create_engine_from_url(url, poolclass=NullPool)
    try:
        return {c["name"] for c in inspect(engine).get_columns("fields")}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_round_trip(empty_url: str) -> None:
    assert current_revision(empty_url) is None
    assert schema_objects(empty_url) == (set(), set())

    assert upgrade(empty_url) == head_revision() == "0004"
    assert schema_objects(empty_url) == (TABLES | WEB_TABLES, VIEWS)
    store_one(empty_url)

    assert downgrade(empty_url, "0003") == "0003"  # the line reader's columns go, rows stay
    assert "line_text" not in field_columns(empty_url)
    assert schema_objects(empty_url) == (TABLES | WEB_TABLES, VIEWS)
    assert downgrade(empty_url, "0002") == "0002"  # the web app's tables go
    assert schema_objects(empty_url) == (TABLES, VIEWS)
    assert downgrade(empty_url, "0001") == "0001"  # views and triggers go, tables stay
    assert schema_objects(empty_url) == (TABLES, set())

    assert downgrade(empty_url, "base") is None
    assert schema_objects(empty_url) == (set(), set())

    assert upgrade(empty_url) == "0004"
    assert {"line_text", "line_confidence"} <= field_columns(empty_url)
    assert schema_objects(empty_url) == (TABLES | WEB_TABLES, VIEWS)
    assert store_one(empty_url) == 1  # a fresh, working schema


def test_models_agree_with_the_migrations(empty_url: str) -> None:
    upgrade(empty_url)
    engine = create_engine_from_url(empty_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diffs == []


def test_reviews_cannot_be_changed_or_deleted(empty_url: str) -> None:
    upgrade(empty_url)
    store_one(empty_url)
    engine = create_engine_from_url(empty_url)
    with session_scope(engine, write=True) as session:
        field_id = session.execute(text("SELECT id FROM fields WHERE name = 'amount'")).scalar_one()
        set_review(session, field_id, "1.00", by="alice")
    for statement in ("UPDATE reviews SET new_value = '999.00'", "DELETE FROM reviews"):
        with pytest.raises(StorageError, match="append-only"), session_scope(engine) as session:
            session.execute(text(statement))
    with session_scope(engine) as session:
        assert session.execute(text("SELECT new_value FROM reviews")).scalars().all() == ["1.00"]
    engine.dispose()


def test_hdr_db_upgrade_finds_the_migrations_from_anywhere(tmp_path: Path) -> None:
    """The installed package carries alembic.ini, env.py and the versions: no repo cwd needed."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    env = {**os.environ, "HDR_DB_URL": url}
    hdr = [sys.executable, "-m", "hdr"]
    done = subprocess.run(
        [*hdr, "db", "upgrade"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "at revision 0004" in done.stdout
    assert current_revision(url) == "0004"
    down = subprocess.run(
        [*hdr, "db", "downgrade", "base"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert down.returncode == 0, down.stderr
    assert schema_objects(url) == (set(), set())


def test_plain_alembic_command_uses_the_ini_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'alembic.sqlite3'}"
    ini = ALEMBIC_INI
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ini), "-x", f"url={url}", "upgrade", "head"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert schema_objects(url) == (TABLES | WEB_TABLES, VIEWS)
