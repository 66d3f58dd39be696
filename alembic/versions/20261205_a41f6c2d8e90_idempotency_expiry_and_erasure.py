"""idempotency records: expiry index, the customer whose data an answer holds

Revision ID: a41f6c2d8e90
Revises: 7d3b2c9e41aa
Create Date: 2026-12-05 02:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'a41f6c2d8e90'
down_revision: str | None = '7d3b2c9e41aa'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Answers stored before this revision may hold secrets and erased data: none is kept.
    op.execute("DELETE FROM idempotency_records")
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_idempotency_records_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_idempotency_records_customer_id'), ['customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_customer_id'))
        batch_op.drop_index(batch_op.f('ix_idempotency_records_created_at'))
        batch_op.drop_column('customer_id')
