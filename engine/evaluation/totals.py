"""A window's running aggregate, as evaluation keeps it per customer, metric and window."""

from __future__ import annotations

from typing import NamedTuple

AggregateKey = tuple[str, str, str, int]  # customer_id, metric, window kind, window start


class Totals(NamedTuple):
    """Running aggregate of one window; times in epoch seconds, money in minor units."""

    total: float
    samples: int
    low: float
    high: float
    last_start: int
    last_value: float
    covered_until: int
    end: int
    unit: str
