"""Run a request again when PostgreSQL aborts its transaction for contention.

A request is one unit of work (`api.deps.request_unit_of_work` commits it before the answer starts),
so a deadlock or serialisation failure leaves nothing behind: the request is replayed from
its buffered body, a bounded number of times, and past that answered 503 with Retry-After
(`engine.errors.Busy`). Every route gets this, whoever wrote it.

On SQLite every request but a bulk feed runs first with a deferred transaction
(`deferred_writes`): it reads from a snapshot without the write lock and takes the lock only
at its first write, if no other writer holds it or committed since its snapshot; otherwise
SQLite refuses at once, nothing is stored, and the request runs again as an ordinary writer,
in line at the writer gate. So the lock is held for a request's writes only, not for the
reads, checks and rendering before them (GETs, back-tests and previews never take it at all).
Feed batches of more than ~100 rows are bulk writers (`bulk_writes`) from the start: on SQLite
every small write waiting for the lock goes before them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import nullcontext

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import BODY_KEY, WatchedSend
from api.problems import render_domain_error
from engine.platform.db import (
    RetryPolicy,
    bulk_writes,
    deferred_writes,
    is_contention,
    is_write_refused,
)

log = logging.getLogger("nudge.api")
BULK_PREFIX = "/v1/feeds/"
BULK_BYTES = 16 * 1024  # about a hundred readings: a feed smaller than this is a small write
WRITES = frozenset({"PATCH", "PUT", "DELETE"})  # deferred only while no other writer is in line


def is_bulk(scope: Scope) -> bool:
    """A feed batch of many rows: its write transaction lets small ones go first."""
    return (
        scope["method"] == "POST"
        and scope["path"].startswith(BULK_PREFIX)
        and len(scope.get(BODY_KEY, b"")) > BULK_BYTES
    )


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
        bulk = is_bulk(scope)
        reads_first = not bulk
        for attempt in range(policy.attempts):
            watched = WatchedSend(send)
            attempt_receive = receive if attempt == 0 else self._again(scope, receive)
            deferred = reads_first and attempt == 0
            try:
                with (
                    deferred_writes(scope["method"] in WRITES) if deferred else nullcontext(),
                    bulk_writes() if bulk else nullcontext(),
                ):
                    return await self.app(scope, attempt_receive, watched)
            except Exception as exc:
                if deferred and not watched.started and is_write_refused(exc):
                    # A GET that writes met another writer: again, as an ordinary writer.
                    log.info("read request wrote; running it again", extra={"path": scope["path"]})
                    continue
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
