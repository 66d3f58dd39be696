"""Delivery channels behind one `Channel` interface (email, outbox, and providers such as
Twilio for SMS and voice, each one package), and the interface of providers' webhooks."""

from __future__ import annotations

from engine.channels.base import (
    Channel,
    ChannelConfigError,
    ChannelError,
    OutboundMessage,
    PermanentChannelError,
    SendResult,
    TransientChannelError,
)

__all__ = [
    "Channel",
    "ChannelConfigError",
    "ChannelError",
    "OutboundMessage",
    "PermanentChannelError",
    "SendResult",
    "TransientChannelError",
]
