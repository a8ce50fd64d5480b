"""Alembic migrations of the results database (a package, so that wheels carry them)."""
