"""Run a request again when PostgreSQL aborts its transaction for contention.

A request is one unit of work (`api.deps.get_services` commits it before the answer starts),
so a deadlock or serialisation failure leaves nothing behind: the request is replayed from
its buffered body, a bounded number of times, and past that answered 503 with Retry-After
(`engine.errors.Busy`). Every route gets this, whoever wrote it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import BODY_KEY, WatchedSend
from api.problems import render_domain_error
from engine.platform.db import RetryPolicy, is_contention

log = logging.getLogger("nudge.api")


def _replay(body: bytes, then: Receive) -> Receive:
    """The buffered body once, then whatever the client sends next (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class RetryOnContentionMiddleware:
    def __init__(self, app: ASGIApp, policy: Callable[[], RetryPolicy]) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        policy = self.policy()
        for attempt in range(policy.attempts):
            watched = WatchedSend(send)
            attempt_receive = receive if attempt == 0 else self._again(scope, receive)
            try:
                return await self.app(scope, attempt_receive, watched)
            except Exception as exc:
                if watched.started or not is_contention(exc):
                    raise
                log.warning(
                    "request aborted for contention; retrying",
                    extra={"path": scope["path"], "try": attempt + 1},
                )
                if attempt + 1 < policy.attempts:
                    await asyncio.sleep(policy.pause(attempt))
        response = render_domain_error(Request(scope), policy.exhausted())
        await response(scope, receive, send)

    @staticmethod
    def _again(scope: Scope, receive: Receive) -> Receive:
        # Bodies of POST, PUT and PATCH were buffered by the body limit; other methods have
        # none worth replaying.
        return _replay(scope.get(BODY_KEY, b""), receive)
