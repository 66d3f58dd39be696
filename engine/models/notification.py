"""Decided contacts and their delivery attempts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Index, Text, UniqueConstraint, func, inspect, select
from sqlalchemy.orm import Mapped, column_property
from sqlmodel import Field, SQLModel, col

from engine.models.types import JSONType, Name, UTCDateTime


class NotificationStatus(StrEnum):
    pending = "pending"
    deferred = "deferred"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    failed = "failed"
    suppressed = "suppressed"
    cancelled = "cancelled"


OPEN_STATUSES = (NotificationStatus.pending, NotificationStatus.deferred)


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("trigger_id", "occurrence", "transition"),
        Index("ix_notifications_status_due_at", "status", "due_at"),
        Index("ix_notifications_customer_id_id", "customer_id", "id"),
        Index("ix_notifications_escalate_at", "escalate_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(foreign_key="tenants.id", max_length=40)
    customer_id: str = Field(foreign_key="customers.id", max_length=40)
    trigger_id: str = Field(foreign_key="triggers.id", max_length=40)
    rule_key: str = Field(max_length=120)
    rule_version: int
    topic: str = Field(max_length=80)
    urgency: str = Field(sa_type=Name())
    occurrence: str = Field(max_length=200)
    transition: str = Field(max_length=60)
    status: NotificationStatus = Field(sa_type=Name())
    reason: str | None = Field(default=None, max_length=500)
    due_at: datetime = Field(sa_type=UTCDateTime)
    why: dict[str, Any] = Field(sa_type=JSONType)
    channel_order: list[str] = Field(sa_type=JSONType)
    channel_index: int = 0
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    channel: str | None = Field(default=None, max_length=16)
    requires_ack: bool = False
    escalate_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    if TYPE_CHECKING:
        # Derived from the delivery attempts (below), loaded when first read.
        attempts: ClassVar[Mapped[int]]


class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "delivery_attempts"
    __table_args__ = (
        Index("ix_delivery_attempts_notification_id", "notification_id"),
        Index("ix_delivery_attempts_provider_id", "provider_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(foreign_key="tenants.id", max_length=40)
    notification_id: str = Field(foreign_key="notifications.id", max_length=40)
    channel: str = Field(max_length=16)
    number: int
    status: str = Field(sa_type=Name(24))
    provider_id: str | None = Field(default=None, max_length=200)
    provider_status: str | None = Field(default=None, max_length=40)
    response: str | None = Field(default=None, sa_type=Text)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# How many delivery attempts a notification has made, on every channel: counted from its
# attempt rows, never stored beside them.
inspect(Notification).add_property(
    "attempts",
    column_property(
        select(func.count())
        .where(col(DeliveryAttempt.notification_id) == col(Notification.id))
        .correlate_except(DeliveryAttempt)
        .scalar_subquery(),
        deferred=True,
    ),
)
