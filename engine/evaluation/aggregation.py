"""Running window aggregates: new readings add to them, corrections recompute them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from engine.evaluation.aggregates_repository import UnmovedRows
from engine.evaluation.ports import AggregateStore
from engine.evaluation.totals import UNSTORED, AggregateKey, Totals
from engine.feeds.records import ReadingRow
from rules.windows import Window, WindowKind, window_for

if TYPE_CHECKING:
    from engine.customers.refs import CustomerRef

Stream = tuple[str, str, str]  # customer_id, metric, window kind
BUCKET_SECONDS = 900  # every UTC offset in use is a multiple of 15 minutes
_NONE_START = -(2**62)
_NONE_END = 2**62
_INF = float("inf")


class Slot(NamedTuple):
    """A window with its bounds as epoch seconds (``none`` spans all representable time)."""

    start: int
    end: int
    window: Window


class WindowCache:
    """``window_for`` memoised per zone, kind and quarter hour (windows never split one)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, int], Slot] = {}
        # The slot of (kind, zone, epoch second // 900) if worked out already, else None.
        self.cached = self._cache.get

    def slot(self, kind: str, ts: int, zone: str) -> Slot:
        key = (kind, zone, ts // BUCKET_SECONDS)
        found = self._cache.get(key)
        if found is None:
            kind_: WindowKind = kind  # type: ignore[assignment]
            window = window_for(kind_, datetime.fromtimestamp(ts, UTC), zone)
            found = self._cache[key] = Slot(self.ts(window), self.end_ts(window), window)
        return found

    def of(self, kind: str, ts: int, zone: str) -> Window:
        return self.slot(kind, ts, zone).window

    def previous(self, window: Window) -> Window:
        return self.of(window.kind, self.ts(window) - 1, window.zone.key)

    @staticmethod
    def ts(window: Window) -> int:
        return _NONE_START if window.kind == "none" else int(window.start.timestamp())

    @staticmethod
    def end_ts(window: Window) -> int:
        return _NONE_END if window.kind == "none" else int(window.end.timestamp())


def fold(acc: list[Any], start: int, end: int, value: float) -> None:
    """Add one reading to running totals in the order of `Totals` (see `first_delta`)."""
    acc[0] += value
    acc[1] += 1
    if value < acc[2]:
        acc[2] = value
    if value > acc[3]:
        acc[3] = value
    if start >= acc[4]:
        acc[4], acc[5] = start, value
    elif start < acc[9]:
        acc[9] = start
    if end > acc[6]:
        acc[6] = end


def first_delta(start: int, end: int, value: float, window_end: int, unit: str) -> list[Any]:
    """Running totals in the order of `Totals`, then the earliest start folded in."""
    return [value, 1, value, value, start, value, end, window_end, unit, start]


def _nothing(window_end: int, unit: str) -> list[Any]:
    """A delta that adds nothing (it only locks, or creates, the window's row)."""
    return [0.0, 0, _INF, -_INF, _NONE_START, 0.0, _NONE_START, window_end, unit, _NONE_END]


Watched = Mapping[tuple[str, str], Sequence[Stream]]
"""The streams triggers read, by (customer, metric): what a reading of that pair feeds."""


def watched_streams(streams: Iterable[Stream]) -> dict[tuple[str, str], list[Stream]]:
    """``streams`` by (customer, metric), each once, in order."""
    by_pair: dict[tuple[str, str], list[Stream]] = {}
    for stream in streams:
        pair = (stream[0], stream[1])
        found = by_pair.get(pair)
        if found is None:
            by_pair[pair] = [stream]
        elif stream not in found:
            found.append(stream)
    return by_pair


class Changes(NamedTuple):
    """What a batch does to the aggregates of the streams evaluation watches: each window's
    delta (in the order of `Totals`), the windows corrections make recompute, each window's
    slot in the order of ``deltas``, and the windows each stream had readings in, as their
    positions in that order (each once: a window is listed when its delta is first made).
    A window's position finds its key, its slot and, where worked out by column, its totals
    (`added_to_known`) without building and hashing its key again."""

    deltas: dict[AggregateKey, list[Any]]
    recompute: dict[AggregateKey, Window]
    touched: dict[Stream, list[int]]
    slots: list[Slot]


class Unmoved(NamedTuple):
    """The totals of the windows a batch only adds to, as predicted, and the statement
    parameters that store them where nothing moved (SQLite)."""

    fresh: Mapping[AggregateKey, Totals]
    rows: UnmovedRows


class Aggregator:
    def __init__(
        self,
        store: AggregateStore,
        windows: WindowCache,
        customers: Mapping[str, CustomerRef],
    ) -> None:
        self.aggregates = store.aggregates
        self.readings = store.readings
        self.windows = windows
        self.customers = customers

    def changes(
        self, new: Sequence[ReadingRow], corrected: Sequence[ReadingRow], by_pair: Watched
    ) -> Changes:
        """What these readings change in the streams ``by_pair`` holds (`watched_streams`),
        worked out without the database."""
        touched: dict[Stream, list[int]] = {}
        slots: list[Slot] = []
        deltas = self._deltas(new, by_pair, touched, slots)
        recompute: dict[AggregateKey, Window] = {}
        for row in corrected:
            for stream in by_pair.get((row[0], row[1]), ()):
                kind = stream[2]
                slot = self.windows.slot(kind, row[2], self.customers[row[0]].timezone)
                key = (row[0], row[1], kind, slot.start)
                recompute[key] = slot.window
                if key not in deltas:  # a window no reading of this batch has touched yet
                    deltas[key] = _nothing(slot.end, row[6])
                    touched.setdefault(stream, []).append(len(slots))
                    slots.append(slot)
        return Changes(deltas, recompute, touched, slots)

    def apply(self, changes: Changes) -> dict[AggregateKey, Totals]:
        """Write ``changes``; the new totals of windows that only gained readings (``fresh``).

        One statement adds the new readings and takes the row lock of every window this
        batch changes, in key order (two batches never wait on each other in a cycle). Only
        then are corrected windows recomputed: the readings they read are those committed
        by every transaction that held these rows before, and any transaction still to
        come adds its own readings on top of what this one writes."""
        fresh = self.aggregates.add(changes.deltas)
        self._rebuild(changes.recompute)
        for key in changes.recompute:
            fresh.pop(key, None)  # rebuilt from the readings: read back like any other
        return fresh

    def apply_unmoved(
        self,
        changes: Changes | None,
        predicted: Mapping[AggregateKey, Totals | None],
        planned: Unmoved | None = None,
    ) -> Mapping[AggregateKey, Totals] | None:
        """`apply`, for a batch evaluated on windows that are to hold ``predicted`` (`added`,
        `recomputed`): the new totals of windows that only gained readings, each as predicted,
        or None if one of them moved meanwhile (the caller rolls back). SQLite writes what
        `added` planned (``planned``): each window's predicted totals where its row still
        holds the totals they were worked out from, checked by the statement itself.
        PostgreSQL adds in key order and compares what the statement answers. ``changes``
        None: the batch only adds to windows, and ``planned`` holds every statement
        (`ThresholdEvaluator.prepare_warm`, SQLite)."""
        if not self.aggregates.sqlite:
            assert changes is not None, "PostgreSQL adds the changes themselves"
            fresh = self.apply(changes)
            return None if any(predicted[k] != t for k, t in fresh.items()) else fresh
        assert planned is not None, "SQLite writes the statements `added` worked out"
        if not self.aggregates.write_unmoved_rows(planned.rows):
            return None
        if changes is not None and changes.recompute:
            recompute = changes.recompute
            self.aggregates.add({k: changes.deltas[k] for k in recompute})
            self._rebuild(recompute)
        return planned.fresh

    def recomputed(
        self, recompute: Mapping[AggregateKey, Window], rows: Sequence[ReadingRow]
    ) -> dict[AggregateKey, Totals | None]:
        """The totals `apply` will leave in the windows corrections make recompute: their
        stored readings with ``rows`` (this batch's new and corrected readings) laid over
        them, folded in order."""
        predicted: dict[AggregateKey, Totals | None] = {}
        if not recompute:
            return predicted
        overlay = self._overlay(recompute, rows)
        for key, window in recompute.items():
            start, end = self.windows.ts(window), self.windows.end_ts(window)
            readings = {
                (s, d): (v, u)
                for s, d, v, u in self.readings.window_readings(key[0], key[1], start, end)
            }
            readings.update(overlay.get(key, {}))
            predicted[key] = _folded(sorted(readings.items()), end)
        return predicted

    def _overlay(
        self, recompute: Mapping[AggregateKey, Window], rows: Sequence[ReadingRow]
    ) -> dict[AggregateKey, dict[tuple[int, int], tuple[float, str]]]:
        kinds: dict[tuple[str, str], set[str]] = {}
        for customer, metric, kind, _ in recompute:
            kinds.setdefault((customer, metric), set()).add(kind)
        overlay: dict[AggregateKey, dict[tuple[int, int], tuple[float, str]]] = {}
        for row in rows:
            for kind in kinds.get((row[0], row[1]), ()):
                slot = self.windows.slot(kind, row[2], self.customers[row[0]].timezone)
                key = (row[0], row[1], kind, slot.start)
                if key in recompute:
                    overlay.setdefault(key, {})[(row[2], row[3])] = (row[5], row[6])
        return overlay

    def _deltas(
        self,
        rows: Sequence[ReadingRow],
        by_pair: Watched,
        touched: dict[Stream, list[int]],
        slots: list[Slot],
    ) -> dict[AggregateKey, list[Any]]:
        """What new readings add to each window they fall in (the hot loop of ingest: the
        window cache's lookup and `first_delta` are written out here, which spares two calls per
        reading). Each new window's slot goes to ``slots``, its position there to its stream
        in ``touched``."""
        deltas: dict[AggregateKey, list[Any]] = {}
        add = deltas.setdefault
        listed = slots.append
        slot_of, cached, customers = self.windows.slot, self.windows.cached, self.customers
        # The last slot found, by (kind, zone, quarter hour): a batch's readings mostly share
        # their start, and comparing spares building and hashing a key for the cache.
        last_kind, last_zone, last_bucket = "", "", None
        last_slot = cast(Slot, None)  # read only once a bucket matched
        for row in rows:
            customer, metric, start = row[0], row[1], row[2]
            found = by_pair.get((customer, metric))
            if found is None:
                continue
            zone, value, bucket = customers[customer].timezone, row[5], start // BUCKET_SECONDS
            for stream in found:
                kind = stream[2]
                if bucket == last_bucket and kind == last_kind and zone == last_zone:
                    slot = last_slot
                else:
                    slot = cached((kind, zone, bucket)) or slot_of(kind, start, zone)
                    last_kind, last_zone, last_bucket, last_slot = kind, zone, bucket, slot
                # `first_delta`: the running totals, then the earliest start folded in
                end, closes = start + row[3], slot.end
                first = [value, 1, value, value, start, value, end, closes, row[6], start]
                acc = add((customer, metric, kind, slot.start), first)
                if acc is first:
                    at = touched.get(stream)
                    if at is None:
                        touched[stream] = [len(slots)]
                    else:
                        at.append(len(slots))
                    listed(slot)
                else:
                    fold(acc, start, end, value)
        return deltas

    def recompute(self, keys: Mapping[AggregateKey, Window]) -> None:
        """Rebuild these aggregates from the stored readings, holding their rows (taken in
        key order, created where missing) so that no concurrent batch's readings are lost."""
        self.aggregates.add(
            {key: _nothing(self.windows.end_ts(window), "") for key, window in keys.items()}
        )
        self._rebuild(keys)

    def _rebuild(self, keys: Mapping[AggregateKey, Window]) -> None:
        """Overwrite aggregates whose rows this transaction holds with what the readings give;
        a window without readings has no aggregate."""
        rows = self._recomputed(keys)
        self.aggregates.replace(rows)
        built = {key for key, _ in rows}
        self.aggregates.delete([key for key in keys if key not in built])

    def _recomputed(self, keys: Mapping[AggregateKey, Window]) -> list[tuple[AggregateKey, Totals]]:
        rows: list[tuple[AggregateKey, Totals]] = []
        for key, window in keys.items():
            start, end = self.windows.ts(window), self.windows.end_ts(window)
            readings = self.readings.window_readings(key[0], key[1], start, end)
            totals = _folded([((s, d), (v, u)) for s, d, v, u in readings], end)
            if totals is not None:
                rows.append((key, totals))
        return rows


def _folded(
    readings: Sequence[tuple[tuple[int, int], tuple[float, str]]], window_end: int
) -> Totals | None:
    """Totals of a window's readings, folded in (start, duration) order; None if none."""
    acc: list[Any] | None = None
    for (start, duration), (value, unit) in readings:
        if acc is None:
            acc = first_delta(start, start + duration, value, window_end, unit)
        else:
            fold(acc, start, start + duration, value)
    return None if acc is None else Totals._make((*acc[:9], UNSTORED))
