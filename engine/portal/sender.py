"""Hands sign-in letters to the configured channels, outside any database transaction."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from engine.channels.base import ChannelError, OutboundMessage
from engine.channels.registry import ChannelRegistry
from engine.platform.config import Settings

log = logging.getLogger(__name__)


async def send_letters(settings: Settings, messages: Sequence[OutboundMessage]) -> int:
    """Send each message once; a failure is logged (the customer can ask again). Sent count."""
    if not messages:
        return 0
    registry = ChannelRegistry.from_settings(settings)
    sent = 0
    try:
        for message in messages:
            try:
                await registry[message.channel].send(message)
                sent += 1
            except (ChannelError, OSError) as exc:
                log.warning(
                    "sign-in link not sent", extra={"channel": message.channel, "reason": str(exc)}
                )
    finally:
        await registry.aclose()
    return sent
