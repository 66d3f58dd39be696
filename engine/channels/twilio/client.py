"""The Twilio SDK client, pointed at `twilio_api_base_url` (a local stub in tests)."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from engine.channels.base import (
    ChannelConfigError,
    ChannelError,
    PermanentChannelError,
    TransientChannelError,
)

if TYPE_CHECKING:
    from engine.platform.config import Settings

PRODUCTION_BASE_URL = "https://api.twilio.com"
# 401: bad or rotated credentials are an operator problem, not the recipient's, so the
# message is retried (and falls back once retries are used up) rather than failed at once.
TRANSIENT_STATUSES = frozenset({401, 408, 429})
NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


class RoutedHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Sends requests for `*.twilio.com` to `base_url` instead; unchanged for production."""

    def __init__(self, base_url: str = PRODUCTION_BASE_URL, timeout: float | None = 30.0) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ChannelConfigError(f"twilio_api_base_url {base_url!r} is not an http(s) URL")
        super().__init__(pool_connections=True, timeout=timeout)
        self.base = parts

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the SDK's signature)
        allow_redirects: bool = False,
    ) -> Response:
        """The SDK's request, after rewriting scheme and host."""
        if auth is not None:
            # aiohttp deprecates its `auth=` parameter; the header is what goes on the wire.
            headers = {**(headers or {}), "Authorization": basic_auth(*auth)}
        return await super().request(
            method, self.route(url), params, data, headers, None, timeout, allow_redirects
        )

    def route(self, url: str) -> str:
        """Rewrite scheme and host of a Twilio API URL; other URLs pass through."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if urlunsplit(self.base) == PRODUCTION_BASE_URL or not _is_twilio(host):
            return url
        path = self.base.path + parts.path
        return urlunsplit((self.base.scheme, self.base.netloc, path, parts.query, ""))


def basic_auth(username: str, password: str) -> str:
    """An HTTP Basic `Authorization` header value."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def twilio_credentials(settings: Settings) -> tuple[str, str] | None:
    """Account SID and auth token; None when Twilio is not configured at all."""
    sid, token = settings.twilio_account_sid, settings.twilio_auth_token
    if sid is None and token is None:
        return None
    if not sid or token is None:
        raise ChannelConfigError("Twilio needs both NUDGE_TWILIO_ACCOUNT_SID and _AUTH_TOKEN")
    return sid, token.get_secret_value()


def make_client(settings: Settings) -> Client:
    """A Twilio client with its own reusable HTTP session; call inside the event loop."""
    credentials = twilio_credentials(settings)
    if credentials is None:
        raise ChannelConfigError("Twilio is not configured")
    http_client = RoutedHttpClient(settings.twilio_api_base_url, timeout=30.0)
    return Client(credentials[0], credentials[1], http_client=http_client, environment={})


async def close_client(client: Client) -> None:
    """Close the HTTP session behind a client from `make_client`."""
    await client.http_client.close()


def twilio_error(exc: BaseException) -> ChannelError:
    """Throttling, server errors and network trouble are transient; other 4xx permanent."""
    if isinstance(exc, TwilioRestException):
        kind = (
            TransientChannelError
            if exc.status >= 500 or exc.status in TRANSIENT_STATUSES
            else PermanentChannelError
        )
        reason = f"twilio {exc.status}" + (f" error {exc.code}" if exc.code else "")
        return kind(reason, _rest_response(exc), code=exc.code)
    if isinstance(exc, TwilioException):
        return TransientChannelError("twilio client error", str(exc))
    return TransientChannelError(f"twilio unreachable: {type(exc).__name__}", str(exc))


def summary(resource: Any, *fields: str) -> str:
    """A compact JSON record of what Twilio returned, for the delivery-attempt row."""
    return json.dumps({name: getattr(resource, name, None) for name in fields}, default=str)


def _rest_response(exc: TwilioRestException) -> str:
    return json.dumps({"status": exc.status, "code": exc.code, "message": exc.msg}, default=str)


def _is_twilio(host: str) -> bool:
    return host == "twilio.com" or host.endswith(".twilio.com")
