"""Window statistics as conditions and pages see them: stored totals at one instant, money
in major units."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from engine.evaluation.aggregation import Slot
from engine.evaluation.totals import Totals
from engine.units import is_currency, minor_exponent
from rules.aggregates import WindowStats, stats_at


@lru_cache(maxsize=64)
def unit_scale(unit: str) -> float:
    """Factor from stored to condition units: minor to major units of money, else 1."""
    return 10.0 ** -minor_exponent(unit) if is_currency(unit) else 1.0


class StatsReader:
    """Window statistics as conditions see them at one instant, money in major units
    (``51.2`` EUR). Each window's elapsed fractions are worked out once: a batch asks about
    the same few windows thousands of times."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._fractions: dict[tuple[int, int, int | None], float] = {}

    def stats(self, slot: Slot, totals: Totals | None) -> WindowStats:
        if totals is None or totals.samples == 0:
            return WindowStats.empty(slot.window, self.now)
        scale = unit_scale(totals.unit)
        return stats_at(
            slot.window,
            self._elapsed(slot, None),
            self._elapsed(slot, totals.covered_until),
            totals.total * scale,
            totals.samples,
            totals.low * scale,
            totals.high * scale,
            totals.last_value * scale,
        )

    def _elapsed(self, slot: Slot, until: int | None) -> float:
        """Fraction of the window passed at ``until`` (epoch seconds; None: now)."""
        key = (slot.start, slot.end, until)
        found = self._fractions.get(key)
        if found is None:
            at = self.now if until is None else datetime.fromtimestamp(until, UTC)
            found = self._fractions[key] = slot.window.elapsed(at)
        return found
