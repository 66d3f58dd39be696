"""Voice calls through Twilio's Calls API with inline TwiML."""

from __future__ import annotations

from typing import ClassVar

from engine.channels.base import OutboundMessage, SendResult
from engine.channels.twilio.channel import TwilioChannel, callback_kwargs
from engine.channels.twilio.client import summary
from engine.channels.twilio.twiml import voice_twiml

CALL_EVENTS = ["initiated", "answered", "completed"]


class VoiceChannel(TwilioChannel):
    """Speaks the message with `<Say>`; with `gather`, asks for 1 (confirm) or 9 (stop)."""

    name: ClassVar[str] = "voice"
    kinds: ClassVar[frozenset[str]] = frozenset({"voice"})
    max_body_length: ClassVar[int] = 3000
    rate_per_second: ClassVar[float] = 1.0
    max_concurrency: ClassVar[int] = 4

    async def _create(self, message: OutboundMessage, sender: str) -> SendResult:
        twiml = voice_twiml(message)
        extra = callback_kwargs(message)
        if extra:
            extra["status_callback_event"] = CALL_EVENTS
        created = await self.call_twilio(
            lambda: self.client.calls.create_async(
                to=message.to, from_=sender, twiml=twiml, **extra
            )
        )
        return SendResult(created.sid, created.status or "queued", summary(created, *_FIELDS))


_FIELDS = ("sid", "status", "to", "direction")
