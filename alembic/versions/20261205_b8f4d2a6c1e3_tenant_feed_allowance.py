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


def upgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_rows_per_second', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('feed_rows_per_second')
