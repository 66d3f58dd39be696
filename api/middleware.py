"""ASGI middleware: body limits, Idempotency-Key replay, access logs and request metrics."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, MutableMapping
from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem
from engine.errors import (
    BadRequest,
    DatabaseUnavailable,
    FieldError,
    InvalidInput,
    NudgeError,
    PayloadTooLarge,
    RetryLater,
)
from engine.idempotency.service import IdempotencyService, StoredResponse, redact
from engine.platform.db import is_nul_refusal, is_unavailable, unit_of_work
from engine.platform.metrics import http_requests
from engine.processes.container import stored_answers

BODY_KEY = "nudge.body"
log = logging.getLogger("nudge.access")


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class WatchedSend:
    """Passes messages on to ``send`` and remembers whether the answer has begun: after
    that, an error can no longer be answered, only the connection closed."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self.send(message)


async def send_problem(scope: Scope, send: Send, exc: NudgeError) -> None:
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(exc, RetryLater):
        headers["Retry-After"] = str(exc.retry_after)
        extra["retry_after"] = exc.retry_after
    if exc.errors:
        extra["errors"] = [{**e.as_dict(), "field": ".".join(map(str, e.loc))} for e in exc.errors]
    path = scope.get("path", "")
    response = problem(exc.status, exc.type, exc.title, exc.detail, path, headers, **extra)
    await response(scope, _replay(b""), send)


class BodyLimitMiddleware:
    """Buffer request bodies up to a limit (larger for feeds); 413 beyond it."""

    def __init__(self, app: ASGIApp, limit: int, feed_limit: int) -> None:
        self.app, self.limit, self.feed_limit = app, limit, feed_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return await self.app(scope, receive, send)
        limit = self.feed_limit if scope["path"].startswith("/v1/feeds") else self.limit
        declared = header(scope, b"content-length")
        too_large = PayloadTooLarge(f"request bodies are limited to {limit} bytes")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await send_problem(scope, send, too_large)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await send_problem(scope, send, too_large)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        scope[BODY_KEY] = body
        await self.app(scope, _replay(body), send)


SECRET_FIELDS_HEADER = b"x-nudge-secret-fields"
_CUSTOMER_PATH = re.compile(r"^/v1/customers/(cus_[A-Za-z0-9]+)")


def secret_fields(response: Any, *names: str) -> None:
    """Mark fields of a route's answer as secret: never cached, never stored for replay."""
    response.headers["Cache-Control"] = "no-store"
    response.headers[SECRET_FIELDS_HEADER.decode()] = ",".join(names)


def _subject(scope: Scope, body: bytes) -> str | None:
    """The customer whose data an answer may hold: the caller, the one named in the path,
    or the one it created."""
    state = scope.get("state") or {}
    if state.get("customer_id"):
        return str(state["customer_id"])
    match = _CUSTOMER_PATH.match(scope.get("path", ""))
    if match:
        return match.group(1)
    try:
        document = json.loads(body)
    except ValueError:
        return None
    created = document.get("id") if isinstance(document, dict) else None
    return created if isinstance(created, str) and created.startswith("cus_") else None


MAX_KEY_LENGTH = 200
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")


def key_problem(key: str) -> BadRequest | None:
    """Why an ``Idempotency-Key`` cannot be kept as sent: 1 to 200 printable ASCII characters
    (the IETF draft's sf-string); a control character such as U+0000 is refused before
    anything is stored."""
    if not key or len(key) > MAX_KEY_LENGTH:
        reason = f"must be 1 to {MAX_KEY_LENGTH} characters"
    elif not _PRINTABLE_ASCII.fullmatch(key):
        reason = "may hold printable ASCII characters only (no control characters)"
    else:
        return None
    error = FieldError(("header", "Idempotency-Key"), reason, "idempotency_key")
    return BadRequest(f"Idempotency-Key {reason}", [error])


NOT_KEPT = (401, 403, 429)  # credentials refused, or wait: a retry is answered afresh


class IdempotencyMiddleware:
    """Same ``Idempotency-Key`` and request → the stored answer; a different request → 422.
    Keys belong to the credentials sent with them: without any, the key is not honoured."""

    def __init__(self, app: ASGIApp, get_db: Callable[[], tuple[Any, Any]], ttl: timedelta) -> None:
        self.app = app
        self.get_db = get_db
        self.ttl = ttl

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = header(scope, b"idempotency-key") if scope["type"] == "http" else None
        auth = header(scope, b"authorization") if key is not None else None
        if key is None or not auth or scope["method"] != "POST":
            return await self.app(scope, receive, send)  # no credentials: no one to keep it for
        unusable = key_problem(key)
        if unusable is not None:
            return await send_problem(scope, send, unusable)
        scope_id = hashlib.sha256(auth.encode()).hexdigest()
        digest = hashlib.sha256()
        for part in (scope["path"], scope.get("query_string", b"").decode(), ""):
            digest.update(part.encode() + b"\0")
        digest.update(scope.get(BODY_KEY, b""))
        try:
            stored = await self._run(lambda s: s.begin(scope_id, key, digest.hexdigest()))
        except NudgeError as exc:
            return await send_problem(scope, send, exc)
        if stored is not None:
            return await self._send_stored(send, stored)
        try:
            captured = await self._capture(scope, receive, send)
        except Exception:
            await self._run(lambda s: s.abandon(scope_id, key))
            raise
        if captured is None or captured.status_code >= 500 or captured.status_code in NOT_KEPT:
            await self._run(lambda s: s.abandon(scope_id, key))
        else:
            await self._run(lambda s: s.complete(scope_id, key, captured))

    async def _run(self, action: Callable[[IdempotencyService], Any]) -> Any:
        db, clock = self.get_db()

        def work() -> Any:
            with unit_of_work(db) as session:
                return action(stored_answers(session, clock, self.ttl))

        return await run_in_threadpool(work)

    async def _capture(self, scope: Scope, receive: Receive, send: Send) -> StoredResponse | None:
        status, ctype, body, secrets = 0, "application/json", bytearray(), ""

        async def capture(message: Message) -> None:
            nonlocal status, ctype, secrets
            if message["type"] == "http.response.start":
                status, headers = message["status"], []
                for k, v in message.get("headers", []):
                    if k == b"content-type":
                        ctype = v.decode("latin-1")
                    if k == SECRET_FIELDS_HEADER:
                        secrets = v.decode("latin-1")
                    else:
                        headers.append((k, v))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if not status:
            return None
        answer = StoredResponse(status, ctype, bytes(body), _subject(scope, bytes(body)))
        return redact(answer, secrets.split(","))

    @staticmethod
    async def _send_stored(send: Send, stored: StoredResponse) -> None:
        headers = [
            (b"content-type", stored.content_type.encode()),
            (b"content-length", str(len(stored.body)).encode()),
            (b"idempotent-replayed", b"true"),
        ]
        await send(
            {"type": "http.response.start", "status": stored.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": stored.body})


class AccessLogMiddleware:
    """One JSON log line and one latency observation per request; never headers or bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), 500

        async def track(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, track)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            http_requests.labels(scope["method"], route, str(status)).observe(elapsed)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "ms": round(elapsed * 1000, 2),
                },
            )


class UnexpectedErrorMiddleware:
    """The last word on errors nothing else handled: a problem+json answer (503 with
    Retry-After when the database cannot take requests, 500 otherwise) sent as a complete
    response, so the server keeps the client's connection open for its next request."""

    def __init__(self, app: ASGIApp, retry_after: int = 5) -> None:
        self.app = app
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        watched = WatchedSend(send)
        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if watched.started:
                raise  # half an answer went out: only closing the connection is honest
            await send_problem(scope, send, self._error(scope, exc))

    def _error(self, scope: Scope, exc: Exception) -> NudgeError:
        path = scope.get("path", "")
        if is_unavailable(exc):
            log.warning("database unavailable", extra={"path": path, "error": type(exc).__name__})
            return DatabaseUnavailable(
                "the database cannot take requests right now", retry_after=self.retry_after
            )
        if is_nul_refusal(exc):  # got past the guard (api.input_guard): find what let it by
            log.warning("the database refused U+0000", extra={"path": path})
            return InvalidInput("U+0000 (NUL) is not allowed: a text of this request holds it")
        log.error("unhandled error", exc_info=exc, extra={"path": path})
        return NudgeError("an unexpected error; it was logged")
