"""preferences: pause everything until an instant

Revision ID: 7d3b2c9e41aa
Revises: 5c0e7a1d9b2f
Create Date: 2026-12-05 02:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import engine.models.types
from alembic import op

revision: str = '7d3b2c9e41aa'
down_revision: str | None = '5c0e7a1d9b2f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('preferences', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('paused_until', engine.models.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('preferences', schema=None) as batch_op:
        batch_op.drop_column('paused_until')
