"""Window totals as this process last stored them, kept per tenant between batches.

A batch takes the totals of the windows it adds to from here instead of reading them (the
write checks that each window still holds them, `AggregateRepository.write_unmoved_rows`).
They are kept in columns, one row per window, not as a `Totals` object per window: a batch
then gathers the totals of its windows with array indexing (`KnownTotals.rows`), where
reading thousands of small objects scattered over the heap would wait on memory for each.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from itertools import compress, repeat
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from engine.evaluation.totals import AggregateKey, Totals

_FLOATS = (0, 2, 3, 5)  # the float fields of `Totals`: total, low, high, last_value
_INTS = (1, 4, 6, 7, 9)  # samples, last_start, covered_until, end, revision


class KnownRows(NamedTuple):
    """Known totals of some windows, in the order asked for: one column per field."""

    floats: npt.NDArray[np.float64]  # (n, 4): total, low, high, last_value
    ints: npt.NDArray[np.int64]  # (n, 5): samples, last_start, covered_until, end, revision
    units: list[str]

    def fields(self) -> tuple[list[Any], ...]:
        """The columns as lists of Python numbers, in the order of `Totals`."""
        f, i = self.floats.T.tolist(), self.ints.T.tolist()
        return (f[0], i[0], f[1], f[2], i[1], f[3], i[2], i[3], self.units, i[4])


class KnownUpdate(NamedTuple):
    """New totals of windows, by column: what a batch keeps in ``known`` once it has stored
    them (`KnownTotals.keep`). ``positions``: where ``known`` keeps each already (from
    `KnownTotals.positions`); None when some are new to it, then they are kept by ``keys``."""

    known: KnownTotals
    positions: npt.NDArray[np.intp] | None
    rows: KnownRows
    keys: Sequence[AggregateKey] = ()


class KnownTotals(Mapping[AggregateKey, Totals]):
    """Each window's totals by its key. Readers take no lock: a value read while another
    thread writes it may be stale or mixed, which the write that relies on it finds out."""

    def __init__(self) -> None:
        self._slots: dict[AggregateKey, int] = {}
        self._floats: npt.NDArray[np.float64] = np.empty((0, 4))
        self._ints: npt.NDArray[np.int64] = np.empty((0, len(_INTS)), dtype=np.int64)
        self._units: npt.NDArray[Any] = np.empty(0, dtype=object)
        self._lock = threading.Lock()
        # Where a window's totals are kept (a position for `rows`), or None.
        self.position = self._slots.get

    def __len__(self) -> int:
        return len(self._slots)

    def __iter__(self) -> Iterator[AggregateKey]:
        return iter(list(self._slots))

    def __contains__(self, key: object) -> bool:
        return key in self._slots

    def __getitem__(self, key: AggregateKey) -> Totals:
        return self._at(self._slots[key])

    def get(self, key: AggregateKey, default: Any = None) -> Any:
        slot = self._slots.get(key)
        return default if slot is None else self._at(slot)

    def _at(self, slot: int) -> Totals:
        return Totals._make(c[0] for c in self.rows(np.array([slot], dtype=np.intp)).fields())

    def positions(self, keys: Sequence[AggregateKey]) -> npt.NDArray[np.intp] | None:
        """Where each of ``keys`` is kept, in order; None unless all of them are."""
        try:
            return np.fromiter(map(self._slots.__getitem__, keys), dtype=np.intp, count=len(keys))
        except KeyError:
            return None

    def rows(self, positions: npt.NDArray[np.intp]) -> KnownRows:
        """The totals kept at ``positions`` (from `positions`)."""
        return KnownRows(
            self._floats[positions], self._ints[positions], self._units[positions].tolist()
        )

    def put(self, positions: npt.NDArray[np.intp], rows: KnownRows) -> None:
        """Keep ``rows`` as the totals of the windows at ``positions`` (from `positions`)."""
        with self._lock:
            self._floats[positions] = rows.floats
            self._ints[positions] = rows.ints
            self._units[positions] = rows.units

    def keep(self, update: KnownUpdate) -> None:
        """Keep the totals of ``update`` (made for this object)."""
        if update.positions is not None:
            self.put(update.positions, update.rows)
        else:
            self.update_rows(update.keys, update.rows)

    def update(self, totals: Mapping[AggregateKey, Totals]) -> None:
        """Keep these windows' totals (replacing what was kept for them)."""
        if not totals:
            return
        fields = list(zip(*totals.values(), strict=True))
        floats = np.array([fields[i] for i in _FLOATS], dtype=np.float64).T
        ints = np.array([fields[i] for i in _INTS], dtype=np.int64).T
        self.update_rows(list(totals), KnownRows(floats, ints, list(fields[8])))

    def update_rows(self, keys: Sequence[AggregateKey], rows: KnownRows) -> None:
        """`update`, from the totals of ``keys`` in columns. A new window's key is published
        only once its row is written: a reader never finds a key without it."""
        if not keys:
            return
        units = np.array(rows.units, dtype=object)
        with self._lock:
            slots = self._slots
            at = np.fromiter(map(slots.get, keys, repeat(-1)), dtype=np.intp, count=len(keys))
            new = at < 0
            start = len(slots)
            end = start + int(np.count_nonzero(new))
            if end > start:
                at[new] = np.arange(start, end, dtype=np.intp)
                self._grow(end)
            self._floats[at] = rows.floats
            self._ints[at] = rows.ints
            self._units[at] = units
            if end > start:
                slots.update(zip(compress(keys, new.tolist()), range(start, end), strict=True))

    def _grow(self, size: int) -> None:
        capacity = len(self._floats)
        if size <= capacity:
            return
        capacity = max(size, 2 * capacity, 1024)
        self._floats = _grown(self._floats, capacity)
        self._ints = _grown(self._ints, capacity)
        self._units = _grown(self._units, capacity)


def _grown(array: npt.NDArray[Any], capacity: int) -> npt.NDArray[Any]:
    grown = np.empty((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown
