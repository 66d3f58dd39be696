"""Running window aggregates: new readings add to them, corrections recompute them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from engine.feeds.repository import AggregateKey, ReadingRepository, ReadingRow, Totals
from rules.windows import Window, WindowKind, window_for

if TYPE_CHECKING:
    from engine.customers.repository import CustomerRef

Stream = tuple[str, str, str]  # customer_id, metric, window kind
_BUCKET = 900  # every UTC offset in use is a multiple of 15 minutes
_NONE_START = -(2**62)
_NONE_END = 2**62


class WindowCache:
    """``window_for`` memoised per zone, kind and quarter hour (windows never split one)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, int], Window] = {}

    def of(self, kind: str, ts: int, zone: str) -> Window:
        key = (kind, zone, ts // _BUCKET)
        window = self._cache.get(key)
        if window is None:
            kind_: WindowKind = kind  # type: ignore[assignment]
            window = self._cache[key] = window_for(kind_, datetime.fromtimestamp(ts, UTC), zone)
        return window

    def previous(self, window: Window) -> Window:
        return self.of(window.kind, self.ts(window) - 1, window.zone.key)

    def at(self, kind: str, start_ts: int, like: Window) -> Window:
        return like if self.ts(like) == start_ts else self.of(kind, start_ts, like.zone.key)

    @staticmethod
    def ts(window: Window) -> int:
        return _NONE_START if window.kind == "none" else int(window.start.timestamp())

    @staticmethod
    def end_ts(window: Window) -> int:
        return _NONE_END if window.kind == "none" else int(window.end.timestamp())


def _fold(
    current: list[Any] | None, start: int, end: int, value: float, window_end: int, unit: str
) -> list[Any]:
    if current is None:
        return [value, 1, value, value, start, value, end, window_end, unit]
    current[0] += value
    current[1] += 1
    current[2] = min(current[2], value)
    current[3] = max(current[3], value)
    if start >= current[4]:
        current[4], current[5] = start, value
    current[6] = max(current[6], end)
    return current


def _totals(acc: list[Any]) -> Totals:
    return Totals(acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7], acc[8])


class Aggregator:
    def __init__(
        self,
        readings: ReadingRepository,
        windows: WindowCache,
        customers: Mapping[str, CustomerRef],
    ) -> None:
        self.readings = readings
        self.windows = windows
        self.customers = customers
        self.fresh: dict[AggregateKey, Totals] = {}  # totals the last fold left behind

    def fold(
        self, new: Sequence[ReadingRow], corrected: Sequence[ReadingRow], streams: set[Stream]
    ) -> dict[Stream, list[Window]]:
        """Update the aggregates of ``streams``; the windows each stream had readings in.
        The new totals of windows that only gained readings are kept in ``fresh``."""
        kinds: dict[tuple[str, str], list[str]] = {}
        for customer, metric, kind in streams:
            kinds.setdefault((customer, metric), []).append(kind)
        deltas: dict[AggregateKey, list[Any]] = {}
        recompute: dict[AggregateKey, Window] = {}
        touched: dict[Stream, dict[int, Window]] = {}
        for rows, is_new in ((new, True), (corrected, False)):
            for row in rows:
                for kind in kinds.get((row[0], row[1]), ()):
                    window = self.windows.of(kind, row[2], self.customers[row[0]].timezone)
                    start = self.windows.ts(window)
                    key = (row[0], row[1], kind, start)
                    touched.setdefault((row[0], row[1], kind), {})[start] = window
                    if is_new:
                        deltas[key] = _fold(
                            deltas.get(key),
                            row[2],
                            row[2] + row[3],
                            row[5],
                            self.windows.end_ts(window),
                            row[6],
                        )
                    else:
                        recompute[key] = window
        fresh = self.readings.add_to_aggregates([(k, _totals(v)) for k, v in deltas.items()])
        self.recompute(recompute)
        for key in recompute:
            fresh.pop(key, None)  # rebuilt from the readings: read back like any other
        self.fresh = fresh
        return {stream: list(found.values()) for stream, found in touched.items()}

    def recompute(self, keys: Mapping[AggregateKey, Window]) -> None:
        """Rebuild these aggregates from the stored readings."""
        self.readings.replace_aggregates(self._recomputed(keys))

    def _recomputed(self, keys: Mapping[AggregateKey, Window]) -> list[tuple[AggregateKey, Totals]]:
        rows: list[tuple[AggregateKey, Totals]] = []
        for key, window in keys.items():
            start, end = self.windows.ts(window), self.windows.end_ts(window)
            acc: list[Any] | None = None
            for r_start, duration, value, unit in self.readings.window_readings(
                key[0], key[1], start, end
            ):
                acc = _fold(acc, r_start, r_start + duration, value, end, unit)
            if acc is not None:
                rows.append(
                    (
                        key,
                        Totals(acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], end, acc[8]),
                    )
                )
        return rows
