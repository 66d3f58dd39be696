"""consent provenance: who gave each consent, the business's evidence, change order

Revision ID: 5c0e7a1d9b2f
Revises: 39a73b712d4b
Create Date: 2026-12-05 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '5c0e7a1d9b2f'
down_revision: str | None = '39a73b712d4b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='customer', nullable=False))
        batch_op.add_column(sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
    # Consents recorded before this revision: the business's own are marked as such.
    op.execute("UPDATE consents SET actor = 'business' WHERE source = 'business'")


def downgrade() -> None:
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_column('revision')
        batch_op.drop_column('evidence')
        batch_op.drop_column('actor')
