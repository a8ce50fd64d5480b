"""Schema migrations: the only way the results database schema is created or changed.

>>> from db.migrate import upgrade, current_revision
>>> upgrade("sqlite:///results.sqlite3")        # same as `hdr db upgrade --url ...`
>>> current_revision("sqlite:///results.sqlite3") == head_revision()
True
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

from db.session import create_engine_from_url, default_url, translate_errors

DB_DIR = Path(__file__).resolve().parent
ALEMBIC_INI = DB_DIR / "alembic.ini"
MIGRATIONS_DIR = DB_DIR / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for ``url`` (default: ``HDR_DB_URL`` or the SQLite file)."""
    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not an ini option: URLs may hold '%' (e.g. options=-csearch_path%3D).
    cfg.attributes["url"] = url or default_url()
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> str | None:
    """Apply migrations up to ``revision``; returns the revision the database is now at."""
    cfg = alembic_config(url)
    with translate_errors(cfg.attributes["url"]):
        command.upgrade(cfg, revision)
    return current_revision(cfg.attributes["url"])


def downgrade(url: str | None, revision: str) -> str | None:
    """Revert migrations down to ``revision`` (``base`` removes every table and view)."""
    cfg = alembic_config(url)
    with translate_errors(cfg.attributes["url"]):
        command.downgrade(cfg, revision)
    return current_revision(cfg.attributes["url"])


def head_revision() -> str | None:
    """The newest migration shipped with this code."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(url: str | None = None) -> str | None:
    """The revision the database at ``url`` is at (None: no schema yet)."""
    url = url or default_url()
    engine = create_engine_from_url(url, poolclass=NullPool)
    try:
        with translate_errors(url), engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
