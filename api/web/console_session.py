"""The operations console's session: an ops key exchanged for a signed cookie.

The cookie names the tenant and the key it was opened with, when it began and when it was
last used; it lives at most ``ABSOLUTE_S`` and dies after ``IDLE_S`` unused. Every request
checks the key again, so revoking the key ends its sessions at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import Unauthorized
from engine.platform.config import Settings
from engine.platform.security import sign, verify

CONSOLE_COOKIE = "nudge_console"
PURPOSE = "console-session"
IDLE_S = 30 * 60
ABSOLUTE_S = 10 * 3600
REFRESH_AFTER_S = 60


@dataclass(frozen=True)
class ConsoleSession:
    tenant_id: str
    key_id: str
    started: int
    seen: int

    def touched(self, now: int) -> ConsoleSession:
        return ConsoleSession(self.tenant_id, self.key_id, self.started, now)

    def stale(self, now: int) -> bool:
        return now - self.seen >= REFRESH_AFTER_S


def encode(settings: Settings, session: ConsoleSession) -> str:
    claims = {"t": session.tenant_id, "k": session.key_id, "s": session.started}
    claims["seen"] = session.seen
    return sign(settings.secret_key.get_secret_value(), PURPOSE, claims)


def decode(settings: Settings, raw: str | None, now: int) -> ConsoleSession | None:
    """The session in a cookie if it is genuine, not idle too long and not too old."""
    if not raw:
        return None
    try:
        claims = verify(settings.secret_key.get_secret_value(), PURPOSE, raw, now)
        session = ConsoleSession(
            str(claims["t"]), str(claims["k"]), int(claims["s"]), int(claims["seen"])
        )
    except (Unauthorized, KeyError, TypeError, ValueError):
        return None
    too_old = now - session.started > ABSOLUTE_S
    if now - session.seen > IDLE_S or too_old or session.seen > now + 60:
        return None
    return session
