"""window revision: a window's row counts the statements that changed it

Revision ID: f1c9a3e7b5d4
Revises: b8f4d2a6c1e3
Create Date: 2026-12-06 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "f1c9a3e7b5d4"
down_revision: str | None = "b8f4d2a6c1e3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("window_aggregates", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revision", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("window_aggregates", schema=None) as batch_op:
        batch_op.drop_column("revision")
