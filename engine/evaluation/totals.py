"""A window's running aggregate, as evaluation keeps it per customer, metric and window."""

from __future__ import annotations

from typing import NamedTuple

AggregateKey = tuple[str, str, str, int]  # customer_id, metric, window kind, window start


# The revision of totals not read from a stored row (worked out from readings).
UNSTORED = -1


class Totals(NamedTuple):
    """Running aggregate of one window; times in epoch seconds, money in minor units. With
    the revision of the row they were read from (or are to be written as): every statement
    that changes a window's row adds one to it."""

    total: float
    samples: int
    low: float
    high: float
    last_start: int
    last_value: float
    covered_until: int
    end: int
    unit: str
    revision: int

    def figures(self) -> tuple[float, int, float, float, int, float, int, int, str]:
        """The totals without their revision."""
        return self[:9]
