"""Admission of feed batches.

One process works on a few batches at a time (``NUDGE_FEED_CONCURRENCY``), taken by turns of
tenant (all its feed keys together), so that parsing and evaluating thousands of rows never
crowds out the small requests beside them, and one tenant's stream of batches never keeps
another's waiting. A tenant with ``NUDGE_FEED_QUEUE_PER_KEY`` batches already waiting gets 429
with Retry-After.

Each tenant may also send only so many rows a second on average (a bucket of ten seconds'
worth): its own allowance, set by the platform admin (``PATCH /v1/tenants/{id}``), or else the
platform default ``NUDGE_FEED_ROWS_PER_SECOND`` (0: no limit). A batch's rows are counted from
its answer, and a tenant past its allowance gets 429 with the seconds until it is back within
it. Which tenant a key belongs to, and its allowance, come from `FeedAllowances` (remembered
for a few seconds: no query per batch). Counted in each process: with several API processes
behind a balancer, a tenant may send up to that many times its allowance in all.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import BODY_KEY, header, send_problem
from api.retry import BULK_PREFIX, is_bulk
from engine.auth.service import key_id_of
from engine.errors import FeedQueueFull, FeedRowsOverLimit
from engine.platform.db import read_snapshot
from engine.platform.fair import FairSlots
from engine.processes.container import Services
from engine.processes.runtime import Runtime
from engine.tenants.allowances import FeedAllowance, FeedAllowances, KeyTenant

BURST_SECONDS = 10.0  # a key may send this many seconds' worth of rows at once
ROW_BYTES = 100  # a batch refused whole (no counts in its answer) is charged by its size
_COUNTS = ("accepted", "duplicate", "corrected", "rejected")
UNCHARGED = frozenset({401, 403})  # refused for its credentials: not the tenant's batch


class RowAllowance:
    """Rows each owner (a tenant) may send: ``rate`` a second, up to ``rate × BURST_SECONDS``
    at once; the rate is the owner's as of each call, so a changed allowance applies at once.
    Charged after the batch (its rows are known once parsed), so an owner may end in debt: it
    is refused until the debt is paid off."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._left: dict[str, tuple[float, float]] = {}  # owner -> (rows left, when)

    def _current(self, owner: str, rate: float) -> float:
        capacity = rate * BURST_SECONDS
        left, since = self._left.get(owner, (capacity, self._now()))
        return min(capacity, left + (self._now() - since) * rate)

    def wait_seconds(self, owner: str, rate: float) -> int:
        """Whole seconds until ``owner`` may send again; 0 when it may now (or ``rate`` is 0:
        no limit)."""
        if rate <= 0:
            return 0
        left = self._current(owner, rate)
        return 0 if left > 0 else max(1, math.ceil(-left / rate))

    def charge(self, owner: str, rows: int, rate: float) -> None:
        if rate <= 0:
            self._left.pop(owner, None)
            return
        left = self._current(owner, rate) - rows
        if left >= rate * BURST_SECONDS:
            self._left.pop(owner, None)  # full: nothing to remember
        else:
            self._left[owner] = (left, self._now())


def _rows(answer: bytes, body: bytes) -> int:
    try:
        document = json.loads(answer)
    except ValueError:
        document = None
    if isinstance(document, dict) and any(name in document for name in _COUNTS):
        return sum(int(document.get(name) or 0) for name in _COUNTS)
    return len(body) // ROW_BYTES


def feed_allowances(runtime: Runtime) -> FeedAllowances:
    """The process's directory of feed keys' tenants and allowances, read from ``runtime``'s
    database in a snapshot (no write lock), with the platform default from its settings."""

    def load(key_id: str) -> KeyTenant | None:
        with read_snapshot(runtime.db) as session:
            services = Services(session, runtime.settings, runtime.clock, runtime.cache)
            return services.tenants.feed_allowance_of_key(key_id)

    return FeedAllowances(load, runtime.settings.feed_rows_per_second)


class FeedAdmissionMiddleware:
    """Feed batches by turns of tenant, each tenant within its row allowance. Without
    ``allowances`` (a bare stack in tests) each key is its own owner, with no row limit."""

    def __init__(
        self,
        app: ASGIApp,
        concurrency: int,
        queue_per_key: int,
        allowances: FeedAllowances | None = None,
    ) -> None:
        self.app = app
        self.slots = FairSlots(concurrency)
        self.queue_per_key = queue_per_key
        self.allowances = allowances
        self.rows = RowAllowance()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        is_feed = (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].startswith(BULK_PREFIX)
        )
        if not is_feed:
            return await self.app(scope, receive, send)
        credential = (header(scope, b"authorization") or "").removeprefix("Bearer ").strip()
        allowance = await self._allowance(key_id_of(credential) or "")
        refusal = self._refusal(allowance, bulk=is_bulk(scope))
        if refusal is not None:
            return await send_problem(scope, send, refusal)
        if not is_bulk(scope):
            return await self._counted(allowance, scope, receive, send)
        async with self.slots.slot(allowance.owner):
            await self._counted(allowance, scope, receive, send)

    async def _allowance(self, key_id: str) -> FeedAllowance:
        if self.allowances is None:
            return FeedAllowance(f"key:{key_id}", 0)
        if not key_id:  # not a key: refused by authentication
            return FeedAllowance("key:", self.allowances.default)
        cached = self.allowances.cached(key_id)
        if cached is not None:
            return cached
        return await anyio.to_thread.run_sync(self.allowances.load, key_id)

    def _refusal(
        self, allowance: FeedAllowance, bulk: bool
    ) -> FeedQueueFull | FeedRowsOverLimit | None:
        wait = self.rows.wait_seconds(allowance.owner, allowance.rows_per_second)
        if wait:
            rate = f"{allowance.rows_per_second:g}"
            detail = (
                f"this tenant's feed keys may send {rate} rows a second together; "
                f"send again in {wait} s"
            )
            return FeedRowsOverLimit(detail, retry_after=wait)
        if bulk and self.slots.waiting(allowance.owner) >= self.queue_per_key:
            return FeedQueueFull(
                f"{self.queue_per_key} feed batches of this tenant are already waiting; "
                "send the next when one has been answered",
                retry_after=1,
            )
        return None

    async def _counted(
        self, allowance: FeedAllowance, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Run the feed; with an allowance, charge its owner the rows its answer counts. A
        batch refused for its credentials is not charged: a key's id is no secret, and
        sending with it must not spend its tenant's allowance."""
        if allowance.rows_per_second <= 0:
            return await self.app(scope, receive, send)
        answer = bytearray()
        status = [0]

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body":
                answer.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if status[0] not in UNCHARGED:
                rows = _rows(bytes(answer), scope.get(BODY_KEY, b""))
                self.rows.charge(allowance.owner, rows, allowance.rows_per_second)
