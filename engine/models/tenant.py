"""Tenants (businesses) and API keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from engine.models.types import Name, UTCDateTime


class Role(StrEnum):
    admin = "admin"
    ops = "ops"
    feed = "feed"


class TenantBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    default_timezone: str = Field(default="UTC", max_length=64)
    default_locale: str = Field(default="en", max_length=35)
    email_from: str | None = Field(default=None, max_length=320)
    sms_from: str | None = Field(default=None, max_length=32)
    help_text: str | None = Field(default=None, max_length=480)
    # Feed rows a second the tenant's keys may send together; None: the platform default
    # (NUDGE_FEED_ROWS_PER_SECOND), 0: no limit.
    feed_rows_per_second: int | None = Field(default=None, ge=0)


class Tenant(TenantBase, table=True):
    __tablename__ = "tenants"

    id: str = Field(primary_key=True, max_length=40)
    created_at: datetime = Field(sa_type=UTCDateTime)
    config_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_tenant_id", "tenant_id"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str | None = Field(default=None, foreign_key="tenants.id", max_length=40)
    role: Role = Field(sa_type=Name())
    name: str = Field(default="", max_length=200)
    secret_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
