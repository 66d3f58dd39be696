"""tenants: a feed allowance of their own (rows a second; null: the platform default)

Revision ID: b8f4d2a6c1e3
Revises: e5b1c8d3f7a2
Create Date: 2026-12-05 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = 'b8f4d2a6c1e3'
down_revision: str | None = 'e5b1c8d3f7a2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both databases (SQLite has dropped columns since 3.35): batch mode
# would copy `tenants` into a new table and drop the old one, which SQLite refuses while
# keys, customers and rules refer to it.


def upgrade() -> None:
    op.add_column("tenants", sa.Column("feed_rows_per_second", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("tenants", "feed_rows_per_second")
