"""Signed session cookies with idle and absolute expiry, and CSRF tokens bound to a cookie.

The session is stateless: an HMAC-signed value naming one customer of one tenant, when it
began and when it was last used. Logout removes it; erasure makes it useless (the customer
is gone); a session lives at most ``ABSOLUTE_S`` and dies after ``IDLE_S`` unused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from engine.errors import Unauthorized
from engine.platform.config import Settings
from engine.platform.security import same_secret, sign, verify

SESSION_COOKIE = "nudge_session"
CSRF_COOKIE = "nudge_csrf"
LANG_COOKIE = "nudge_lang"
CSRF_FIELD = "csrf_token"
PURPOSE = "web-session"
IDLE_S = 30 * 60
ABSOLUTE_S = 12 * 3600
REFRESH_AFTER_S = 60  # re-sign the cookie at most once a minute while it is in use


@dataclass(frozen=True)
class WebSession:
    tenant_id: str
    customer_id: str
    started: int
    seen: int

    def touched(self, now: int) -> WebSession:
        return WebSession(self.tenant_id, self.customer_id, self.started, now)

    def stale(self, now: int) -> bool:
        return now - self.seen >= REFRESH_AFTER_S


def _secret(settings: Settings) -> str:
    return settings.secret_key.get_secret_value()


def encode(settings: Settings, session: WebSession) -> str:
    claims = {"t": session.tenant_id, "c": session.customer_id, "s": session.started}
    claims["seen"] = session.seen
    return sign(_secret(settings), PURPOSE, claims)


def decode(settings: Settings, raw: str | None, now: int) -> WebSession | None:
    """The session in a cookie if it is genuine, not idle too long and not too old."""
    if not raw:
        return None
    try:
        claims = verify(_secret(settings), PURPOSE, raw, now)
        session = WebSession(
            str(claims["t"]), str(claims["c"]), int(claims["s"]), int(claims["seen"])
        )
    except (Unauthorized, KeyError, TypeError, ValueError):
        return None
    if now - session.seen > IDLE_S or now - session.started > ABSOLUTE_S or session.seen > now + 60:
        return None
    return session


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(settings: Settings, nonce: str) -> str:
    """The form token for a browser's CSRF cookie: only a page from this server knows it."""
    mac = hmac.new(_secret(settings).encode(), f"csrf:{nonce}".encode(), hashlib.sha256)
    return mac.hexdigest()


def csrf_valid(settings: Settings, nonce: str | None, token: str | None) -> bool:
    if not nonce or not token:
        return False
    return same_secret(token, csrf_token(settings, nonce))
