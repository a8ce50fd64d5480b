"""The migrations travel with the package: a wheel built from this tree can create the schema."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from setuptools import find_packages

from db.migrate import ALEMBIC_INI, MIGRATIONS_DIR, alembic_config, head_revision

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_migrations_are_packages_that_setuptools_ships() -> None:
    # pyproject.toml: packages.find include "db*"; folders without __init__.py are left out.
    found = set(find_packages(where=str(REPO_ROOT), include=["db*"]))
    assert {"db", "db.migrations", "db.migrations.versions"} <= found
    assert ALEMBIC_INI.is_file() and (MIGRATIONS_DIR / "script.py.mako").is_file()


def test_one_line_of_history_with_every_migration_file_in_it() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    files = list((MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))
    assert len(script.get_heads()) == 1  # no branches to merge
    assert len(list(script.walk_revisions())) == len(files)  # no orphan files
    assert script.get_current_head() == head_revision()
