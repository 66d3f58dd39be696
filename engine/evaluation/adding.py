"""The totals a batch leaves in the windows it only adds readings to, worked out before the
write transaction: from the stored totals plus each window's delta (`Changes.deltas`), with
the same operations in the same order as the adding upsert (`AggregateRepository.add`), so
equal doubles, not close ones. On SQLite the same pass makes the parameters of the statements
that store them (`AggregateRepository.write_unmoved_rows`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from engine.evaluation.aggregates_repository import UnmovedRows, aggregate_row
from engine.evaluation.aggregation import Changes
from engine.evaluation.known import KnownRows
from engine.evaluation.totals import AggregateKey, Totals

_tuple = tuple.__new__
_totals = partial(_tuple, Totals)


class Added(NamedTuple):
    """The windows a batch only adds to: their totals after the batch, and the statement
    parameters that write them where nothing moved (SQLite)."""

    predicted: Mapping[AggregateKey, Totals]
    rows: UnmovedRows
    # The same totals in columns, in the order of `predicted`, when worked out by column.
    columns: KnownRows | None = None


def added(
    changes: Changes,
    stored: Mapping[AggregateKey, Totals],
    *,
    guessed: bool = False,
    rows: bool = False,
) -> Added | None:
    """The windows a batch only adds to (not recomputed), in one pass: the totals the write
    will leave in each, worked out from a snapshot (``stored``, the aggregates as they are;
    a window missing there has no row) and, if ``rows``, the statement parameters.
    ``guessed``: the new readings were not looked up; None if one of them may be stored
    already (its window's stored totals cover its start: one starting at or after
    ``covered_until`` cannot be stored)."""
    recompute = changes.recompute
    predicted: dict[AggregateKey, Totals] = {}
    statements = UnmovedRows([], [])
    insert, update = statements.inserted.append, statements.updated.append
    get = stored.get
    for key, delta in changes.deltas.items():
        if recompute and key in recompute:
            continue
        was = get(key)
        if was is None:
            now = _tuple(Totals, (*delta[:9], 0))  # a new row's revision
            if rows:
                insert(aggregate_row(key, now))
        else:
            # samples, and the delta's earliest start against covered_until
            if guessed and was[1] and delta[9] < was[6]:
                return None
            total, samples, low, high = was[0] + delta[0], was[1] + delta[1], was[2], was[3]
            if delta[2] < low:
                low = delta[2]
            if delta[3] > high:
                high = delta[3]
            if delta[4] >= was[4]:
                last_start, last_value = delta[4], delta[5]
            else:
                last_start, last_value = was[4], was[5]
            covered = was[6] if was[6] >= delta[6] else delta[6]
            revision = was[9]
            changed = (total, samples, low, high, last_start, last_value, covered)
            now = _tuple(Totals, (*changed, was[7], was[8], revision + 1))
            if rows:  # as `unmoved_rows` puts them: the new totals, the key, the revision
                update((*changed, *key, revision))
        predicted[key] = now
    return Added(predicted, statements)


class Delta(NamedTuple):
    """What a batch adds to each of its windows, one list per field, in the order of its
    windows: the fields of `Changes.deltas` that `added_by_column` reads."""

    total: Sequence[float]
    samples: Sequence[int]
    low: Sequence[float]
    high: Sequence[float]
    last_start: Sequence[int]
    last_value: Sequence[float]
    covered: Sequence[int]
    earliest: Sequence[int]  # the earliest start folded in

    @classmethod
    def of(cls, deltas: Iterable[Sequence[Any]]) -> Delta:
        """Running deltas (in the order of `Changes.deltas`' values) as columns, in order."""
        d = list(zip(*deltas, strict=True))
        return cls(d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[9])


def added_to_known(
    changes: Changes,
    was: KnownRows,
    *,
    guessed: bool = False,
    rows: bool = False,
) -> Added | None:
    """`added`, for a batch whose windows all have a row whose totals this process knows
    (``was``, in the order of ``changes.deltas``; none recomputed): `added_by_column`."""
    keys = list(changes.deltas)
    if not keys:
        return Added({}, UnmovedRows([], []))
    return added_by_column(keys, Delta.of(changes.deltas.values()), was, guessed=guessed, rows=rows)


def added_by_column(
    keys: list[AggregateKey],
    delta: Delta,
    was: KnownRows,
    *,
    guessed: bool = False,
    rows: bool = False,
) -> Added | None:
    """`added`, for windows (``keys``) whose rows hold ``was`` and gain ``delta``, a column at
    a time: each element goes through the operations `added` applies to one window (IEEE
    doubles either way), so the totals are the same."""
    if not keys:
        return Added({}, UnmovedRows([], []))
    floats, ints = was.floats, was.ints
    samples, covered = ints[:, 0], ints[:, 2]
    if guessed:
        earliest = np.array(delta.earliest, dtype=np.int64)
        if np.any((samples != 0) & (earliest < covered)):
            return None
    d_low = np.array(delta.low, dtype=np.float64)
    d_high = np.array(delta.high, dtype=np.float64)
    d_start = np.array(delta.last_start, dtype=np.int64)
    d_covered = np.array(delta.covered, dtype=np.int64)
    newer = d_start >= ints[:, 1]
    total = floats[:, 0] + np.array(delta.total, dtype=np.float64)
    low = np.where(d_low < floats[:, 1], d_low, floats[:, 1])
    high = np.where(d_high > floats[:, 2], d_high, floats[:, 2])
    last_value = np.where(newer, np.array(delta.last_value, dtype=np.float64), floats[:, 3])
    after = KnownRows(
        np.column_stack((total, low, high, last_value)),
        np.column_stack(
            (
                samples + np.array(delta.samples, dtype=np.int64),
                np.where(newer, d_start, ints[:, 1]),
                np.where(covered >= d_covered, covered, d_covered),
                ints[:, 3],
                ints[:, 4] + 1,
            )
        ),
        was.units,
    )
    now = after.fields()
    statements = UnmovedRows([], [])
    if rows:  # as `unmoved_rows` puts them: the new totals, the key, the revision
        keyed = zip(*keys, strict=True)
        statements.updated.extend(zip(*now[:7], *keyed, ints[:, 4].tolist(), strict=True))
    return Added(ByColumn(keys, now), statements, after)


class ByColumn(Mapping[AggregateKey, Totals]):
    """Totals worked out by column (`added_to_known`), by window key: a window's `Totals` is
    made only when asked for, and the keys are indexed only then (a batch where no condition
    holds asks for none)."""

    def __init__(self, keys: list[AggregateKey], fields: tuple[list[Any], ...]) -> None:
        self._keys = keys
        self._fields = fields  # in the order of `Totals`, each in the order of ``keys``
        self._index: dict[AggregateKey, int] | None = None

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[AggregateKey]:
        return iter(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._indexed()

    def __getitem__(self, key: AggregateKey) -> Totals:
        i = self._indexed()[key]
        return _totals([column[i] for column in self._fields])

    def as_dict(self) -> dict[AggregateKey, Totals | None]:
        """Every window's totals in a dict of its own, made at once (faster than asking for
        each), typed to also take the windows without totals (None) a caller adds."""
        made = map(_totals, zip(*self._fields, strict=True))
        return dict(zip(self._keys, made, strict=True))

    def _indexed(self) -> dict[AggregateKey, int]:
        if self._index is None:
            self._index = {key: i for i, key in enumerate(self._keys)}
        return self._index


def as_dict(totals: Mapping[AggregateKey, Totals]) -> dict[AggregateKey, Totals | None]:
    """``totals`` (from `added` or `added_to_known`) in a dict of its own (see
    `ByColumn.as_dict`)."""
    return totals.as_dict() if isinstance(totals, ByColumn) else dict(totals)
