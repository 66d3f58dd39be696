"""Helpers shared by the channel tests."""

from __future__ import annotations

from typing import Any

from engine.channels.base import OutboundMessage
from engine.platform.config import Settings

FROM_NUMBER = "+43720123456"


def make_settings(**overrides: Any) -> Settings:
    """Settings from arguments only: no environment, no `.env`."""
    return Settings(_env_file=None, **overrides)


def message(channel: str = "email", **overrides: Any) -> OutboundMessage:
    """A message with sensible defaults for `channel`."""
    to = "anna@example.org" if channel == "email" else "+436641234567"
    fields: dict[str, Any] = {
        "notification_id": "ntf_0001",
        "attempt": 1,
        "channel": channel,
        "tenant_id": "tnt_1",
        "customer_id": "cus_1",
        "to": to,
        "text": "Ihr Verbrauch liegt heute bei 12,5 kWh.",
        "locale": "de-AT",
        "subject": "Verbrauch über 12 kWh",
    }
    return OutboundMessage(**(fields | overrides))
