"""Signed links in messages: one-click unsubscribe (RFC 8058) and acknowledgement.

A link carries a compact HMAC-signed token (``engine.platform.security``) of its own purpose, so an
acknowledgement token never unsubscribes and the reverse; unsubscribe links do not expire
(RFC 8058 expects them to keep working), acknowledgement links expire after 30 days.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote

from engine.channels.registry import webhook_provider
from engine.channels.webhooks import STATUS_ROUTE, VOICE_ROUTE, webhook_path
from engine.errors import Unauthorized
from engine.platform.config import Settings
from engine.platform.security import sign, verify

UNSUBSCRIBE = "unsubscribe"
ACK = "ack"
MANAGE = "manage"
ACK_TTL_S = 30 * 24 * 3600
MANAGE_TTL_S = 30 * 24 * 3600
MESSAGE_MANAGE = "message-manage"
NOTIFICATION_PREFIX = "ntf_"


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


@dataclass(frozen=True)
class Manage:
    """Whose page a manage link opens; ``expired`` links still name them (for a fresh link)."""

    tenant_id: str
    customer_id: str
    issued_at: int
    expires_at: int
    once: bool
    expired: bool


def manage_token(
    settings: Settings,
    tenant_id: str,
    customer_id: str,
    now_ts: float,
    *,
    ttl_s: int = MANAGE_TTL_S,
    once: bool = False,
) -> str:
    """A signed link token for one customer's page; ``once`` links open a single session."""
    claims = {"t": tenant_id, "c": customer_id, "iat": int(now_ts), "x": int(now_ts + ttl_s)}
    if once:
        claims["o"] = 1
    return sign(settings.secret_key.get_secret_value(), MANAGE, claims)


def manage_url(settings: Settings, token: str) -> str:
    return f"{_base(settings)}/me/link?token={quote(token)}"


def read_manage(settings: Settings, token: str, now_ts: float) -> Manage:
    """The claims of a correctly signed manage token, expired or not (Unauthorized if forged)."""
    claims = verify(settings.secret_key.get_secret_value(), MANAGE, token, now_ts)
    try:
        expires = int(claims["x"])
        return Manage(
            str(claims["t"]),
            str(claims["c"]),
            int(claims["iat"]),
            expires,
            bool(claims.get("o")),
            expires < now_ts,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise Unauthorized("malformed token") from exc


def preferences_url(settings: Settings, tenant_id: str, customer_id: str, now_ts: float) -> str:
    """The "manage your alerts" link in every message: this customer's own page."""
    return manage_url(settings, manage_token(settings, tenant_id, customer_id, now_ts))


def message_manage_url(settings: Settings, notification_id: str) -> str:
    """A short "manage your alerts" link for an SMS: the message's id and a MAC of it; the
    page it opens belongs to that message's customer (for 30 days after it was decided)."""
    return f"{_base(settings)}/m/{message_code(settings, notification_id)}"


def message_code(settings: Settings, notification_id: str) -> str:
    local = notification_id.removeprefix(NOTIFICATION_PREFIX)
    return f"{local}.{_short_mac(settings, local)}"


def read_message_code(settings: Settings, code: str) -> str:
    """The notification id a short link names (Unauthorized if it is not one nudge made)."""
    local, _, mac = code.partition(".")
    if not local or len(code) > 80 or not hmac.compare_digest(mac, _short_mac(settings, local)):
        raise Unauthorized("invalid link")
    return NOTIFICATION_PREFIX + local


def _short_mac(settings: Settings, local: str) -> str:
    secret = settings.secret_key.get_secret_value().encode()
    digest = hmac.new(secret, f"{MESSAGE_MANAGE}:{local}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode().lower()  # 80 bits, 16 characters


def status_callback_url(settings: Settings, kind: str) -> str | None:
    """Where the provider of ``kind`` posts delivery statuses (None: it reports none)."""
    return _webhook_url(settings, kind, STATUS_ROUTE)


def voice_gather_url(settings: Settings, kind: str) -> str | None:
    """Where the provider of ``kind`` posts the keys pressed during a call."""
    return _webhook_url(settings, kind, VOICE_ROUTE)


def _webhook_url(settings: Settings, kind: str, route: str) -> str | None:
    provider = webhook_provider(kind)
    return f"{_base(settings)}{webhook_path(provider, route)}" if provider else None
