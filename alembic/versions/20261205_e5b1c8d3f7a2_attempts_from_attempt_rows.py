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

# Plain ALTER TABLE on both databases (SQLite has dropped columns since 3.35): batch mode
# would copy `notifications` into a new table and drop the old one, which SQLite refuses
# while delivery attempts and history entries refer to it.


def upgrade() -> None:
    op.drop_column("notifications", "attempts")


def downgrade() -> None:
    op.add_column(
        "notifications", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0")
    )
    # The counter held the attempts made on the notification's current channel since it was
    # last sent or moved on: nothing for a notification that is finished.
    op.execute(
        "UPDATE notifications SET attempts = (SELECT COUNT(*) FROM delivery_attempts a "
        "WHERE a.notification_id = notifications.id AND a.channel = notifications.channel "
        "AND a.status <> 'sent') WHERE status IN ('pending', 'deferred', 'sending')"
    )
    if op.get_bind().dialect.name != "sqlite":  # SQLite cannot drop a default in place
        op.alter_column("notifications", "attempts", server_default=None)
