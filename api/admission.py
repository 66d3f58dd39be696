"""Admission of feed batches.

One process works on a few batches at a time (``NUDGE_FEED_CONCURRENCY``), taken by turns of
API key, so that parsing and evaluating thousands of rows never crowds out the small requests
beside them, and one key's stream of batches never keeps another's waiting. A key with
``NUDGE_FEED_QUEUE_PER_KEY`` batches already waiting gets 429 with Retry-After.

With ``NUDGE_FEED_ROWS_PER_SECOND`` set, each key may also send only that many rows a second
on average (a bucket of ten seconds' worth): a batch's rows are counted from its answer, and a
key past its allowance gets 429 with the seconds until it is back within it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import BODY_KEY, header, send_problem
from api.retry import BULK_PREFIX, is_bulk
from engine.auth.service import key_id_of
from engine.errors import FeedQueueFull, FeedRowsOverLimit
from engine.platform.fair import FairSlots

BURST_SECONDS = 10.0  # a key may send this many seconds' worth of rows at once
ROW_BYTES = 100  # a batch refused whole (no counts in its answer) is charged by its size
_COUNTS = ("accepted", "duplicate", "corrected", "rejected")


class RowAllowance:
    """Rows each key may send: ``rate`` a second, up to ``rate × BURST_SECONDS`` at once.
    Charged after the batch (its rows are known once parsed), so a key may end in debt: it
    is refused until the debt is paid off."""

    def __init__(self, rate: float, now: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = rate * BURST_SECONDS
        self._now = now
        self._left: dict[str, tuple[float, float]] = {}  # key -> (rows left, when)

    def _current(self, key: str) -> float:
        left, since = self._left.get(key, (self.capacity, self._now()))
        return min(self.capacity, left + (self._now() - since) * self.rate)

    def wait_seconds(self, key: str) -> int:
        """Whole seconds until ``key`` may send again; 0 when it may now."""
        left = self._current(key)
        return 0 if left > 0 else max(1, math.ceil(-left / self.rate))

    def charge(self, key: str, rows: int) -> None:
        self._left[key] = (self._current(key) - rows, self._now())


def _rows(answer: bytes, body: bytes) -> int:
    try:
        document = json.loads(answer)
    except ValueError:
        document = None
    if isinstance(document, dict) and any(name in document for name in _COUNTS):
        return sum(int(document.get(name) or 0) for name in _COUNTS)
    return len(body) // ROW_BYTES


class FeedAdmissionMiddleware:
    def __init__(
        self, app: ASGIApp, concurrency: int, queue_per_key: int, rows_per_second: float = 0
    ) -> None:
        self.app = app
        self.slots = FairSlots(concurrency)
        self.queue_per_key = queue_per_key
        self.allowance = RowAllowance(rows_per_second) if rows_per_second > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        is_feed = (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].startswith(BULK_PREFIX)
        )
        if not is_feed:
            return await self.app(scope, receive, send)
        credential = (header(scope, b"authorization") or "").removeprefix("Bearer ").strip()
        key = key_id_of(credential) or ""
        refusal = self._refusal(key, bulk=is_bulk(scope))
        if refusal is not None:
            return await send_problem(scope, send, refusal)
        if not is_bulk(scope):
            return await self._counted(key, scope, receive, send)
        async with self.slots.slot(key):
            await self._counted(key, scope, receive, send)

    def _refusal(self, key: str, bulk: bool) -> FeedQueueFull | FeedRowsOverLimit | None:
        if self.allowance is not None:
            wait = self.allowance.wait_seconds(key)
            if wait:
                rate = f"{self.allowance.rate:g}"
                detail = f"this key may send {rate} rows a second; send again in {wait} s"
                return FeedRowsOverLimit(detail, retry_after=wait)
        if bulk and self.slots.waiting(key) >= self.queue_per_key:
            return FeedQueueFull(
                f"{self.queue_per_key} feed batches of this key are already waiting; "
                "send the next when one has been answered",
                retry_after=1,
            )
        return None

    async def _counted(self, key: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the feed; with an allowance, charge the key the rows its answer counts."""
        if self.allowance is None:
            return await self.app(scope, receive, send)
        answer = bytearray()

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.body":
                answer.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self.allowance.charge(key, _rows(bytes(answer), scope.get(BODY_KEY, b"")))
