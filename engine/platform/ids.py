"""Time-ordered, URL-safe identifiers: sorting by id is sorting by creation time.

ULID layout (48-bit milliseconds + 80 random bits, Crockford base32), monotonic within a
process so that entries created in the same millisecond keep their order.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_RANDOM_BITS = 80
_lock = threading.Lock()
_last = (0, 0)
# Every pair of base-32 digits, by its 10-bit value: an id's 26 digits are 13 lookups.
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]
_SHIFTS = range(120, -1, -10)


def _encode(millis: int, rand: int) -> str:
    """The 26 base-32 digits of ``millis`` (10 digits) then ``rand`` (16), most significant
    first, two at a time (a digit-by-digit loop costs a few microseconds an id, and a batch
    that decides many makes thousands)."""
    number = (millis << _RANDOM_BITS) | rand
    return "".join([_PAIRS[(number >> shift) & 1023] for shift in _SHIFTS])


def _next() -> tuple[int, int]:
    global _last
    millis = time.time_ns() // 1_000_000
    with _lock:
        last_millis, last_rand = _last
        if millis <= last_millis:
            millis, rand = last_millis, last_rand + 1
            if rand >> _RANDOM_BITS:
                millis, rand = millis + 1, 0
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 1  # headroom for increments
        _last = (millis, rand)
    return millis, rand


def new_id(prefix: str) -> str:
    """``prefix_`` followed by 26 characters that sort in creation order."""
    millis, rand = _next()
    return f"{prefix}_{_encode(millis, rand)}"
