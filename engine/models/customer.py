"""Customers and their contact points."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.models.types import JSONType, Name, UTCDateTime


class ContactKind(StrEnum):
    email = "email"
    phone = "phone"


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        Index("ix_customers_tenant_id_id", "tenant_id", "id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(foreign_key="tenants.id", max_length=40)
    external_id: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    locale: str = Field(max_length=35)
    timezone: str = Field(max_length=64)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ContactPoint(SQLModel, table=True):
    __tablename__ = "contact_points"
    __table_args__ = (
        UniqueConstraint("customer_id", "kind"),
        Index("ix_contact_points_kind_address", "kind", "address"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(foreign_key="tenants.id", max_length=40)
    customer_id: str = Field(foreign_key="customers.id", max_length=40, ondelete="CASCADE")
    kind: ContactKind = Field(sa_type=Name())
    address: str = Field(max_length=320)
    created_at: datetime = Field(sa_type=UTCDateTime)
