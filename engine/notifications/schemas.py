"""How notifications look to operations staff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.models import DeliveryAttempt, Notification


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
    channel_order: list[str] = Field(
        description="The channels in the order they are tried: the trigger's own order, "
        "else the customer's default."
    )
    attempts: int = Field(description="Delivery attempts made, on every channel.")
    delivery_attempts: list[DeliveryAttemptPublic] = []
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls,
        row: Notification,
        attempts: Sequence[DeliveryAttempt],
        default_order: Sequence[str],
    ) -> NotificationPublic:
        """The notification as staff read it, with its attempts and its effective order."""
        stored = {name: getattr(row, name) for name in cls.model_fields if name not in _GIVEN}
        return cls(
            **stored,
            attempts=len(attempts),
            delivery_attempts=[DeliveryAttemptPublic.model_validate(a) for a in attempts],
            channel_order=list(row.channel_order) or list(default_order),
        )


# Fields `NotificationPublic.of` is given rather than reads from the row.
_GIVEN = frozenset({"attempts", "delivery_attempts", "channel_order"})
