"""Recognised conditions decided in bulk: for the windows of rules whose condition has a
recognised shape (a comparison of a monotone aggregate with a parameter, conjunctions of
such), numpy compares the stored totals with each trigger's bounds at once, and only the
windows where the answer may change go on to run the condition."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.evaluation.aggregation import Slot
from engine.evaluation.known import KnownRows
from engine.evaluation.plan import Plan
from engine.evaluation.stats import unit_scale
from engine.evaluation.totals import UNSTORED, AggregateKey, Totals
from rules.shapes import Bound, Shape, window_columns

Item = tuple[Plan, Slot, list[AggregateKey]]  # a trigger, a window, the aggregates it reads
Work = list[Item]


@dataclass(slots=True)
class Group:
    """The windows of one recognised condition (one shape object per condition text and
    parameter types: `rules.shapes.recognize` keeps them), each with its place in the work,
    its position in the batch's changes (`Changes.slots`), its trigger's plan and bounds."""

    shape: Shape
    places: list[int] = field(default_factory=list)
    at: list[int] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    bounds: list[tuple[Bound, ...]] = field(default_factory=list)


@dataclass(slots=True)
class BatchWork:
    """Each plan with each window of its stream a batch touched, in order (``size`` of them):
    the windows of recognised conditions grouped by shape, to be decided in bulk, and the
    others as items with their place. ``keys`` and ``slots`` are the batch's windows in the
    order of its changes."""

    keys: list[AggregateKey]
    slots: list[Slot]
    items: list[tuple[int, Item]] = field(default_factory=list)
    groups: dict[int, Group] = field(default_factory=dict)
    size: int = 0


def decide_recognised(
    work: BatchWork,
    totals: Mapping[AggregateKey, Totals | None],
    columns: KnownRows | None = None,
) -> tuple[Work, set[int]]:
    """The work items that need their condition run, in order, and the positions among them
    where a recognised condition is known to hold. The windows left out are those where a
    recognised condition is false: for a rule that does not re-arm on leave a false condition
    changes no state and decides nothing, so they are only counted (`ThresholdEvaluator`
    counts ``work.size``). ``columns``: the totals of the batch's windows in the order of its
    changes, if worked out by column (`added_to_known`); else each window's are read from
    ``totals``."""
    keys, slots = work.keys, work.slots
    hits: list[tuple[int, Item]] = []
    for group in work.groups.values():
        shape = group.shape
        if columns is None:
            values = _columns(shape, [totals.get(keys[i]) for i in group.at])
        else:
            values = _gathered(shape, columns, group.at)
        decided = shape.decide(values, shape.stack(group.bounds))
        places, at, plans = group.places, group.at, group.plans
        for j in np.flatnonzero(decided).tolist():
            i = at[j]
            hits.append((places[j], (plans[j], slots[i], [keys[i]])))
    if not hits:
        return [item for _, item in work.items], set()
    merged = sorted([*work.items, *hits], key=itemgetter(0))
    held = {place for place, _ in hits}
    return [item for _, item in merged], {n for n, (p, _) in enumerate(merged) if p in held}


_EMPTY = Totals(0.0, 0, 0.0, 0.0, 0, 0.0, 0, 0, "", UNSTORED)


def _columns(shape: Shape, found: Sequence[Totals | None]) -> dict[str, npt.NDArray[Any]]:
    """The windows' stored totals as `Shape.decide` reads them (as `StatsReader` scales them;
    a window without readings reads 0 everywhere). Only the fields the shape's aggregates
    read are made arrays (each straight from the totals, without a list of its own)."""
    rows = [t if t is not None and t[1] else _EMPTY for t in found]
    n = len(rows)

    def column(i: int, dtype: type[np.generic]) -> npt.NDArray[Any]:
        return np.fromiter(map(itemgetter(i), rows), dtype=dtype, count=n)

    count = column(1, np.int64)
    read = {_FIELD[a] for a in shape.aggregates if a in _FIELD}
    unread = np.zeros(n)  # fields no aggregate of the shape reads (window_columns skips them)
    total, low, high, last = (column(i, np.float64) if i in read else unread for i in (0, 2, 3, 5))
    used = set(compress(map(itemgetter(8), rows), map(itemgetter(1), rows)))
    scale: float | npt.NDArray[np.float64] = 1.0
    if len(used) == 1:
        scale = unit_scale(used.pop())
    elif used:
        scale = np.array([unit_scale(t[8]) if t[1] else 1.0 for t in rows])
    return window_columns(shape.aggregates, total, count, low, high, last, scale)


def _gathered(shape: Shape, rows: KnownRows, at: list[int]) -> dict[str, npt.NDArray[Any]]:
    """`_columns`, for windows whose totals are rows of ``rows`` (at ``at``), taken by array
    indexing instead of from a `Totals` each."""
    index = np.array(at, dtype=np.intp)
    floats, count = rows.floats[index], rows.ints[index, 0]
    filled = count > 0
    total, low, high, last = (floats[:, i] for i in range(4))
    if not filled.all():  # a window without readings reads 0 everywhere
        total, low, high, last = (np.where(filled, c, 0.0) for c in (total, low, high, last))
    units = rows.units
    listed = [units[i] if has else None for i, has in zip(at, filled.tolist(), strict=True)]
    used = {unit for unit in listed if unit is not None}
    scale: float | npt.NDArray[np.float64] = 1.0
    if len(used) == 1:
        scale = unit_scale(used.pop())
    elif used:
        scale = np.array([1.0 if unit is None else unit_scale(unit) for unit in listed])
    return window_columns(shape.aggregates, total, count, low, high, last, scale)


# The field of `Totals` each aggregate is worked out from (``count`` is always read).
_FIELD = {"sum": 0, "avg": 0, "min": 2, "max": 3, "last": 5}
