"""What other domains may read of a customer's stored readings: back-tests and previews replay
them. The feeds' repository stays inside feeds."""

from __future__ import annotations

from engine.feeds.repository import ReadingRepository


class StoredReadings:
    def __init__(self, repo: ReadingRepository) -> None:
        self._repo = repo

    def window_readings(
        self, customer_id: str, metric: str, start: int, end: int
    ) -> list[tuple[int, int, float, str]]:
        """(start, duration, value, unit) of the readings that start in ``[start, end)``."""
        return self._repo.window_readings(customer_id, metric, start, end)
