"""SMTP connection settings from `NUDGE_SMTP_URL` and a small pool of reused connections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from engine.channels.base import ChannelConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how to connect; `start_tls=None` upgrades when the server offers it."""

    hostname: str
    port: int | None = None
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool | None = None
    validate_certs: bool = True
    cert_bundle: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str, timeout: float = 30.0) -> SmtpConfig:
        """Parse `smtp://user:pass@host:587?starttls=true` or `smtps://host:465?verify=false`."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ChannelConfigError(
                "NUDGE_SMTP_URL must look like smtp[s]://[user:pass@]host[:port]"
            )
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        use_tls = parts.scheme == "smtps"
        start_tls = _flag(query, "starttls")
        if use_tls and start_tls:
            raise ChannelConfigError("smtps:// is implicit TLS; starttls=true needs smtp://")
        return cls(
            hostname=parts.hostname,
            port=parts.port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=use_tls,
            start_tls=False if use_tls else start_tls,
            validate_certs=_flag(query, "verify") is not False,
            cert_bundle=query.get("cafile"),
            timeout=timeout,
        )

    def connect_client(self) -> aiosmtplib.SMTP:
        """An unconnected client with these settings."""
        return aiosmtplib.SMTP(
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            start_tls=self.start_tls,
            validate_certs=self.validate_certs,
            cert_bundle=self.cert_bundle,
            timeout=self.timeout,
        )


class SmtpPool:
    """Up to `size` connections, each reused across messages and re-opened when dropped."""

    def __init__(self, config: SmtpConfig, size: int) -> None:
        if size < 1:
            raise ChannelConfigError("smtp_concurrency must be at least 1")
        self._config = config
        self._slots = asyncio.Semaphore(size)
        self._idle: list[aiosmtplib.SMTP] = []
        self.connections_opened = 0

    @asynccontextmanager
    async def connection(self, *, fresh: bool = False) -> AsyncIterator[PooledConnection]:
        """Borrow a connection; it returns to the pool unless the send broke it."""
        async with self._slots:
            pooled = await self._take(fresh)
            try:
                yield pooled
            except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as exc:
                self._release(pooled.client, keep=_session_survives(exc))
                raise
            except BaseException:
                self._release(pooled.client, keep=False)
                raise
            self._release(pooled.client, keep=True)

    async def aclose(self) -> None:
        """Say QUIT on every idle connection."""
        idle, self._idle = self._idle, []
        await asyncio.gather(*(_quit(client) for client in idle))

    async def _take(self, fresh: bool) -> PooledConnection:
        while self._idle and not fresh:
            client = self._idle.pop()
            if client.is_connected:
                return PooledConnection(client, reused=True)
        client = self._config.connect_client()
        try:
            await client.connect()
        except BaseException:
            client.close()  # the socket may be open even though greeting, TLS or login failed
            raise
        self.connections_opened += 1
        return PooledConnection(client, reused=False)

    def _release(self, client: aiosmtplib.SMTP, *, keep: bool) -> None:
        if keep and client.is_connected:
            self._idle.append(client)
        elif client.is_connected:
            client.close()


@dataclass(frozen=True, slots=True)
class PooledConnection:
    client: aiosmtplib.SMTP
    reused: bool


def _session_survives(exc: Exception) -> bool:
    # aiosmtplib answers a refused transaction with RSET, so the session stays usable;
    # 421 means the server is closing it.
    code = getattr(exc, "code", None)
    return code != 421


async def _quit(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()


def _flag(query: dict[str, str], key: str) -> bool | None:
    value = query.get(key)
    if value is None:
        return None
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ChannelConfigError(f"NUDGE_SMTP_URL: {key}={value!r} is not a boolean")
