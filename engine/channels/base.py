"""The one interface every delivery channel implements, and the values it exchanges."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar, Self

if TYPE_CHECKING:
    from engine.platform.config import Settings

RESPONSE_LIMIT = 1000


def truncate(text: str, limit: int = RESPONSE_LIMIT) -> str:
    """Cut provider responses to what a delivery-attempt row stores."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One rendered message for one attempt on one channel."""

    notification_id: str
    attempt: int
    channel: str
    tenant_id: str
    customer_id: str
    to: str
    text: str
    sender: str | None = None
    locale: str = "en"
    subject: str = ""
    html: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    gather: bool = False  # voice: listen for a key (9 stops these calls)
    confirm: bool = False  # voice: 1 acknowledges (the rule asks for acknowledgement)
    callback_url: str | None = None
    gather_url: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the provider accepted: its id for the message, a status and its (short) answer."""

    provider_id: str
    status: str
    response: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "response", truncate(self.response))


class ChannelError(Exception):
    """A send failed; `reason` is short and stable, `response` is what the provider said."""

    def __init__(self, reason: str, response: str = "", *, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.response = truncate(response)
        self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r}, code={self.code!r})"


class TransientChannelError(ChannelError):
    """Worth retrying later: throttling, timeouts, provider or network trouble."""


class PermanentChannelError(ChannelError):
    """Retrying cannot help: invalid or unsubscribed recipient, rejected content."""


class ChannelConfigError(ValueError):
    """A channel's settings are present but unusable (bad URL, missing credential)."""


class Channel(ABC):
    """A provider behind `send`; channel facts are class attributes."""

    name: ClassVar[str]
    kinds: ClassVar[frozenset[str]]
    max_body_length: ClassVar[int]
    rate_per_second: ClassVar[float]
    max_concurrency: ClassVar[int]
    supports_html: ClassVar[bool] = False
    # The webhook provider (its `nudge.webhooks` name) that reports on this channel's
    # messages: delivery points status callbacks and keypad answers at its routes.
    webhooks: ClassVar[str | None] = None

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        """Build from settings; None when this channel is not configured."""

    @abstractmethod
    async def send(self, message: OutboundMessage) -> SendResult:
        """Hand one message to the provider or raise a `ChannelError`."""

    async def aclose(self) -> None:
        """Release connections and sessions."""
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def concurrency(self) -> int:
        """How many sends this instance takes at once (its class default unless configured)."""
        return self.max_concurrency

    def accepts(self, kind: str) -> bool:
        """Whether this channel can carry messages of `kind` (email, sms, voice, ...)."""
        return kind in self.kinds

    def check(self, message: OutboundMessage) -> None:
        """Reject messages this channel can never deliver, before talking to the provider."""
        if not self.accepts(message.channel):
            raise PermanentChannelError(f"{self.name} cannot send {message.channel!r} messages")
        if len(message.text) > self.max_body_length:
            raise PermanentChannelError(
                f"body has {len(message.text)} characters, {self.name} allows "
                f"{self.max_body_length}"
            )
