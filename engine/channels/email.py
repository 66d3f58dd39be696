"""Email over SMTP (aiosmtplib) with TLS, reused connections and bounded concurrency."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Self

import aiosmtplib

from engine.channels.base import (
    Channel,
    ChannelError,
    OutboundMessage,
    PermanentChannelError,
    SendResult,
    TransientChannelError,
)
from engine.channels.mime import RenderedEmail, render_email
from engine.channels.smtp_pool import SmtpConfig, SmtpPool

if TYPE_CHECKING:
    from engine.platform.config import Settings


SESSION_ERRORS = (
    aiosmtplib.SMTPAuthenticationError,
    aiosmtplib.SMTPConnectResponseError,
    aiosmtplib.SMTPHeloError,
)


class EmailChannel(Channel):
    """Sends multipart text/HTML email through one SMTP relay."""

    name: ClassVar[str] = "email"
    kinds: ClassVar[frozenset[str]] = frozenset({"email"})
    max_body_length: ClassVar[int] = 1_000_000
    rate_per_second: ClassVar[float] = 500.0
    max_concurrency: ClassVar[int] = 8
    supports_html: ClassVar[bool] = True

    def __init__(self, config: SmtpConfig, default_from: str, concurrency: int = 8) -> None:
        self.config = config
        self.default_from = default_from
        self.pool = SmtpPool(config, concurrency)
        self._concurrency = concurrency

    def concurrency(self) -> int:
        """One send per pooled connection (``NUDGE_SMTP_CONCURRENCY``)."""
        return self._concurrency

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        if settings.smtp_url is None:
            return None
        url = settings.smtp_url.get_secret_value()
        config = SmtpConfig.from_url(url, timeout=settings.smtp_timeout_seconds)
        return cls(config, settings.smtp_from, settings.smtp_concurrency)

    async def send(self, message: OutboundMessage) -> SendResult:
        self.check(message)
        email = render_email(message, self.default_from)
        try:
            response = await self._deliver(email, message.to)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise smtp_error(exc) from exc
        return SendResult(email.message_id, "sent", response)

    async def aclose(self) -> None:
        await self.pool.aclose()

    async def _deliver(self, email: RenderedEmail, to: str) -> str:
        async with self.pool.connection() as pooled:
            try:
                return await _transmit(pooled.client, email, to)
            except aiosmtplib.SMTPServerDisconnected:
                if not pooled.reused:
                    raise
        # The server had dropped that idle connection: retry once on a new one.
        async with self.pool.connection(fresh=True) as pooled:
            return await _transmit(pooled.client, email, to)


async def _transmit(client: aiosmtplib.SMTP, email: RenderedEmail, to: str) -> str:
    _, reply = await client.sendmail(email.envelope_from, [to], email.raw)
    return reply


def smtp_error(exc: BaseException) -> ChannelError:
    """SMTP 5xx is permanent; 4xx, refused connections and timeouts are transient."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, SESSION_ERRORS):
        # Greeting, HELO or login refused: the relay or our credentials, not this message.
        return TransientChannelError(f"smtp session refused {exc.code}", str(exc), code=exc.code)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        kind = PermanentChannelError if 500 <= exc.code < 600 else TransientChannelError
        return kind(f"smtp {exc.code}", f"{exc.code} {exc.message}", code=exc.code)
    return TransientChannelError(f"smtp unavailable: {type(exc).__name__}", str(exc))
