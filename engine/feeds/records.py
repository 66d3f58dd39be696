"""Readings as stored: their key and their row, in the order of the readings table."""

from __future__ import annotations

ReadingKey = tuple[str, str, int, int]  # customer_id, metric, start, duration
# customer_id, metric, start, duration, tenant_id, value, unit, quality, received_at, batch
ReadingRow = tuple[str, str, int, int, str, float, str, str | None, int, str]
