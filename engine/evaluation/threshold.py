"""Threshold rules: fold new readings into window aggregates, evaluate the touched windows,
step each trigger's per-window state and write the decisions."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from engine.catalog.compiled import CompiledRule, compiled_version
from engine.clock import Clock
from engine.customers.repository import CustomerRef
from engine.evaluation.aggregation import Aggregator, WindowCache
from engine.evaluation.decisions import Decision, DecisionWriter, localized, why
from engine.feeds.cache import TenantEntries, thresholds_through
from engine.feeds.parsing.currency import minor_exponent
from engine.feeds.parsing.units import is_currency
from engine.feeds.repository import AggregateKey, ReadingRepository, ReadingRow, Totals
from engine.metrics import evaluations
from engine.models import NotificationStatus
from engine.models import TriggerState as StateRow
from engine.triggers.repository import ActiveTrigger, TriggerRepository
from rules import state as machine
from rules.aggregates import Baseline, WindowStats, baseline_of, stats_from_totals
from rules.condition import evaluate
from rules.context import Context
from rules.context import Customer as CustomerContext
from rules.trigger import assess
from rules.windows import Window

log = logging.getLogger("nudge.evaluation")


def customer_context(customer: CustomerRef) -> CustomerContext:
    return CustomerContext(customer.locale, customer.timezone, customer.attributes)


@dataclass(frozen=True, slots=True)
class Plan:
    """One trigger with what evaluating it needs, worked out once per batch."""

    trigger: ActiveTrigger
    rule: CompiledRule
    stream: tuple[str, str, str]
    earlier: int  # earlier windows the condition reads (previous, baseline)
    reads_baseline: bool

    @classmethod
    def of(cls, trigger: ActiveTrigger, rule: CompiledRule) -> Plan:
        d = rule.definition
        earlier = d.baseline_windows if rule.reads_baseline else int(rule.reads_previous)
        stream = (trigger.customer_id, d.metric or "", d.window or "none")
        return cls(trigger, rule, stream, 0 if d.window == "none" else earlier, rule.reads_baseline)


def _dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def stats_of(window: Window, totals: Totals | None, now: datetime) -> WindowStats:
    """Window statistics as conditions see them: money in major units (``51.2`` EUR)."""
    if totals is None:
        return WindowStats.empty(window, now)
    scale = 10.0 ** -minor_exponent(totals.unit) if is_currency(totals.unit) else 1.0
    return stats_from_totals(
        window,
        now,
        total=totals.total * scale,
        count=totals.samples,
        minimum=totals.low * scale,
        maximum=totals.high * scale,
        last=totals.last_value * scale,
        covered_until=_dt(totals.covered_until),
    )


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
        plans = self._plans({r[0] for r in changed}, {r[1] for r in changed}, cached)
        if not plans:
            return 0
        aggregator = Aggregator(self.readings, self.windows, customers)
        touched = aggregator.fold(new, corrected, {p.stream for p in plans})
        return self._evaluate(plans, touched, customers, aggregator.fresh)

    def _plans(
        self, customer_ids: set[str], metrics: set[str], cached: TenantEntries | None
    ) -> list[Plan]:
        def load(ids: list[str]) -> list[ActiveTrigger]:
            return self.triggers.active(ids, "threshold")

        active = (
            load(sorted(customer_ids))
            if cached is None
            else thresholds_through(cached, customer_ids, load)
        )
        plans = []
        for t in active:
            rule = compiled_version(t.rule_version_id, t.version, t.definition)
            if rule.definition.metric in metrics:
                plans.append(Plan.of(t, rule))
        return plans

    def _evaluate(
        self,
        plans: list[Plan],
        touched: Mapping[tuple[str, str, str], list[Window]],
        customers: Mapping[str, CustomerRef],
        fresh: Mapping[AggregateKey, Totals],
    ) -> int:
        now = self.clock.now()
        work = [(p, w, self._keys(p, w)) for p in plans for w in touched.get(p.stream, ())]
        missing = [k for _, _, keys in work for k in keys if k not in fresh]
        aggregates = {**fresh, **self.readings.aggregates(missing)} if missing else fresh
        observed = []
        outcomes: Counter[str] = Counter()
        for plan, window, keys in work:
            customer = customers[plan.trigger.customer_id]
            ctx = self._context(plan, window, keys, aggregates, customer, now)
            result = evaluate(plan.rule.condition, ctx)
            outcomes["true" if result.result else "error" if result.error else "false"] += 1
            if result.error is not None:
                log.warning(
                    "condition failed",
                    extra={"rule": plan.rule.definition.key, "error": result.error},
                )
            if result.result or plan.rule.definition.rearm.mode == "on_leave":
                unit = aggregates[keys[0]].unit if keys[0] in aggregates else ""
                observed.append((plan, window, ctx, unit))
        for outcome, count in outcomes.items():
            evaluations.labels(outcome).inc(count)
        self._step_all(observed, now)
        return len(work)

    def _keys(self, plan: Plan, window: Window) -> list[AggregateKey]:
        customer, metric, kind = plan.stream
        windows = [window]
        for _ in range(plan.earlier):
            windows.append(self.windows.previous(windows[-1]))
        return [(customer, metric, kind, self.windows.ts(w)) for w in windows]

    def _context(
        self,
        plan: Plan,
        window: Window,
        keys: list[AggregateKey],
        aggregates: Mapping[AggregateKey, Totals],
        customer: CustomerRef,
        now: datetime,
    ) -> Context:
        stats = [
            stats_of(self.windows.at(plan.stream[2], k[3], window), aggregates.get(k), now)
            for k in keys
        ]
        previous = stats[1] if len(stats) > 1 and stats[1].count else None
        baseline: Baseline | None = baseline_of(stats[1:]) if plan.reads_baseline else None
        return Context(
            params=plan.trigger.params,
            customer=customer_context(customer),
            now=now,
            window=stats[0],
            previous=previous,
            baseline=baseline,
        )

    def _step_all(self, observed: list[tuple[Plan, Window, Context, str]], now: datetime) -> None:
        keys = [(p.trigger.id, self.windows.ts(w)) for p, w, _, _ in observed]
        rows = self.triggers.states(keys)
        for (plan, window, ctx, unit), key in zip(observed, keys, strict=True):
            row = rows.get(key)
            current = machine.TriggerState.from_json(row.state) if row else None
            new_state, decision, _ = assess(plan.rule.core, ctx, current)
            if new_state != current:
                self._save(row, key, window, new_state, now)
            if decision is not None:
                self.writer.write(self._decision(plan, window, decision, ctx, unit))

    def _save(
        self,
        row: StateRow | None,
        key: tuple[str, int],
        window: Window,
        state: machine.TriggerState,
        now: datetime,
    ) -> None:
        if row is None:
            row = StateRow(
                trigger_id=key[0],
                window_start=key[1],
                window_end=self.windows.end_ts(window),
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
