"""Message templates authored by operations staff, per rule template key, channel and locale."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.models.types import JSONType, UTCDateTime


class Template(SQLModel, table=True):
    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("tenant_id", "key", "channel", "locale"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(foreign_key="tenants.id", max_length=40)
    key: str = Field(max_length=120)
    channel: str = Field(max_length=16)
    locale: str = Field(max_length=35)
    parts: dict[str, str] = Field(sa_type=JSONType)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
