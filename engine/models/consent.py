"""Consent per customer, channel and topic."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.models.types import UTCDateTime

ALL_TOPICS = "*"


class Consent(SQLModel, table=True):
    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("customer_id", "channel", "topic"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(foreign_key="tenants.id", max_length=40)
    customer_id: str = Field(foreign_key="customers.id", max_length=40, ondelete="CASCADE")
    channel: str = Field(max_length=16)
    topic: str = Field(default=ALL_TOPICS, max_length=100)
    granted: bool
    source: str = Field(max_length=32)
    changed_at: datetime = Field(sa_type=UTCDateTime)
    # Who said it (``customer`` or ``business``) and, for a business's grant, where the
    # customer gave it; ``revision`` orders every change of one customer's consents.
    actor: str = Field(
        default="customer", max_length=16, sa_column_kwargs={"server_default": "customer"}
    )
    evidence: str | None = Field(default=None, max_length=200)
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
