"""What providers tell us back, in nudge's own words, and the interface their webhooks implement.

A provider package (``engine/channels/twilio``) turns its signed requests into these values and
writes its answers from them; nothing else in nudge reads a provider's field names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Self

if TYPE_CHECKING:
    from engine.platform.config import Settings

WEBHOOK_PREFIX = "/v1/webhooks"
STATUS_ROUTE = "status"
INBOUND_ROUTE = "inbound"
VOICE_ROUTE = "voice"


def webhook_path(provider: str, route: str) -> str:
    """Where one of a provider's webhook routes is served (``api.routers.webhooks``)."""
    return f"{WEBHOOK_PREFIX}/{provider}/{route}"


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A text message a customer sent to one of our numbers."""

    sender: str
    recipient: str
    body: str
    message_id: str = ""


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A provider's news about a message or call we sent: its id there and its new status."""

    provider_id: str
    status: str
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class KeyPress:
    """The keys a customer pressed during one of our calls (empty when none)."""

    call_id: str
    digits: str


@dataclass(frozen=True, slots=True)
class Spoken:
    """A sentence to say during a call; ``locale`` is the language it is written in (with the
    customer's region, ``de-AT``), from which the provider picks a voice."""

    text: str
    locale: str


@dataclass(frozen=True, slots=True)
class StatusScale:
    """How far each of a provider's statuses has come, and which ones end a delivery."""

    ranks: Mapping[str, int]
    final_rank: int
    delivered: frozenset[str]
    failed: frozenset[str]

    def advances(self, current: str | None, new: str) -> bool:
        """Whether ``new`` moves an attempt forward (repeats and late arrivals do not)."""
        if current is None:
            return True
        if new == current:
            return False
        before = self.ranks.get(current, 0)
        if new not in self.ranks:
            return before < self.final_rank
        return self.ranks[new] > before


class WebhookProvider(ABC):
    """One provider's webhooks: checks who signed them, reads them, and writes the answers.

    Registered under the ``nudge.webhooks`` entry points; its routes are
    ``/v1/webhooks/{name}/status``, ``/inbound`` and ``/voice``.
    """

    name: ClassVar[str]
    signature_header: ClassVar[str]
    media_type: ClassVar[str]
    statuses: ClassVar[StatusScale]

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Settings) -> Self:
        """Build from settings (one that refuses every request if it has no secret)."""

    @abstractmethod
    def verified_form(self, url: str, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        """The posted form once its signature over ``url`` checks out; `Forbidden` otherwise."""

    @abstractmethod
    def status_update(self, form: Mapping[str, str]) -> StatusUpdate | None:
        """The status a callback reports; None when it names no message or no status."""

    @abstractmethod
    def inbound_message(self, form: Mapping[str, str]) -> InboundMessage:
        """The text message a customer sent."""

    @abstractmethod
    def key_press(self, form: Mapping[str, str]) -> KeyPress:
        """The keys pressed during a call."""

    @abstractmethod
    def status_answer(self) -> str:
        """The body acknowledging a status callback."""

    @abstractmethod
    def message_answer(self, text: str | None) -> str:
        """The body that replies ``text`` to an inbound message (nothing when None)."""

    @abstractmethod
    def call_answer(self, spoken: Spoken | None) -> str:
        """The body that says ``spoken`` (if any) and ends the call."""
