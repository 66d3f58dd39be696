"""Pure back-test: replay history through a rule with live semantics and list what would fire.

Readings are deduplicated by (start, duration), the last occurrence winning as a correction
would, then replayed in time order; each arrives at its end, so nothing is late. ``previous`` is
the complete preceding window and ``baseline`` the rule's ``baseline_windows`` windows before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rules.aggregates import Accumulator, Baseline, Reading, WindowStats, baseline_of
from rules.condition import evaluate
from rules.context import Context, Customer, Event
from rules.errors import RuleError
from rules.state import Decision, TriggerState
from rules.trigger import CompiledRule, assess
from rules.windows import Window, iso_utc, window_for, zone_of

# What a back-test finds is what live evaluation decides: one shape for both.
BacktestHit = Decision


def backtest(
    rule: CompiledRule,
    params: Mapping[str, Any],
    customer: Customer,
    readings: Iterable[Reading],
) -> list[BacktestHit]:
    """Every transition a threshold rule would have made over ``readings``, in time order."""
    if rule.definition.kind != "threshold":
        raise RuleError("backtest replays readings: use backtest_events for event rules")
    checked = rule.definition.validate_params(params)
    replay = _Replay(rule, checked, customer, zone_of(customer.timezone))
    for reading in _distinct_in_time_order(readings):
        replay.feed(reading)
    return replay.hits


def backtest_events(
    rule: CompiledRule, params: Mapping[str, Any], customer: Customer, events: Iterable[Event]
) -> list[BacktestHit]:
    """Every event (in time order) for which an event rule's condition would have been true."""
    checked = rule.definition.validate_params(params)
    hits = []
    for event in sorted(events, key=lambda e: e.occurred_at):
        ctx = Context(checked, customer, event.occurred_at, event=event)
        evaluation = evaluate(rule.condition, ctx)
        if evaluation.result:
            key = f"e:{event.type}@{iso_utc(event.occurred_at)}"
            hits.append(
                BacktestHit(
                    "fire",
                    key,
                    event.occurred_at,
                    event.occurred_at,
                    event.occurred_at,
                    event.amount,
                    evaluation.values,
                )
            )
    return hits


class _Replay:
    """Feeds readings in time order through per-window accumulators and trigger states."""

    def __init__(
        self, rule: CompiledRule, params: dict[str, Any], customer: Customer, zone: ZoneInfo
    ) -> None:
        self.rule, self.params, self.customer, self.zone = rule, params, customer, zone
        self.totals: dict[datetime, Accumulator] = {}
        self.states: dict[datetime, TriggerState] = {}
        self.history: dict[datetime, tuple[WindowStats | None, Baseline | None]] = {}
        self.window: Window | None = None
        self.hits: list[BacktestHit] = []

    def feed(self, reading: Reading) -> None:
        window = self._window_of(reading.start)
        acc = self.totals.setdefault(window.start, Accumulator())
        acc.add(reading)
        now = reading.end
        previous, baseline = self._history(window)
        ctx = Context(self.params, self.customer, now, acc.stats(window, now), previous, baseline)
        state, decision, _ = assess(self.rule, ctx, self.states.get(window.start))
        self.states[window.start] = state
        if decision is not None:
            self.hits.append(decision)

    def _window_of(self, instant: datetime) -> Window:
        if self.window is None or not self.window.contains(instant):
            self.window = window_for(self.rule.window_kind, instant, self.zone)
        return self.window

    def _history(self, window: Window) -> tuple[WindowStats | None, Baseline | None]:
        """Previous window and baseline, computed once per window (earlier ones are complete)."""
        if window.kind == "none":
            return None, None
        if window.start not in self.history:
            earlier = self._earlier(window, self.rule.definition.baseline_windows)
            self.history[window.start] = (earlier[0], baseline_of(earlier))
        return self.history[window.start]

    def _earlier(self, window: Window, count: int) -> list[WindowStats]:
        stats = []
        for _ in range(count):
            window = window.previous()
            acc = self.totals.get(window.start) or Accumulator()
            stats.append(acc.stats(window, window.end))
        return stats


def _distinct_in_time_order(readings: Iterable[Reading]) -> list[Reading]:
    latest: dict[tuple[datetime, timedelta], Reading] = {}
    for reading in readings:
        latest[(reading.start, reading.duration)] = reading
    return sorted(latest.values(), key=lambda r: (r.start, r.duration))
