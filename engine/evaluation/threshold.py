"""Threshold rules: fold new readings into window aggregates, evaluate the touched windows,
step each trigger's per-window state and write the decisions."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache

from engine.customers.repository import CustomerRef
from engine.evaluation.aggregation import Aggregator, Slot, Stream, WindowCache
from engine.evaluation.decisions import Decision, DecisionWriter, localized, why
from engine.evaluation.plan import Plan
from engine.feeds.cache import TenantEntries, plans_through
from engine.feeds.parsing.currency import minor_exponent
from engine.feeds.parsing.units import is_currency
from engine.feeds.repository import AggregateKey, ReadingRepository, ReadingRow, Totals
from engine.models import NotificationStatus
from engine.models import TriggerState as StateRow
from engine.platform.clock import Clock
from engine.platform.metrics import evaluations
from engine.triggers.repository import TriggerRepository
from rules import state as machine
from rules.aggregates import WindowStats, baseline_of, stats_at
from rules.condition import evaluate
from rules.context import Context
from rules.trigger import assess
from rules.windows import Window

log = logging.getLogger("nudge.evaluation")


@lru_cache(maxsize=64)
def _scale(unit: str) -> float:
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
        scale = _scale(totals.unit)
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


class ThresholdEvaluator:
    def __init__(
        self,
        readings: ReadingRepository,
        triggers: TriggerRepository,
        writer: DecisionWriter,
        clock: Clock,
    ) -> None:
        self.readings = readings
        self.triggers = triggers
        self.writer = writer
        self.clock = clock
        self.windows = WindowCache()

    def apply(
        self,
        customers: Mapping[str, CustomerRef],
        new: Sequence[ReadingRow],
        corrected: Sequence[ReadingRow],
        cached: TenantEntries | None = None,
    ) -> int:
        """Maintain aggregates for the triggers these readings feed and evaluate them."""
        changed = [*new, *corrected]
        if not changed:
            return 0
        plans = self._plans(customers, {r[0] for r in changed}, {r[1] for r in changed}, cached)
        if not plans:
            return 0
        aggregator = Aggregator(self.readings, self.windows, customers)
        touched = aggregator.fold(new, corrected, {p.stream for p in plans})
        return self._evaluate(plans, touched, aggregator.fresh)

    def _plans(
        self,
        customers: Mapping[str, CustomerRef],
        customer_ids: set[str],
        metrics: set[str],
        cached: TenantEntries | None,
    ) -> list[Plan]:
        def load(ids: list[str]) -> list[Plan]:
            active = self.triggers.active(ids, "threshold")
            return [Plan.of(t, customers[t.customer_id]) for t in active]

        found = (
            load(sorted(customer_ids))
            if cached is None
            else plans_through(cached, customer_ids, load)
        )
        return [plan for plan in found if plan.metric in metrics]

    def _evaluate(
        self,
        plans: list[Plan],
        touched: Mapping[Stream, Mapping[int, Slot]],
        fresh: Mapping[AggregateKey, Totals],
    ) -> int:
        now = self.clock.now()
        reader = StatsReader(now)
        work = [(p, s, self._keys(p, s)) for p in plans for s in touched.get(p.stream, {}).values()]
        missing = [k for _, _, keys in work for k in keys if k not in fresh]
        aggregates = {**fresh, **self.readings.aggregates(missing)} if missing else fresh
        observed = []
        true = failed = 0
        for plan, slot, keys in work:
            ctx = self._context(plan, slot, keys, aggregates, reader)
            result = evaluate(plan.rule.condition, ctx)
            if result.error is not None:
                failed += 1
                log.warning(
                    "condition failed",
                    extra={"rule": plan.rule.definition.key, "error": result.error},
                )
            if result.result:
                true += 1
            if result.result or plan.rearms_on_leave:
                unit = aggregates[keys[0]].unit if keys[0] in aggregates else ""
                observed.append((plan, slot, ctx, unit))
        evaluations.labels("true").inc(true)
        evaluations.labels("error").inc(failed)
        evaluations.labels("false").inc(len(work) - true - failed)
        self._step_all(observed, now)
        return len(work)

    def _keys(self, plan: Plan, slot: Slot) -> list[AggregateKey]:
        """The aggregates the condition reads: this window's, then earlier ones, newest first."""
        customer, metric, kind = plan.stream
        keys = [(customer, metric, kind, slot.start)]
        if not plan.earlier:
            return keys
        start = slot.start
        for _ in range(plan.earlier):
            start = self.windows.slot(kind, start - 1, slot.window.zone.key).start
            keys.append((customer, metric, kind, start))
        return keys

    def _context(
        self,
        plan: Plan,
        slot: Slot,
        keys: list[AggregateKey],
        aggregates: Mapping[AggregateKey, Totals],
        reader: StatsReader,
    ) -> Context:
        window = reader.stats(slot, aggregates.get(keys[0]))
        if len(keys) == 1 and not plan.reads_baseline:
            return Context(plan.trigger.params, plan.customer, reader.now, window)
        zone = slot.window.zone.key
        earlier = [
            reader.stats(self.windows.slot(k[2], k[3], zone), aggregates.get(k)) for k in keys[1:]
        ]
        return Context(
            params=plan.trigger.params,
            customer=plan.customer,
            now=reader.now,
            window=window,
            previous=earlier[0] if earlier and earlier[0].count else None,
            baseline=baseline_of(earlier) if plan.reads_baseline else None,
        )

    def _step_all(self, observed: list[tuple[Plan, Slot, Context, str]], now: datetime) -> None:
        keys = [(p.trigger.id, s.start) for p, s, _, _ in observed]
        rows = self.triggers.states(keys)
        for (plan, slot, ctx, unit), key in zip(observed, keys, strict=True):
            row = rows.get(key)
            current = machine.TriggerState.from_json(row.state) if row else None
            new_state, decision, _ = assess(plan.rule.core, ctx, current)
            if new_state != current:
                self._save(row, key, slot, new_state, now)
            if decision is not None:
                self.writer.write(self._decision(plan, slot.window, decision, ctx, unit))

    def _save(
        self,
        row: StateRow | None,
        key: tuple[str, int],
        slot: Slot,
        state: machine.TriggerState,
        now: datetime,
    ) -> None:
        if row is None:
            row = StateRow(
                trigger_id=key[0],
                window_start=key[1],
                window_end=slot.end,
                state={},
                updated_at=now,
            )
        row.state, row.last_value, row.updated_at = state.to_json(), state.last_value, now
        self.triggers.add_state(row)

    def _decision(
        self, plan: Plan, window: Window, decision: machine.Decision, ctx: Context, unit: str
    ) -> Decision:
        definition, locale = plan.rule.definition, ctx.customer.locale
        title = localized(dict(definition.title), locale)
        local_start = window.start.astimezone(window.zone).isoformat(timespec="minutes")
        late = decision.action == "suppressed_late"
        summary = (
            f"{title}: {definition.aggregate} = {decision.value:g} in the {window.kind} "
            f"from {local_start}"
            if decision.value is not None
            else title
        )
        reason = None
        if late:
            hours = (decision.at - window.end).total_seconds() / 3600
            reason = (
                f"late: became true {hours:.1f} h after the window ended; the rule "
                f"notifies within {definition.late_policy.notify_within_hours:g} h"
            )
            summary = f"suppressed ({reason}): {summary}"
        return Decision(
            trigger=plan.trigger,
            rule=plan.rule,
            occurrence=window.key,
            transition=decision.transition_id,
            status=NotificationStatus.suppressed if late else NotificationStatus.pending,
            due_at=decision.at,
            why=why(plan.trigger, plan.rule, decision.values, unit),
            summary=summary,
            reason=reason,
        )
