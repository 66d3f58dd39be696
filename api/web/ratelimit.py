"""A small in-process limiter for sign-in link requests: so many per address and per client
in a sliding window. Each process counts for itself (a deployment of N api processes lets
through at most N times the limit)."""

from __future__ import annotations

import threading
from collections import deque

MAX_KEYS = 100_000


class SlidingLimit:
    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def refusal(self, key: str, now: float) -> float:
        """Count a request for ``key`` at ``now``: 0 within the limit; over it, the seconds
        until the oldest request counted leaves the window (the request is not counted)."""
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= MAX_KEYS:
                    self._forget_idle(now)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window_s - now
            hits.append(now)
            return 0.0

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window_s]
        for key in idle:
            del self._hits[key]
        if len(self._hits) >= MAX_KEYS:  # everyone is active: start counting afresh
            self._hits.clear()


class SignInLimits:
    """Per address (5 an hour) and per client address (20 an hour)."""

    def __init__(
        self, per_address: int = 5, per_client: int = 20, window_s: float = 3600.0
    ) -> None:
        self.address = SlidingLimit(per_address, window_s)
        self.client = SlidingLimit(per_client, window_s)

    def refusal(self, address: str, client: str, now: float) -> float:
        """Count a request: 0 if both limits take it, else the seconds to wait (Retry-After)."""
        by_client = self.client.refusal(client, now)
        return max(self.address.refusal(address.strip().lower(), now), by_client)
