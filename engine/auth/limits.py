"""Failed authentication, counted per client and per key id: past the limit, callers wait.

A client past the limit waits whatever it sends. A key id past the limit refuses only wrong
secrets: the right one still passes, so nobody who merely knows a key's id (no secret) can
lock its owner out. The limit is against load and noise, not guessing.

Per process on purpose (docs/operations.md says why): with N api processes a client gets up to
N times the allowance, which changes nothing for guessing (a key's secret has 256 bits, a
customer token is an HMAC), while a count shared through the database would cost a write for
every request that carries no valid credential. A client is its IPv4 address or its IPv6 /64,
the block one subscriber gets.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from engine.errors import TooManyRequests

IPV6_CLIENT_PREFIX = 64
CLIENT, KEY = "client:", "key:"


def attempt_names(client_host: str | None, key_id: str | None) -> list[str]:
    """What a failed attempt counts against: its client and, if it named one, the key id."""
    names = [CLIENT + client_of(client_host)]
    return names + [KEY + key_id] if key_id else names


def client_of(host: str | None) -> str:
    """The client an address belongs to: an IPv4 address (mapped ones too), or the /64 of an
    IPv6 one (a subscriber has the whole block, so counting each address would count
    nothing); anything else as given."""
    if not host:
        return "-"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


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
        """Before a credential is checked: `TooManyRequests` if a client among ``names`` failed
        ``limit`` times in the window. A key id is judged only once its secret proved wrong
        (`failed`), so others guessing at a key's id never lock out whoever holds its secret."""
        clients = [name for name in names if not name.startswith(KEY)]
        with self._lock:
            self._refuse_if_over(clients, self.now())

    def failed(self, names: Iterable[str]) -> None:
        """Count a failed attempt against ``names``; past the limit of any of them (the client
        or the key id it named) `TooManyRequests` instead, and the attempt is not counted."""
        now = self.now()
        names = list(names)
        with self._lock:
            self._refuse_if_over(names, now)
            if len(self._failures) >= self.max_tracked:
                self._forget_idle(now)
            for name in names:
                times = self._failures.setdefault(name, deque(maxlen=self.limit))
                times.append(now)

    def _refuse_if_over(self, names: Iterable[str], now: float) -> None:
        wait = max((self._wait(name, now) for name in names), default=0.0)
        if wait > 0:
            raise TooManyRequests(
                "too many failed authentication attempts; try again later",
                retry_after=max(1, math.ceil(wait)),
            )

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
