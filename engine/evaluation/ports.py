"""What evaluation needs of other domains, as interfaces it owns: the wiring passes their
repositories in (`engine.processes.container`), so evaluation imports none of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from engine.evaluation.aggregates_repository import AggregateRepository
from engine.models import Notification


class WindowReadings(Protocol):
    """The stored readings of a window, to rebuild its aggregate after a correction."""

    def window_readings(
        self, customer_id: str, metric: str, start: int, end: int
    ) -> list[tuple[int, int, float, str]]: ...


class AggregateStore(NamedTuple):
    """Window aggregates (evaluation's own table) and the readings they are rebuilt from."""

    aggregates: AggregateRepository
    readings: WindowReadings


class NotificationStore(Protocol):
    """Where decisions become notifications, and open ones are found again."""

    def insert_unique(self, values: dict[str, Any]) -> bool: ...

    def by_occurrence(self, trigger_id: str, occurrence: str) -> list[Notification]: ...

    def insert_unique_many(self, rows: Sequence[dict[str, Any]]) -> set[str]: ...

    def open_for_occurrences(
        self, trigger_ids: Sequence[str], occurrence_prefix: str
    ) -> list[Notification]: ...

    def save(self, row: Notification) -> None: ...

    def erase_for_customer(self, customer_id: str, now: datetime, reason: str) -> None: ...
