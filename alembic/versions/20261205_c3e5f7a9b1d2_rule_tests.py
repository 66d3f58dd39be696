"""rules: the rule tests kept with a rule, run by the console on every save

Revision ID: c3e5f7a9b1d2
Revises: a41f6c2d8e90
Create Date: 2026-12-05 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = 'c3e5f7a9b1d2'
down_revision: str | None = 'a41f6c2d8e90'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tests', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.drop_column('tests')
