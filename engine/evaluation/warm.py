"""A tenant's later batches, keyed to what this process keeps of it in one pass.

Most batches are alike: each reading is of a customer whose one threshold trigger has a
recognised condition, and adds to a window whose totals this process stored last, or opens a
window no reading reached yet. Once the tenant's customers and plans are cached, one pass over
such a batch finds each reading's plan, window and the place of the window's known totals, and
the rest is done a column at a time (`WarmBatch.added`, `ThresholdEvaluator.prepare_warm`).
Any other batch, or one where a reading does not fit, takes the general path
(`ThresholdEvaluator.prepare`), which decides the same."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast

import numpy as np
import numpy.typing as npt

from engine.evaluation.adding import Added, ByColumn, Delta, added_by_column
from engine.evaluation.aggregates_repository import UnmovedRows
from engine.evaluation.aggregation import BUCKET_SECONDS, Slot, WindowCache, first_delta, fold
from engine.evaluation.known import KnownRows, KnownTotals
from engine.evaluation.plan import Plan
from engine.evaluation.recognised import BatchWork, Group
from engine.evaluation.totals import AggregateKey
from engine.feeds.records import ReadingRow
from rules.shapes import Bound


class WarmBatch(NamedTuple):
    """The windows of a batch that fits (`warm_batch`), each once, in the order of the first
    reading that feeds a trigger in it."""

    keys: list[AggregateKey]
    slots: list[Slot]
    plans: list[Plan]  # the window's trigger
    positions: npt.NDArray[np.intp]  # where ``known`` keeps the window's totals; -1: not kept
    feeding: list[ReadingRow]  # the readings that add to them, in order
    # Where some window gains several readings: each window's delta (as `Changes.deltas`
    # holds them), folded in order; None when each gains one (``feeding``, window by window).
    folded: list[list[Any]] | None = None

    def unknown(self) -> list[AggregateKey]:
        """The windows whose totals are not kept: only those without a row fit (`added`)."""
        return [self.keys[i] for i in np.flatnonzero(self.positions < 0).tolist()]

    def added(self, known: KnownTotals) -> Added | None:
        """`added`, for this batch: each window's totals once its readings are added, a
        column at a time (`added_by_column`) for the windows ``known`` keeps, the others
        opened by it (they have no row: see `unknown`). None if a reading may be stored
        already (see `added`)."""
        delta, positions = self._delta(), self.positions
        kept = np.flatnonzero(positions >= 0)
        if kept.size == len(self.keys):
            return added_by_column(self.keys, delta, known.rows(positions), guessed=True, rows=True)
        at = kept.tolist()
        part = Delta._make([column[i] for i in at] for column in delta)
        was = known.rows(positions[kept])
        adding = added_by_column([self.keys[i] for i in at], part, was, guessed=True, rows=True)
        return None if adding is None else self._opening(delta, kept, adding)

    def _delta(self) -> Delta:
        """What each window gains: its readings, folded, or its one reading."""
        if self.folded is not None:
            return Delta.of(self.folded)
        values = [r[5] for r in self.feeding]
        starts = [r[2] for r in self.feeding]
        ends = [r[2] + r[3] for r in self.feeding]
        return Delta(values, [1] * len(values), values, values, starts, values, ends, starts)

    def _units(self) -> list[str]:
        """Each window's unit, as its first reading gives it."""
        if self.folded is not None:
            return [d[8] for d in self.folded]
        return [r[6] for r in self.feeding]

    def _opening(self, delta: Delta, kept: npt.NDArray[np.intp], adding: Added) -> Added:
        """``adding`` (the windows at ``kept``) with the windows the other readings open,
        their totals those of their readings alone, in the order of the batch."""
        opened = np.flatnonzero(self.positions < 0)
        n, at = len(self.keys), opened.tolist()
        closes = [self.slots[i].end for i in at]
        floats, ints = np.empty((n, 4)), np.empty((n, 5), dtype=np.int64)
        # total, low, high, last value; samples, last start, covered until, end, revision
        gained = np.array([delta.total, delta.low, delta.high, delta.last_value])[:, opened]
        floats[opened] = gained.T
        times = np.array([delta.samples, delta.last_start, delta.covered], dtype=np.int64)
        revision = np.zeros(len(at), dtype=np.int64)  # a new row's
        ints[opened] = np.column_stack((*times[:, opened], np.array(closes, np.int64), revision))
        units = self._units()
        if adding.columns is not None:
            floats[kept], ints[kept] = adding.columns.floats, adding.columns.ints
            for i, unit in zip(kept.tolist(), adding.columns.units, strict=True):
                units[i] = unit
        columns = KnownRows(floats, ints, units)
        keys, rows = self.keys, UnmovedRows([], adding.rows.updated)
        d = delta
        for i, end in zip(at, closes, strict=True):  # each window's row, as `aggregate_row`
            gain = (d.total[i], d.samples[i], d.low[i], d.high[i], d.last_start[i], d.last_value[i])
            rows.inserted.append((*keys[i], end, *gain, d.covered[i], units[i]))
        return Added(ByColumn(keys, columns.fields()), rows, columns)

    def work(self) -> BatchWork:
        """Every window in the group of its trigger's condition, for `decide_recognised`."""
        plans = self.plans
        work = BatchWork(self.keys, self.slots, size=len(plans))
        first = plans[0].shape if plans else None
        if first is not None and all(p.shape is first for p in plans):  # one rule, mostly
            every = list(range(len(plans)))
            bounds = cast(list[tuple[Bound, ...]], [p.bounds for p in plans])
            work.groups[id(first)] = Group(first, every, every.copy(), list(plans), bounds)
            return work
        for n, plan in enumerate(plans):
            shape, bound = plan.shape, plan.bounds
            assert shape is not None and bound is not None  # see `warm_batch`
            group = work.groups.get(id(shape))
            if group is None:
                group = work.groups[id(shape)] = Group(shape)
            group.places.append(n)
            group.at.append(n)
            group.plans.append(plan)
            group.bounds.append(bound)
        return work


def warm_batch(
    rows: Sequence[ReadingRow],
    plans: Mapping[str, Plan | list[Plan]],
    known: KnownTotals,
    windows: WindowCache,
) -> WarmBatch | None:
    """The windows of these readings, or None unless each reading is of a customer whose
    plans are cached (``plans``, by customer id) and either has no plan on the reading's
    metric or has one plan, decided in bulk (`Plan.bounds`) from its window alone, and the
    readings of one window are folded in order, as `Aggregator.changes` folds them."""
    keys: list[AggregateKey] = []
    slots: list[Slot] = []
    chosen: list[Plan] = []
    at: list[int] = []
    feeding: list[ReadingRow] = []
    plan_of, position = plans.get, known.position
    slot_of, cached = windows.slot, windows.cached
    # The last slot found, as in `Aggregator._deltas`: a batch's readings mostly share it.
    last_kind, last_zone, last_bucket = "", "", None
    last_slot = cast(Slot, None)  # read only once a bucket matched
    for row in rows:
        customer, metric, start = row[0], row[1], row[2]
        plan = plan_of(customer)
        if plan is None:
            return None  # not cached
        if isinstance(plan, list):
            if plan:
                return None  # several plans: the general path folds each reading into each
            continue  # no threshold trigger
        stream = plan.stream
        if stream[1] != metric:
            continue  # the customer's one plan watches another metric
        if plan.bounds is None or plan.earlier:
            return None
        kind, zone, bucket = stream[2], plan.customer.timezone, start // BUCKET_SECONDS
        if bucket == last_bucket and kind == last_kind and zone == last_zone:
            slot = last_slot
        else:
            slot = cached((kind, zone, bucket)) or slot_of(kind, start, zone)
            last_kind, last_zone, last_bucket, last_slot = kind, zone, bucket, slot
        key = (customer, metric, kind, slot.start)
        where = position(key)
        keys.append(key)
        slots.append(slot)
        chosen.append(plan)
        at.append(-1 if where is None else where)
        feeding.append(row)
    batch = WarmBatch(keys, slots, chosen, np.array(at, dtype=np.intp), feeding)
    kept = batch.positions[batch.positions >= 0]
    repeated = np.unique(kept).size != kept.size
    if not repeated and kept.size < len(keys):
        unknown = batch.unknown()
        repeated = len(set(unknown)) < len(unknown)
    return _folded(batch) if repeated else batch


def _folded(batch: WarmBatch) -> WarmBatch:
    """``batch``, where some window has several readings, with each window once and what its
    readings add to it folded in order (`first_delta`, then `fold`)."""
    at: dict[AggregateKey, int] = {}
    keys: list[AggregateKey] = []
    slots: list[Slot] = []
    plans: list[Plan] = []
    positions: list[int] = []
    deltas: list[list[Any]] = []
    for key, slot, plan, where, row in zip(*batch[:4], batch.feeding, strict=True):
        start, value = row[2], row[5]
        end = start + row[3]
        i = at.get(key)
        if i is None:
            at[key] = len(keys)
            keys.append(key)
            slots.append(slot)
            plans.append(plan)
            positions.append(where)
            deltas.append(first_delta(start, end, value, slot.end, row[6]))
        else:
            fold(deltas[i], start, end, value)
    return WarmBatch(keys, slots, plans, np.array(positions, dtype=np.intp), batch.feeding, deltas)
