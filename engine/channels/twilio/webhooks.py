"""Twilio's webhooks: the signature check, the fields each callback carries, TwiML answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, Self
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

from engine.channels.twilio.statuses import TWILIO_STATUSES
from engine.channels.twilio.twiml import message_twiml, say_twiml
from engine.channels.webhooks import (
    InboundMessage,
    KeyPress,
    Spoken,
    StatusScale,
    StatusUpdate,
    WebhookProvider,
)
from engine.errors import Forbidden

if TYPE_CHECKING:
    from engine.platform.config import Settings

SIGNATURE = "X-Twilio-Signature"


class Form(dict[str, list[str]]):
    """Every value of each posted field, the way the validator reads repeated fields."""

    @classmethod
    def of(cls, pairs: Sequence[tuple[str, str]]) -> Form:
        form = cls()
        for name, value in pairs:
            form.setdefault(name, []).append(value)
        return form

    def getall(self, name: str) -> list[str]:
        return self[name]


class TwilioWebhooks(WebhookProvider):
    """Twilio signs each request with the account's auth token (HMAC-SHA1 over URL and form)."""

    name: ClassVar[str] = "twilio"
    signature_header: ClassVar[str] = SIGNATURE
    media_type: ClassVar[str] = "application/xml"
    statuses: ClassVar[StatusScale] = TWILIO_STATUSES

    def __init__(self, auth_token: str | None) -> None:
        self._validator = None if auth_token is None else RequestValidator(auth_token)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        token = settings.twilio_auth_token
        return cls(None if token is None else token.get_secret_value())

    def verified_form(self, url: str, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        if self._validator is None:
            raise Forbidden("Twilio webhooks are disabled: no auth token is configured")
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        signature = headers.get(SIGNATURE, "")
        if not signature or not self._validator.validate(url, Form.of(pairs), signature):
            raise Forbidden(f"missing or invalid {SIGNATURE}")
        return dict(pairs)

    def status_update(self, form: Mapping[str, str]) -> StatusUpdate | None:
        """``MessageStatus`` for messages (``SmsStatus`` in older callbacks), ``CallStatus``."""
        sid = _first(form, "MessageSid", "SmsSid", "CallSid")
        status = _first(form, "MessageStatus", "SmsStatus", "CallStatus")
        if not sid or not status:
            return None
        return StatusUpdate(sid, status.strip().lower(), form.get("ErrorCode") or None)

    def inbound_message(self, form: Mapping[str, str]) -> InboundMessage:
        return InboundMessage(
            sender=form.get("From", ""),
            recipient=form.get("To", ""),
            body=form.get("Body", ""),
            message_id=form.get("MessageSid", ""),
        )

    def key_press(self, form: Mapping[str, str]) -> KeyPress:
        return KeyPress(form.get("CallSid", ""), form.get("Digits", ""))

    def status_answer(self) -> str:
        return message_twiml(None)

    def message_answer(self, text: str | None) -> str:
        return message_twiml(text)

    def call_answer(self, spoken: Spoken | None) -> str:
        return say_twiml(spoken)


def _first(form: Mapping[str, str], *names: str) -> str:
    return next((form[n] for n in names if form.get(n)), "")
