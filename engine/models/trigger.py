"""A customer's trigger (their instance of a published rule version) and its per-window state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from engine.models.types import JSONType, Name, UTCDateTime


class Trigger(SQLModel, table=True):
    __tablename__ = "triggers"
    __table_args__ = (
        Index("ix_triggers_customer_id_metric", "customer_id", "metric"),
        Index("ix_triggers_customer_id_event_type", "customer_id", "event_type"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(foreign_key="tenants.id", max_length=40)
    customer_id: str = Field(foreign_key="customers.id", max_length=40)
    rule_version_id: str = Field(foreign_key="rule_versions.id", max_length=40)
    rule_key: str = Field(max_length=120)
    kind: str = Field(sa_type=Name())
    metric: str | None = Field(default=None, max_length=80)
    event_type: str | None = Field(default=None, max_length=80)
    params: dict[str, Any] = Field(sa_type=JSONType)
    channels: list[str] | None = Field(default=None, sa_type=JSONType)
    enabled: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TriggerState(SQLModel, table=True):
    """Edge-trigger state of one trigger in one window (``window_start`` in epoch seconds)."""

    __tablename__ = "trigger_states"

    trigger_id: str = Field(
        primary_key=True, foreign_key="triggers.id", max_length=40, ondelete="CASCADE"
    )
    window_start: int = Field(primary_key=True, sa_type=BigInteger)
    window_end: int = Field(sa_type=BigInteger)
    state: dict[str, Any] = Field(sa_type=JSONType)
    last_value: float | None = None
    updated_at: datetime = Field(sa_type=UTCDateTime)
