"""Threshold rules, in two steps so that no condition runs while a write transaction is held.

`ThresholdEvaluator.prepare` works on a read snapshot: it folds the batch's readings into the
window aggregates as they will be, evaluates the touched windows and steps each trigger's
per-window state, and keeps every input it used. `ThresholdEvaluator.commit` runs in the
write transaction: it writes the aggregates, checks that what it finds there is exactly what
was evaluated (aggregates, states, the readings that were new or corrected), and only then
stores the states and decisions. If anything moved in between, nothing is stored and the
batch is evaluated again from a fresh snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from engine.customers.refs import CustomerRef
from engine.evaluation.adding import added, added_to_known, as_dict
from engine.evaluation.aggregation import (
    Aggregator,
    Changes,
    Slot,
    Unmoved,
    Watched,
    WindowCache,
    watched_streams,
)
from engine.evaluation.cache import TenantEntries, plans_through, read_through
from engine.evaluation.decisions import Decision, DecisionWriter, why
from engine.evaluation.known import KnownRows, KnownTotals, KnownUpdate
from engine.evaluation.plan import Plan
from engine.evaluation.ports import AggregateStore
from engine.evaluation.recognised import BatchWork, Group, decide_recognised
from engine.evaluation.repository import EvaluationRepository
from engine.evaluation.stats import StatsReader
from engine.evaluation.stores import EvaluationStores
from engine.evaluation.totals import AggregateKey, Totals
from engine.evaluation.warm import WarmBatch
from engine.feeds.records import ReadingRow
from engine.models import NotificationStatus
from engine.models import TriggerState as StateRow
from engine.platform.clock import Clock
from engine.platform.metrics import evaluations
from engine.templating.locales import localized
from rules import state as machine
from rules.aggregates import baseline_of
from rules.condition import Evaluation, evaluate, held
from rules.context import Context
from rules.trigger import assess
from rules.windows import Window

log = logging.getLogger("nudge.evaluation")

StateKey = tuple[str, int]  # trigger id, window start
_MAX_TITLES = 4096


class Step(NamedTuple):
    """One trigger in one window: its state after this batch and what it decided."""

    key: StateKey
    slot: Slot
    state: machine.TriggerState
    changed: bool
    decision: Decision | None


@dataclass
class Prepared:
    """A batch evaluated on a snapshot, with every input the evaluation read."""

    changes: Changes | None  # None: the batch only adds, all of it in ``planned`` (SQLite)
    fed: Watched  # by the (customer, metric) pairs some trigger watches
    new: Sequence[ReadingRow]  # readings taken as new, among those fed to triggers
    corrected: Sequence[ReadingRow]
    totals: Mapping[AggregateKey, Totals | None]  # every aggregate a condition read
    states: dict[StateKey, dict[str, Any] | None]  # every state stepped, as it was
    steps: list[Step] = field(default_factory=list)
    evaluated: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    moved: str = ""  # what `commit` found changed: "totals" or "states"
    # Windows whose trigger has fired in them and re-arms only in the next window: once this
    # batch is committed, later batches need not step them (`ThresholdEvaluator.prepare`).
    latched: set[StateKey] = field(default_factory=set)
    # SQLite: what `commit` writes to the aggregates, and the other windows a condition read
    # (checked as they are), worked out before the write transaction.
    planned: Unmoved | None = None
    unread: list[AggregateKey] = field(default_factory=list)
    # The new totals of the windows whose old ones were taken from the known totals by
    # position, for `commit` to keep there (else it keeps what it stored by key).
    kept: KnownUpdate | None = None

    def feeds(self, row: ReadingRow) -> bool:
        return (row[0], row[1]) in self.fed

    def classified_as(self, new: Sequence[ReadingRow], corrected: Sequence[ReadingRow]) -> bool:
        """Whether storing found new and corrected, among readings fed to triggers, exactly
        the readings this evaluation took as new and corrected."""
        wanted = ({r[:4] for r in self.new}, {r[:4] for r in self.corrected})
        found = {r[:4] for r in new if self.feeds(r)}, {r[:4] for r in corrected if self.feeds(r)}
        return wanted == found


def _moved(found: Totals | None, read: Totals | None) -> bool:
    """Whether a window a condition read holds other totals now. By their figures: the
    totals of a recomputed window were worked out from readings, not read from its row."""
    if found is None or read is None:
        return found is not read
    return found.figures() != read.figures()


def watched(plans: Sequence[Plan]) -> Watched:
    """The streams these plans read, by the (customer, metric) pair of their readings."""
    return watched_streams(p.stream for p in plans)


class ThresholdEvaluator:
    kind = "threshold"

    def __init__(self, writer: DecisionWriter, clock: Clock) -> None:
        self.writer = writer
        self.clock = clock
        self.windows = WindowCache()
        # A rule version's title in a locale (a version never changes): a batch where many
        # windows cross asks for the same few thousands of times.
        self._titles: dict[tuple[str, str], str] = {}

    def plans(
        self,
        stores: EvaluationStores,
        customers: Mapping[str, CustomerRef],
        rows: Sequence[ReadingRow],
        cached: TenantEntries | None = None,
    ) -> list[Plan]:
        """Plans of the threshold triggers these readings feed."""

        def load(ids: list[str]) -> list[Plan]:
            active = stores.triggers.active(ids, "threshold")
            return [Plan.of(t, customers[t.customer_id]) for t in active]

        ids, metrics = {r[0] for r in rows}, {r[1] for r in rows}
        found = load(sorted(ids)) if cached is None else plans_through(cached, ids, load)
        return [plan for plan in found if plan.stream[1] in metrics]

    def prepare(
        self,
        stores: EvaluationStores,
        customers: Mapping[str, CustomerRef],
        plans: list[Plan],
        new: Sequence[ReadingRow],
        corrected: Sequence[ReadingRow],
        *,
        guessed: bool = False,
        known: KnownTotals | None = None,
        fast: bool = True,
        fired: Container[StateKey] = frozenset(),
        fed: Watched | None = None,
    ) -> Prepared | None:
        """Evaluate on a snapshot (``stores`` read it); nothing is written.
        ``new`` and ``corrected`` hold only readings some plan watches (`watched`).
        ``guessed``: ``new`` holds readings not looked up; None if the window totals show that
        one of them may be stored already (then look them up and prepare again). ``known``:
        window totals this process last stored, taken as they are instead of read (`commit`
        finds out if they were not). ``fast``: windows of recognised conditions are first
        decided in bulk (`decide_recognised`), and only those where the condition holds run it.
        ``fired``: (trigger, window) pairs known to have fired (committed) in a window where
        the trigger re-arms only in the next one: it can decide nothing more there, so its
        state there is not stepped again (the condition still runs where it would, for the
        counts). ``fed``: `watched` of ``plans``, if the caller has it already."""
        fed = watched(plans) if fed is None else fed
        store, triggers = stores.windows, stores.triggers
        aggregator = Aggregator(store, self.windows, customers)
        changes = aggregator.changes(new, corrected, fed)
        deltas, recompute = changes.deltas, changes.recompute
        work, earlier = self._work(plans, changes, fast)
        sqlite = store.aggregates.sqlite
        kept = columns = None
        windows = [k for k in deltas if k not in recompute] if recompute else list(deltas)
        at = known.positions(windows) if known and not recompute else None
        if known is not None and at is not None:  # every window's totals are known
            only_added = added_to_known(changes, known.rows(at), guessed=guessed, rows=sqlite)
            if only_added is not None and only_added.columns is not None:
                columns = only_added.columns  # in the order of the changes, none recomputed
                kept = KnownUpdate(known, at, columns)
            stored = self._stored(store, sorted(earlier), known) if earlier else {}
        else:
            stored = self._stored(store, [*windows, *sorted(earlier)], known)
            only_added = added(changes, stored, guessed=guessed, rows=sqlite)
        if only_added is None:
            return None  # a reading taken as new may be stored already
        fresh = only_added.predicted
        totals: Mapping[AggregateKey, Totals | None] = fresh
        if recompute or earlier:
            read = as_dict(fresh)
            read.update(aggregator.recomputed(recompute, [*new, *corrected]))
            read.update({k: stored.get(k) for k in earlier})
            totals = read
        prepared = Prepared(changes, fed, new, corrected, totals, {}, kept=kept)
        if sqlite:
            prepared.planned = Unmoved(fresh, only_added.rows)
            prepared.unread = (
                [k for k in totals if k not in fresh] if len(totals) > len(fresh) else []
            )
        self._evaluate(prepared, triggers, work, fired, columns)
        return prepared

    def prepare_warm(
        self,
        stores: EvaluationStores,
        batch: WarmBatch,
        known: KnownTotals,
        fed: Watched,
        fired: Container[StateKey] = frozenset(),
    ) -> Prepared | None:
        """`prepare` with ``guessed``, ``known`` and ``fast``, for a batch that fits
        (`warm_batch`, on SQLite): each of its windows gains readings and either has the
        totals ``known`` keeps or no row yet, and its condition is decided in bulk, so the new
        totals, the statements that write them and the decisions are all worked out a column
        at a time. None if a window ``known`` does not keep has a row (the general path reads
        it), or if one of its readings may be stored already (see `prepare`)."""
        unknown = batch.unknown()
        if unknown and stores.windows.aggregates.get(unknown):
            return None
        only_added = batch.added(known)
        if only_added is None:
            return None
        columns, fresh = only_added.columns, only_added.predicted
        kept = None
        if columns is not None:  # windows opened are kept by key
            at = None if unknown else batch.positions
            kept = KnownUpdate(known, at, columns, batch.keys)
        prepared = Prepared(None, fed, batch.feeding, [], fresh, {}, kept=kept)
        prepared.planned = Unmoved(fresh, only_added.rows)
        self._evaluate(prepared, stores.triggers, batch.work(), fired, columns)
        return prepared

    def commit(
        self,
        stores: EvaluationStores,
        prepared: Prepared,
        known: KnownTotals | None = None,
    ) -> bool:
        """In the write transaction, after the batch's readings are stored: write the
        aggregates, and the states and decisions if the evaluation's inputs are unchanged.
        False (with nothing of the evaluation stored) if they moved. ``known`` learns the
        totals as stored, for the next batch to take as they are."""
        store, triggers = stores.windows, stores.triggers
        aggregator = Aggregator(store, self.windows, {})
        planned = prepared.planned
        fresh = aggregator.apply_unmoved(prepared.changes, prepared.totals, planned)
        if fresh is None:
            missing = []
        elif planned is not None and fresh is planned.fresh:
            missing = prepared.unread
        else:
            missing = [k for k in prepared.totals if k not in fresh]
        found = store.aggregates.get(missing) if missing else {}
        if fresh is None or any(_moved(found.get(k), prepared.totals[k]) for k in missing):
            prepared.moved = "totals"
            return False
        values = triggers.state_values(list(prepared.states))
        if any(values.get(k) != s for k, s in prepared.states.items()):
            prepared.moved = "states"
            return False
        if known is not None:
            kept = prepared.kept
            if kept is not None and kept.known is known:
                known.keep(kept)
            else:
                known.update(fresh)
            known.update(found)
        saved = [s.key for s in prepared.steps if s.changed and s.key in values]
        rows = triggers.states(saved) if saved else {}
        with triggers.flushed_together():
            created = []
            for step in prepared.steps:
                if step.changed:
                    row = rows.get(step.key)
                    if row is None:
                        created.append(self._new_state(step))
                    else:
                        self._save(triggers, row, step)
            triggers.insert_states(created)
            self.writer.write_many([s.decision for s in prepared.steps if s.decision])
        for outcome, count in prepared.outcomes.items():
            evaluations.labels(outcome).inc(count)
        return True

    @staticmethod
    def _stored(
        store: AggregateStore,
        keys: list[AggregateKey],
        known: KnownTotals | None,
    ) -> dict[AggregateKey, Totals]:
        if not known:
            return store.aggregates.get(keys)
        return read_through(known, keys, store.aggregates.get)

    def _evaluate(
        self,
        prepared: Prepared,
        triggers: EvaluationRepository,
        work: BatchWork,
        fired: Container[StateKey] = frozenset(),
        columns: KnownRows | None = None,
    ) -> None:
        now = self.clock.now()
        reader = StatsReader(now)
        observed = []
        true = failed = 0
        full, holds = decide_recognised(work, prepared.totals, columns)
        for n, (plan, slot, keys) in enumerate(full):
            latched = (plan.trigger.id, slot.start) in fired
            if n in holds:  # true, exactly as the condition would find
                true += 1
                if not latched:
                    ctx = self._context(plan, slot, keys, prepared.totals, reader)
                    found = prepared.totals.get(keys[0])
                    observed.append((plan, slot, ctx, found.unit if found else "", held(ctx)))
                continue
            ctx = self._context(plan, slot, keys, prepared.totals, reader)
            result = evaluate(plan.rule.condition, ctx)
            if result.error is not None:
                failed += 1
                log.warning(
                    "condition failed",
                    extra={"rule": plan.rule.definition.key, "error": result.error},
                )
            if result.result:
                true += 1
            if (result.result or plan.rearms_on_leave) and not latched:
                found = prepared.totals.get(keys[0])
                observed.append((plan, slot, ctx, found.unit if found else "", result))
        prepared.evaluated = work.size
        prepared.outcomes = {"true": true, "error": failed, "false": work.size - true - failed}
        self._step_all(prepared, triggers, observed)

    def _work(
        self, plans: Sequence[Plan], changes: Changes, fast: bool
    ) -> tuple[BatchWork, set[AggregateKey]]:
        """Each plan with each window of its stream the batch touched (with ``fast``, windows
        of recognised conditions grouped for `decide_recognised`), and the aggregates of
        earlier windows the conditions read that the batch does not change."""
        touched, deltas, slots = changes.touched, changes.deltas, changes.slots
        keys = list(deltas)
        work = BatchWork(keys, slots)
        items, groups = work.items, work.groups
        earlier: set[AggregateKey] = set()
        n = 0  # each window's place in the work
        for plan in plans:
            at = touched.get(plan.stream)
            if at is None:
                continue
            shape, bounds = plan.shape, plan.bounds
            if fast and shape is not None and bounds is not None and not plan.earlier:
                group = groups.get(id(shape))
                if group is None:
                    group = groups[id(shape)] = Group(shape)
                for i in at:
                    group.places.append(n)
                    group.at.append(i)
                    group.plans.append(plan)
                    group.bounds.append(bounds)
                    n += 1
            elif not plan.earlier:  # the condition reads this window only
                for i in at:
                    items.append((n, (plan, slots[i], [keys[i]])))
                    n += 1
            else:
                for i in at:
                    reads = self._keys(plan, slots[i])
                    items.append((n, (plan, slots[i], reads)))
                    earlier.update(k for k in reads if k not in deltas)
                    n += 1
        work.size = n
        return work, earlier

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
        aggregates: Mapping[AggregateKey, Totals | None],
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

    def _step_all(
        self,
        prepared: Prepared,
        triggers: EvaluationRepository,
        observed: list[tuple[Plan, Slot, Context, str, Evaluation]],
    ) -> None:
        """Step the state of each observed window with its condition's outcome (run once, in
        `_evaluate`, or decided in bulk)."""
        keys = [(p.trigger.id, s.start) for p, s, *_ in observed]
        values = triggers.state_values(keys)
        for (plan, slot, ctx, unit, outcome), key in zip(observed, keys, strict=True):
            value = prepared.states[key] = values.get(key)
            current = None if value is None else machine.TriggerState.from_json(value)
            new_state, decision, _ = assess(plan.rule.core, ctx, current, outcome)
            made = self._decision(plan, slot.window, decision, ctx, unit) if decision else None
            prepared.steps.append(Step(key, slot, new_state, new_state != current, made))
            if new_state.status == "fired" and not plan.rearms_on_leave:
                prepared.latched.add(key)

    def _save(self, triggers: EvaluationRepository, row: StateRow, step: Step) -> None:
        row.state, row.last_value = step.state.to_json(), step.state.last_value
        row.updated_at = self.clock.now()
        triggers.add_state(row)

    def _new_state(self, step: Step) -> dict[str, Any]:
        """A state row's column values, for a window the trigger has no state in yet."""
        return {
            "trigger_id": step.key[0],
            "window_start": step.key[1],
            "window_end": step.slot.end,
            "state": step.state.to_json(),
            "last_value": step.state.last_value,
            "updated_at": self.clock.now(),
        }

    def _decision(
        self, plan: Plan, window: Window, decision: machine.Decision, ctx: Context, unit: str
    ) -> Decision:
        definition, locale = plan.rule.definition, ctx.customer.locale
        title = self._titles.get((plan.rule.version_id, locale))
        if title is None:
            if len(self._titles) >= _MAX_TITLES:
                self._titles.clear()
            title = localized(dict(definition.title), locale)
            self._titles[(plan.rule.version_id, locale)] = title
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
