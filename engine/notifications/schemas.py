"""How notifications look to operations staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class DeliveryAttemptPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    channel: str
    number: int
    status: str
    provider_id: str | None
    provider_status: str | None
    started_at: datetime
    finished_at: datetime | None


class NotificationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    customer_id: str
    trigger_id: str
    rule_key: str
    rule_version: int
    topic: str
    urgency: str
    occurrence: str
    transition: str
    status: str
    reason: str | None
    due_at: datetime
    why: dict[str, Any]
    channel_order: list[str]
    attempts: int
    delivery_attempts: list[DeliveryAttemptPublic] = []
    created_at: datetime
    updated_at: datetime
