"""A threshold trigger's windows as evaluation keeps them: where its current window stands,
and the aggregates a new or moved trigger reads, built from the stored readings."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from engine.catalog.compiled import CompiledRule
from engine.customers.refs import CustomerRef
from engine.evaluation.aggregation import Aggregator, WindowCache
from engine.evaluation.ports import AggregateStore
from engine.evaluation.repository import EvaluationRepository
from engine.evaluation.stats import StatsReader
from engine.evaluation.totals import AggregateKey
from rules import state as machine
from rules.windows import Window


class WindowStatus(NamedTuple):
    """The trigger's state in its current window and the aggregate it watches there."""

    status: str
    last_value: float | None = None
    window: Window | None = None  # None for triggers without a bounded window


class TriggerWindows:
    def __init__(self, states: EvaluationRepository, store: AggregateStore) -> None:
        self.states = states
        self.store = store
        self.windows = WindowCache()

    def status(
        self, trigger_id: str, rule: CompiledRule, customer: CustomerRef, now: datetime
    ) -> WindowStatus:
        d = rule.definition
        if d.kind != "threshold" or d.window is None:
            return WindowStatus("armed")
        slot = self.windows.slot(d.window, int(now.timestamp()), customer.timezone)
        row = self.states.states([(trigger_id, slot.start)]).get((trigger_id, slot.start))
        status = machine.TriggerState.from_json(row.state).status if row else "armed"
        key = (customer.id, d.metric or "", d.window, slot.start)
        found = self.store.aggregates.get([key]).get(key)
        last = None
        if found is not None and d.aggregate is not None:
            last = StatsReader(now).stats(slot, found).value(d.aggregate)
        bounded = slot.window if slot.window.kind != "none" else None
        return WindowStatus(status, last, bounded)

    def backfill(self, customer: CustomerRef, rule: CompiledRule, now: datetime) -> None:
        """Build the aggregates this rule's trigger reads (current, previous, baseline
        windows) from the readings stored for the customer, in the customer's zone."""
        d = rule.definition
        assert d.window is not None and d.metric is not None
        window = self.windows.of(d.window, int(now.timestamp()), customer.timezone)
        windows: list[Window] = [window]
        if d.window != "none":
            for _ in range(d.baseline_windows):
                windows.append(self.windows.previous(windows[-1]))
        keys: dict[AggregateKey, Window] = {
            (customer.id, d.metric, d.window, self.windows.ts(w)): w for w in windows
        }
        Aggregator(self.store, self.windows, {customer.id: customer}).recompute(keys)

    def erase_for(self, customer_id: str) -> None:
        """Erasure: the customer's window aggregates go (their trigger states go with the
        triggers)."""
        self.store.aggregates.delete_for_customer(customer_id)
