"""Failed authentication, counted per client and per key id: past the limit, callers wait.

Process-local on purpose: it throttles guessing at the speed one process can answer; with
several processes an attacker gets each process's allowance, which stays a small number.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from engine.errors import TooManyRequests


class FailedAuthLimiter:
    def __init__(
        self,
        limit: int,
        window_seconds: float,
        now: Callable[[], float] = time.monotonic,
        max_tracked: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.now = now
        self.max_tracked = max_tracked
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, names: Iterable[str]) -> None:
        """Raise `TooManyRequests` if any of ``names`` failed ``limit`` times in the window."""
        now = self.now()
        with self._lock:
            waits = [self._wait(name, now) for name in names]
        wait = max(waits, default=0.0)
        if wait > 0:
            raise TooManyRequests(
                "too many failed authentication attempts; try again later",
                retry_after=max(1, math.ceil(wait)),
            )

    def failed(self, names: Iterable[str]) -> None:
        now = self.now()
        with self._lock:
            if len(self._failures) >= self.max_tracked:
                self._forget_idle(now)
            for name in names:
                times = self._failures.setdefault(name, deque(maxlen=self.limit))
                times.append(now)

    def _wait(self, name: str, now: float) -> float:
        times = self._failures.get(name)
        if times is None or len(times) < self.limit:
            return 0.0
        return times[0] + self.window - now

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, times in self._failures.items() if times[-1] + self.window <= now]
        for name in idle:
            del self._failures[name]
        if len(self._failures) >= self.max_tracked:
            self._failures.clear()  # under a flood of distinct names: start over
