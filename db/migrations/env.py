"""Alembic environment of the results database.

The URL comes from, in order: ``config.attributes["url"]`` (set by :mod:`db.migrate`),
``alembic -x url=...``, ``sqlalchemy.url`` in the ini file, then ``HDR_DB_URL`` / the default
SQLite file (:func:`db.session.default_url`).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.pool import NullPool

from db.models import Base
from db.session import create_engine_from_url, default_url

config = context.config
target_metadata = Base.metadata

if config.config_file_name and not config.attributes.get("url"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = config.attributes.get("url")
    url = url or context.get_x_argument(as_dictionary=True).get("url")
    url = url or config.get_main_option("sqlalchemy.url")
    return url or default_url()


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        transactional_ddl=True,  # SQLite too: a failed migration leaves the schema as it was
        **kwargs,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade head --sql``)."""
    url = _url()
    _configure(url=url, literal_binds=True, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # Foreign keys off on SQLite while migrating: a batch-mode table rebuild drops and
    # re-creates tables, which would otherwise cascade deletes into their children.
    engine = create_engine_from_url(_url(), poolclass=NullPool, sqlite_foreign_keys=False)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
