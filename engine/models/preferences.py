"""A customer's delivery preferences: channel order, quiet hours, caps, urgent override."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field, SQLModel

from engine.models.types import JSONType, UTCDateTime


class Preferences(SQLModel, table=True):
    __tablename__ = "preferences"

    customer_id: str = Field(
        primary_key=True, foreign_key="customers.id", max_length=40, ondelete="CASCADE"
    )
    tenant_id: str = Field(foreign_key="tenants.id", max_length=40)
    channel_order: list[str] = Field(default_factory=list, sa_type=JSONType)
    quiet_hours: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    frequency_caps: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    urgent_override: bool = False
    paused_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ChannelKind(StrEnum):
    email = "email"
    sms = "sms"
    voice = "voice"
