"""Business events (``bill.issued``, ``checkup.due``), keyed by the business's own event key."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.models.types import JSONType, Name, UTCDateTime


class Event(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("customer_id", "type", "key"),
        Index("ix_events_customer_id_type", "customer_id", "type"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(foreign_key="tenants.id", max_length=40)
    customer_id: str = Field(foreign_key="customers.id", max_length=40)
    type: str = Field(max_length=80)
    key: str = Field(max_length=200)
    status: str = Field(sa_type=Name())
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    due: date | None = None
    amount: float | None = None
    currency: str | None = Field(default=None, max_length=3)
    fields: dict[str, Any] = Field(sa_type=JSONType)
    received_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
