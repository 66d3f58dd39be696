"""Signed links in messages: one-click unsubscribe (RFC 8058) and acknowledgement.

A link carries a compact HMAC-signed token (``engine.security``) of its own purpose, so an
acknowledgement token never unsubscribes and the reverse; unsubscribe links do not expire
(RFC 8058 expects them to keep working), acknowledgement links expire after 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from engine.config import Settings
from engine.security import sign, verify

UNSUBSCRIBE = "unsubscribe"
ACK = "ack"
ACK_TTL_S = 30 * 24 * 3600


@dataclass(frozen=True)
class Unsubscribe:
    tenant_id: str
    customer_id: str
    channel: str
    topic: str


def _base(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/")


def unsubscribe_url(settings: Settings, target: Unsubscribe) -> str:
    claims = {
        "t": target.tenant_id,
        "c": target.customer_id,
        "ch": target.channel,
        "tp": target.topic,
    }
    token = sign(settings.secret_key.get_secret_value(), UNSUBSCRIBE, claims)
    return f"{_base(settings)}/v1/unsubscribe?token={quote(token)}"


def read_unsubscribe(settings: Settings, token: str, now_ts: float) -> Unsubscribe:
    claims = verify(settings.secret_key.get_secret_value(), UNSUBSCRIBE, token, now_ts)
    return Unsubscribe(str(claims["t"]), str(claims["c"]), str(claims["ch"]), str(claims["tp"]))


def ack_url(settings: Settings, notification_id: str, now_ts: float) -> str:
    claims = {"n": notification_id, "exp": int(now_ts + ACK_TTL_S)}
    token = sign(settings.secret_key.get_secret_value(), ACK, claims)
    return f"{_base(settings)}/v1/ack?token={quote(token)}"


def read_ack(settings: Settings, token: str, now_ts: float) -> str:
    """The notification id an acknowledgement token names (Unauthorized if invalid)."""
    claims = verify(settings.secret_key.get_secret_value(), ACK, token, now_ts)
    return str(claims["n"])


def preferences_url(settings: Settings) -> str:
    return f"{_base(settings)}/docs#/me"


def status_callback_url(settings: Settings) -> str:
    return f"{_base(settings)}/v1/webhooks/twilio/status"


def voice_gather_url(settings: Settings) -> str:
    return f"{_base(settings)}/v1/webhooks/twilio/voice"
