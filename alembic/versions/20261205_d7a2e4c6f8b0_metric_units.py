"""metric units: one canonical unit per tenant metric

Revision ID: d7a2e4c6f8b0
Revises: c3e5f7a9b1d2
Create Date: 2026-12-05 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'd7a2e4c6f8b0'
down_revision: str | None = 'c3e5f7a9b1d2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('metric_units',
    sa.Column('tenant_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('metric', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_metric_units_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'metric', name=op.f('pk_metric_units'))
    )
    # Metrics with readings already keep a unit they have (readings in several units of one
    # metric predate this rule; new ones in another unit are rejected from now on).
    op.execute(
        "INSERT INTO metric_units (tenant_id, metric, unit) "
        "SELECT tenant_id, metric, MIN(unit) FROM readings GROUP BY tenant_id, metric"
    )


def downgrade() -> None:
    op.drop_table('metric_units')
