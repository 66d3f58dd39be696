"""Recognised conditions decided in bulk: for the windows of rules whose condition has a
recognised shape (a comparison of a monotone aggregate with a parameter, conjunctions of
such), numpy compares the stored totals with each trigger's bounds at once, and only the
windows where the answer may change go on to run the condition."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import compress
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from engine.evaluation.aggregation import Slot
from engine.evaluation.plan import Plan
from engine.evaluation.stats import unit_scale
from engine.evaluation.totals import AggregateKey, Totals
from rules.shapes import Bound, Shape, window_columns

Work = list[tuple[Plan, Slot, list[AggregateKey]]]  # a trigger, a window, what it reads


class _Group(NamedTuple):
    shape: Shape
    items: list[int]
    found: list[Totals | None]
    bounds: list[tuple[Bound, ...]]


def decide_recognised(
    work: Work, totals: Mapping[AggregateKey, Totals | None]
) -> tuple[Work, set[int]]:
    """The work items that need their condition run, in order, and the positions among them
    where a recognised condition is known to hold. The items left out are windows where a
    recognised condition is false: for a rule that does not re-arm on leave a false condition
    changes no state and decides nothing, so they are only counted (`ThresholdEvaluator` counts
    ``len(work)``)."""
    # Grouped by the shape object (one per recognised rule version): hashing a shape's
    # comparisons for each window would cost more than deciding it.
    # Each group: its shape, its items' positions, their windows' totals, their bounds.
    groups: dict[int, _Group] = {}
    full: list[int] = []
    get = totals.get
    for i, (plan, _, keys) in enumerate(work):
        shape, bound = plan.shape, plan.bounds
        if shape is None or bound is None:
            full.append(i)
            continue
        group = groups.get(id(shape))
        if group is None:
            group = groups[id(shape)] = _Group(shape, [], [], [])
        group.items.append(i)
        group.found.append(get(keys[0]))
        group.bounds.append(bound)
    if not groups:
        return work, set()
    hits: list[int] = []
    for shape, items, found, bounds in groups.values():
        decided = shape.decide(_columns(shape, found), shape.stack(bounds))
        hits.extend(items[j] for j in np.flatnonzero(decided).tolist())
    if not hits:
        return [work[i] for i in full], set()
    held = set(hits)
    order = sorted([*full, *hits])
    return [work[i] for i in order], {n for n, i in enumerate(order) if i in held}


_EMPTY = Totals(0.0, 0, 0.0, 0.0, 0, 0.0, 0, 0, "")


def _columns(shape: Shape, found: Sequence[Totals | None]) -> dict[str, npt.NDArray[Any]]:
    """The windows' stored totals as `Shape.decide` reads them (as `StatsReader` scales them;
    a window without readings reads 0 everywhere). Only the fields the shape's aggregates
    read are made arrays (each straight from the totals, without a list of its own)."""
    rows = [t if t is not None and t[1] else _EMPTY for t in found]
    n = len(rows)

    def field(i: int, dtype: type[np.generic]) -> npt.NDArray[Any]:
        return np.fromiter(map(itemgetter(i), rows), dtype=dtype, count=n)

    count = field(1, np.int64)
    read = {_FIELD[a] for a in shape.aggregates if a in _FIELD}
    unread = np.zeros(n)  # fields no aggregate of the shape reads (window_columns skips them)
    total, low, high, last = (field(i, np.float64) if i in read else unread for i in (0, 2, 3, 5))
    used = set(compress(map(itemgetter(8), rows), map(itemgetter(1), rows)))
    scale: float | npt.NDArray[np.float64] = 1.0
    if len(used) == 1:
        scale = unit_scale(used.pop())
    elif used:
        scale = np.array([unit_scale(t[8]) if t[1] else 1.0 for t in rows])
    return window_columns(shape.aggregates, total, count, low, high, last, scale)


# The field of `Totals` each aggregate is worked out from (``count`` is always read).
_FIELD = {"sum": 0, "avg": 0, "min": 2, "max": 3, "last": 5}
