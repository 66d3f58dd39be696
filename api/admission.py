"""Admission of feed batches: one process works on a few at a time (``NUDGE_FEED_CONCURRENCY``),
taken by turns of API key, so that parsing and evaluating thousands of rows never crowds out
the small requests beside them, and one key's stream of batches never keeps another's
waiting. A key with ``NUDGE_FEED_QUEUE_PER_KEY`` batches already waiting gets 429 with
Retry-After for the next one."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.middleware import header, send_problem
from api.retry import is_bulk
from engine.auth.service import key_id_of
from engine.errors import FeedQueueFull
from engine.platform.fair import FairSlots


class FeedAdmissionMiddleware:
    def __init__(self, app: ASGIApp, concurrency: int, queue_per_key: int) -> None:
        self.app = app
        self.slots = FairSlots(concurrency)
        self.queue_per_key = queue_per_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_bulk(scope):
            return await self.app(scope, receive, send)
        credential = (header(scope, b"authorization") or "").removeprefix("Bearer ").strip()
        key = key_id_of(credential) or ""
        if self.slots.waiting(key) >= self.queue_per_key:
            full = FeedQueueFull(
                f"{self.queue_per_key} feed batches of this key are already waiting; "
                "send the next when one has been answered",
                retry_after=1,
            )
            return await send_problem(scope, send, full)
        async with self.slots.slot(key):
            await self.app(scope, receive, send)
