"""Before saving a threshold alert: how often it would have notified on the customer's own
readings, per window, by the same back-test the operations staff use (live semantics)."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.catalog.compiled import CompiledRule
from engine.evaluation.occurrences import event_context
from engine.feeds.stored import StoredReadings
from engine.models import Customer
from engine.platform.clock import Clock
from engine.portal.repository import PortalRepository
from engine.triggers.service import check_params
from rules.aggregates import Reading
from rules.backtest import backtest, backtest_events
from rules.context import Customer as CustomerContext
from rules.windows import Window, window_for, zone_of

# How far back a preview looks, in windows of the rule's kind (event rules: a year of events).
LOOK_BACK = {"hour": 7 * 24, "day": 90, "week": 26, "month": 12}
EVENTS_LOOK_BACK = timedelta(days=365)
EVENT = "event"  # the preview's "window" for event rules: one bar per event
MAX_REPLAY = 2_400  # readings one preview replays: 90 days of hourly readings and a few more


@dataclass(frozen=True, slots=True)
class PreviewWindow:
    start: datetime
    end: datetime
    value: float | None  # None: no readings in this window
    fired: bool


@dataclass(frozen=True)
class Preview:
    """The rule's windows over the look-back, which would have notified, and the limit."""

    params: dict[str, Any]
    window: str = ""
    aggregate: str = ""
    windows: list[PreviewWindow] = field(default_factory=list)
    limit: float | None = None
    limit_unit: str | None = None
    applicable: bool = True  # False: not a threshold rule over bounded windows

    @property
    def hits(self) -> int:
        return sum(1 for w in self.windows if w.fired)

    @property
    def has_data(self) -> bool:
        return any(w.value is not None for w in self.windows)


def limit_parameter(rule: CompiledRule) -> tuple[str, str | None] | None:
    """The parameter the condition compares against (the first number), and its unit."""
    for spec in rule.definition.parameters:
        if spec.type in ("double", "int"):
            return spec.name, spec.unit
    return None


class PreviewService:
    def __init__(self, readings: StoredReadings, repo: PortalRepository, clock: Clock) -> None:
        self.readings = readings
        self._repo = repo
        self.clock = clock

    def preview(self, customer: Customer, rule: CompiledRule, values: dict[str, Any]) -> Preview:
        """Raises InvalidInput naming each parameter that does not fit the rule."""
        d = rule.definition
        params = check_params(d, values)
        if d.kind == "event" and d.event_type:
            return self._events(customer, rule, params)
        if d.kind != "threshold" or d.window not in LOOK_BACK or d.aggregate is None:
            return Preview(params, applicable=False)
        windows = self._windows(d.window, customer.timezone)
        before = (
            (d.baseline_windows if rule.reads_baseline else 1)
            if (rule.reads_previous or rule.reads_baseline)
            else 0
        )  # previous and baseline read the windows before the first shown
        readings = self._readings(
            customer.id, d.metric or "", _back(windows[0], before).start, windows[-1].end
        )
        windows, readings = _within_budget(windows, readings, before)
        context = CustomerContext(customer.locale, customer.timezone, customer.attributes)
        fired = {
            h.window_start
            for h in backtest(rule.core, params, context, readings)
            if h.action == "fire"
        }
        limit = limit_parameter(rule)
        return Preview(
            params,
            d.window,
            d.aggregate,
            _per_window(windows, readings, d.aggregate, fired),
            float(params[limit[0]]) if limit else None,
            limit[1] if limit else None,
        )

    def _events(self, customer: Customer, rule: CompiledRule, params: dict[str, Any]) -> Preview:
        """Event rules: each of the last year's events of the rule's type, and whether the
        condition would have been true for it."""
        since = self.clock.now() - EVENTS_LOOK_BACK
        events = self._repo.events_since(customer.id, rule.definition.event_type or "", since)
        contexts = [event_context(e) for e in events]
        context = CustomerContext(customer.locale, customer.timezone, customer.attributes)
        fired = {h.at for h in backtest_events(rule.core, params, context, contexts)}
        limit = limit_parameter(rule)
        return Preview(
            params,
            EVENT,
            "amount",
            [
                PreviewWindow(e.occurred_at, e.occurred_at, e.amount, e.occurred_at in fired)
                for e in contexts
            ],
            float(params[limit[0]]) if limit else None,
            limit[1] if limit else None,
        )

    def _windows(self, kind: Any, zone: str) -> list[Window]:
        """The last complete windows, oldest first (the current one is still open)."""
        current = window_for(kind, self.clock.now(), zone_of(zone))
        windows = [current.previous()]
        for _ in range(LOOK_BACK[kind] - 1):
            windows.append(windows[-1].previous())
        return windows[::-1]

    def _readings(
        self, customer_id: str, metric: str, start: datetime, end: datetime
    ) -> list[Reading]:
        rows = self.readings.window_readings(
            customer_id, metric, int(start.timestamp()), int(end.timestamp())
        )
        return [
            Reading(datetime.fromtimestamp(s, UTC), timedelta(seconds=d), v) for s, d, v, _ in rows
        ]


def _back(window: Window, count: int) -> Window:
    for _ in range(count):
        window = window.previous()
    return window


def _within_budget(
    windows: list[Window], readings: list[Reading], before: int
) -> tuple[list[Window], list[Reading]]:
    """The most recent windows whose readings the back-test replays within ``MAX_REPLAY``
    (at least one window): a page stays fast, and says how many windows it looked at."""
    starts = [r.start for r in readings]
    while True:
        first = bisect_left(starts, _back(windows[0], before).start)
        excess = len(readings) - first - MAX_REPLAY
        if excess <= 0 or len(windows) == 1:
            return windows, readings[first:]
        per_window = max(_count(starts, windows[0]), _count(starts, windows[-1]), 1)
        skip = max(1, excess // per_window)  # windows hold about as many as the fuller end
        windows = windows[min(skip, len(windows) - 1) :]


def _count(starts: list[datetime], window: Window) -> int:
    return bisect_left(starts, window.end) - bisect_left(starts, window.start)


def _per_window(
    windows: list[Window], readings: list[Reading], aggregate: str, fired: set[datetime]
) -> list[PreviewWindow]:
    """Each window's aggregate for the chart (readings and windows both in time order)."""
    values: dict[datetime, list[float]] = {}
    index, count = 0, len(windows)
    for reading in readings:
        while index < count and reading.start >= windows[index].end:
            index += 1
        if index == count:
            break
        if reading.start >= windows[index].start:
            values.setdefault(windows[index].start, []).append(reading.value)
    return [
        PreviewWindow(w.start, w.end, _aggregate(aggregate, values.get(w.start)), w.start in fired)
        for w in windows
    ]


def _aggregate(name: str, values: list[float] | None) -> float | None:
    if not values:
        return None
    if name == "sum":
        return sum(values)
    if name == "avg":
        return sum(values) / len(values)
    if name == "count":
        return float(len(values))
    return {"min": min, "max": max}.get(name, lambda v: v[-1])(values)
