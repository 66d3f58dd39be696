"""What SMS and voice share: one lazily created Twilio client, sender choice, error mapping."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from twilio.base.exceptions import TwilioException

from engine.channels.base import Channel, OutboundMessage, PermanentChannelError, SendResult
from engine.channels.twilio.client import (
    NETWORK_ERRORS,
    close_client,
    make_client,
    twilio_credentials,
    twilio_error,
)
from engine.channels.twilio.webhooks import TwilioWebhooks

if TYPE_CHECKING:
    from twilio.rest import Client

    from engine.platform.config import Settings

T = TypeVar("T")


class TwilioChannel(Channel):
    """A Twilio-backed channel; the HTTP session is opened on first send and reused."""

    webhooks: ClassVar[str | None] = TwilioWebhooks.name

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.default_from = settings.twilio_from_number
        self._client: Client | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        if twilio_credentials(settings) is None:
            return None
        return cls(settings)

    @property
    def client(self) -> Client:
        """The shared client; created here because its aiohttp session needs a running loop."""
        if self._client is None:
            self._client = make_client(self.settings)
        return self._client

    async def send(self, message: OutboundMessage) -> SendResult:
        self.check(message)
        sender = message.sender or self.default_from
        if not sender:
            raise PermanentChannelError("no sender number (message.sender or twilio_from_number)")
        return await self._create(message, sender)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await close_client(client)

    @abstractmethod
    async def _create(self, message: OutboundMessage, sender: str) -> SendResult:
        """Create the message or call at Twilio."""

    @staticmethod
    async def call_twilio(create: Callable[[], Awaitable[T]]) -> T:
        """Run one SDK call, translating its failures into channel errors."""
        try:
            return await create()
        except (TwilioException, *NETWORK_ERRORS) as exc:
            raise twilio_error(exc) from exc


def callback_kwargs(message: OutboundMessage) -> dict[str, Any]:
    """The status callback argument, only when the message has one."""
    return {"status_callback": message.callback_url} if message.callback_url else {}
