"""A tenant's later batches, keyed to what this process keeps of it in one pass.

Most batches after a tenant's first ones are alike: each reading is of a customer whose one
threshold trigger has a recognised condition, and adds to a window whose totals this process
stored last. For such a batch, one pass over its readings finds each one's plan, window and
the place of the window's known totals, and the rest is done a column at a time
(`ThresholdEvaluator.prepare_warm`). Any other batch, or one where a reading does not fit,
takes the general path (`ThresholdEvaluator.prepare`), which decides the same."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, cast

import numpy as np
import numpy.typing as npt

from engine.evaluation.aggregation import BUCKET_SECONDS, Slot, WindowCache
from engine.evaluation.known import KnownTotals
from engine.evaluation.plan import Plan
from engine.evaluation.recognised import BatchWork, Group
from engine.evaluation.totals import AggregateKey
from engine.feeds.records import ReadingRow
from rules.shapes import Bound


class WarmBatch(NamedTuple):
    """The windows of a batch that fits (`warm_batch`), one for each reading that feeds a
    trigger, in the order of those readings."""

    keys: list[AggregateKey]
    slots: list[Slot]
    plans: list[Plan]  # the window's trigger
    positions: npt.NDArray[np.intp]  # where ``known`` keeps the window's totals
    feeding: list[ReadingRow]  # the reading that adds to it

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
    reading adds to a window ``known`` keeps that no other reading of the batch adds to."""
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
        if where is None:
            return None  # a window this process has not stored
        keys.append(key)
        slots.append(slot)
        chosen.append(plan)
        at.append(where)
        feeding.append(row)
    positions = np.array(at, dtype=np.intp)
    if np.unique(positions).size != positions.size:
        # Two readings add to one window: the general path folds them. (Taken one by one,
        # the second statement would find the row's revision moved, and the batch would be
        # evaluated again, on the general path.)
        return None
    return WarmBatch(keys, slots, chosen, positions, feeding)
