"""Delivery channels: one `Channel` interface, with email, SMS, voice and outbox behind it."""

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
