"""The conversation history: one time-ordered stream of entries per customer."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from engine.models.types import JSONType, Name, UTCDateTime


class HistoryKind(StrEnum):
    profile = "profile"
    consent = "consent"
    preference = "preference"
    trigger = "trigger"
    decision = "decision"
    message = "message"
    status = "status"
    reply = "reply"
    keypress = "keypress"
    erasure = "erasure"


class HistoryEntry(SQLModel, table=True):
    __tablename__ = "history_entries"
    __table_args__ = (Index("ix_history_entries_customer_id_id", "customer_id", "id"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(foreign_key="tenants.id", max_length=40)
    customer_id: str = Field(foreign_key="customers.id", max_length=40, ondelete="CASCADE")
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    kind: HistoryKind = Field(sa_type=Name())
    channel: str | None = Field(default=None, max_length=16)
    notification_id: str | None = Field(default=None, max_length=40, index=True)
    summary: str = Field(max_length=500)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
