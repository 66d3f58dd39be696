"""Which tenant a feed key belongs to and how many rows a second that tenant may send.

The admission of feed batches asks this for every batch, so answers are kept for
``TTL_SECONDS``: a key costs one small query when first seen and then once every few seconds
(a revoked key, or one of an erased tenant, is seen as such within that time). A change made
through the admin API is forgotten here as soon as it commits, so in the process that made it
the next batch already sees it; other processes see it within ``TTL_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000  # keys remembered at once; past it, the expired ones are dropped


@dataclass(frozen=True)
class KeyTenant:
    """What the database says of a feed key: its tenant and the tenant's own allowance
    (None: the platform default; 0: no limit)."""

    tenant_id: str
    feed_rows_per_second: int | None


@dataclass(frozen=True)
class FeedAllowance:
    """Whose allowance a batch counts against (a tenant, or an unknown key on its own) and
    how many rows a second it is (0: no limit)."""

    owner: str
    rows_per_second: float


class FeedAllowances:
    """Feed keys' tenants and allowances, from ``load`` (one query; call it off the event
    loop), remembered for ``ttl`` seconds. ``default`` is the platform's allowance for a
    tenant without one of its own (``NUDGE_FEED_ROWS_PER_SECOND``)."""

    def __init__(
        self,
        load: Callable[[str], KeyTenant | None],
        default: float,
        ttl: float = TTL_SECONDS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self.default = default
        self.ttl = ttl
        self._now = now
        self._lock = threading.Lock()
        self._known: dict[str, tuple[FeedAllowance, float]] = {}  # key id -> (answer, until)
        self._changes = 0  # tenants forgotten so far: a load that saw older data is not kept

    def cached(self, key_id: str) -> FeedAllowance | None:
        """The remembered answer for ``key_id``, None when there is none or it expired."""
        known = self._known.get(key_id)
        if known is None or known[1] <= self._now():
            return None
        return known[0]

    def load(self, key_id: str) -> FeedAllowance:
        """Ask the database (blocking) and remember the answer."""
        with self._lock:
            changes = self._changes
        found = self._load(key_id)
        answer = self._allowance(key_id, found)
        with self._lock:
            if changes == self._changes:
                self._prune()
                self._known[key_id] = (answer, self._now() + self.ttl)
        return answer

    def forget(self, tenant_id: str) -> None:
        """The tenant's allowance changed: its keys are asked for again."""
        with self._lock:
            self._changes += 1
            for key_id, (answer, _) in list(self._known.items()):
                if answer.owner == tenant_id:
                    del self._known[key_id]

    def _allowance(self, key_id: str, found: KeyTenant | None) -> FeedAllowance:
        if found is None:  # unknown or revoked: refused by authentication anyway
            return FeedAllowance(f"key:{key_id}", self.default)
        own = found.feed_rows_per_second
        return FeedAllowance(found.tenant_id, self.default if own is None else float(own))

    def _prune(self) -> None:
        if len(self._known) < MAX_ENTRIES:
            return
        now = self._now()
        for key_id, (_, until) in list(self._known.items()):
            if until <= now:
                del self._known[key_id]
        if len(self._known) >= MAX_ENTRIES:
            self._known.clear()
