"""The line reader's second opinion on each field: what it read and how sure it was.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 19:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("fields", sa.Column("line_text", sa.Text(), nullable=True))
    op.add_column("fields", sa.Column("line_confidence", sa.Float(), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch-mode rebuild of
    # the table would drop it from under the reporting views
    op.execute("ALTER TABLE fields DROP COLUMN line_confidence")
    op.execute("ALTER TABLE fields DROP COLUMN line_text")
