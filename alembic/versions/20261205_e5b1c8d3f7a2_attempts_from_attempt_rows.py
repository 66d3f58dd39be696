"""attempts from attempt rows: a notification's attempts are counted from delivery_attempts

Revision ID: e5b1c8d3f7a2
Revises: d7a2e4c6f8b0
Create Date: 2026-12-05 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "e5b1c8d3f7a2"
down_revision: str | None = "d7a2e4c6f8b0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("attempts")


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    # The counter held the attempts made on the notification's current channel.
    op.execute(
        "UPDATE notifications SET attempts = (SELECT COUNT(*) FROM delivery_attempts a "
        "WHERE a.notification_id = notifications.id AND a.channel = notifications.channel "
        "AND a.status <> 'sent') WHERE status IN ('pending', 'deferred', 'sending')"
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("attempts", server_default=None)
