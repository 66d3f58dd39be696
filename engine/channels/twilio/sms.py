"""SMS through Twilio's Messages API."""

from __future__ import annotations

from typing import ClassVar

from engine.channels.base import OutboundMessage, SendResult
from engine.channels.twilio.channel import TwilioChannel, callback_kwargs
from engine.channels.twilio.client import summary


class SmsChannel(TwilioChannel):
    """Plain-text SMS; Twilio splits long bodies into segments."""

    name: ClassVar[str] = "sms"
    kinds: ClassVar[frozenset[str]] = frozenset({"sms"})
    max_body_length: ClassVar[int] = 1600
    rate_per_second: ClassVar[float] = 300.0
    max_concurrency: ClassVar[int] = 32

    async def _create(self, message: OutboundMessage, sender: str) -> SendResult:
        created = await self.call_twilio(
            lambda: self.client.messages.create_async(
                to=message.to, from_=sender, body=message.text, **callback_kwargs(message)
            )
        )
        return SendResult(created.sid, created.status or "queued", summary(created, *_FIELDS))


_FIELDS = ("sid", "status", "num_segments", "error_code")
