"""SQL for window aggregates: each window's running totals, folded in bulk as readings arrive
(through the driver, `engine.platform.driver_sql`).

PostgreSQL locks each row as it is upserted, so rows go in key order there: concurrent batches
then queue instead of deadlocking (SQLite runs one writer at a time)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

from engine.evaluation.totals import AggregateKey, Totals
from engine.platform.driver_sql import DriverStatements, chunks, in_lists

# The window's customer in the parameters of the keyed UPDATE (see `UnmovedRows`): a
# customer's windows are next to each other in the table's key order.
_UPDATED_KEY = itemgetter(7)
_UPSERT_CHUNK = 1000  # 13 parameters a row: stays under SQLite's 32,766
_RETURNED = (
    'customer_id, metric, "window", start, sum, count, min, max, last_start, last_value, '
    'covered_until, "end", unit, revision'
)
# PostgreSQL: the aggregate rows of `_AGGREGATE_COLUMNS` as one array per column, in order.
_UNNESTED = (
    "c, m, w, s, e, su, n, lo, hi, ls, lv, cu, u FROM unnest("
    "%s::varchar[], %s::varchar[], %s::varchar[], %s::bigint[], %s::bigint[], "
    "%s::float8[], %s::integer[], %s::float8[], %s::float8[], %s::bigint[], %s::float8[], "
    "%s::bigint[], %s::varchar[]) WITH ORDINALITY "
    "AS t(c, m, w, s, e, su, n, lo, hi, ls, lv, cu, u, ord)"
)
_AGGREGATE_COLUMNS = (
    'customer_id, metric, "window", start, "end", sum, count, min, max, '
    "last_start, last_value, covered_until, unit"
)


def aggregate_row(key: AggregateKey, t: Sequence[Any]) -> tuple[Any, ...]:
    """Parameters in the order of ``_AGGREGATE_COLUMNS``, from `Totals` or a running list in
    its order (total, samples, low, high, last_start, last_value, covered_until, end, unit)."""
    return (*key, t[7], t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[8])


class UnmovedRows(NamedTuple):
    """Parameters of `AggregateRepository.write_unmoved_rows`, built before the write
    transaction: new windows' rows, and for the others their new totals (the first seven
    fields of `Totals`), their key and the revision their row is expected to hold."""

    inserted: list[tuple[Any, ...]]
    updated: list[tuple[Any, ...]]


def unmoved_rows(windows: Iterable[tuple[AggregateKey, Totals | None, Totals]]) -> UnmovedRows:
    """The statement parameters that give each window ``after`` where it holds ``before``."""
    rows = UnmovedRows([], [])
    insert, update = rows.inserted.append, rows.updated.append
    for key, before, after in windows:
        if before is None:
            insert(aggregate_row(key, after))
        else:
            update((*after[:7], *key, before.revision))
    return rows


class AggregateRepository(DriverStatements):
    def add(self, deltas: Mapping[AggregateKey, Sequence[Any]]) -> dict[AggregateKey, Totals]:
        """Fold new readings into running aggregates (insert, or add to what is there) and
        answer the resulting totals.

        ``deltas`` maps each window to what the batch adds to it, in the order of `Totals`.
        PostgreSQL locks each row as it is upserted, so rows go in key order there: concurrent
        batches then queue instead of deadlocking (SQLite runs one writer at a time)."""
        if not deltas:
            return {}
        if self.sqlite:
            return self._add_in_chunks(list(deltas.items()))
        rows = [aggregate_row(key, t) for key, t in sorted(deltas.items())]
        # One statement over 13 arrays: psycopg would parse a query with 13 placeholders a row
        # on every call, which cost more than the statement itself.
        source = f"SELECT {_UNNESTED} ORDER BY ord"
        sql = f"{self._upsert_adding(source)} RETURNING {_RETURNED}"
        return self._totals(self._query(sql, [list(column) for column in zip(*rows, strict=True)]))

    def _add_in_chunks(
        self, items: Sequence[tuple[AggregateKey, Any]]
    ) -> dict[AggregateKey, Totals]:
        found: dict[AggregateKey, Totals] = {}
        for chunk in chunks(items, _UPSERT_CHUNK):
            params: list[Any] = []
            for key, t in chunk:
                params += aggregate_row(key, t)
            values = ", ".join([self._marks(13)] * len(chunk))
            sql = self._upsert_adding(f"VALUES {values}") + f" RETURNING {_RETURNED}"
            found.update(self._totals(self._query(sql, params)))
        return found

    def write_unmoved(self, windows: Mapping[AggregateKey, tuple[Totals | None, Totals]]) -> bool:
        """SQLite: give each window its new totals (``after``) only where it holds exactly
        ``before`` (None: no row yet); see `write_unmoved_rows`."""
        return self.write_unmoved_rows(
            unmoved_rows((key, before, after) for key, (before, after) in windows.items())
        )

    def write_unmoved_rows(self, rows: UnmovedRows) -> bool:
        """SQLite: the statements of `unmoved_rows`, each checking that its window holds the
        totals it was evaluated on; True if every window did. When one did not, the caller
        rolls the transaction back. A window with a row is one keyed UPDATE, not an upsert
        that first tries to insert and then adds in SQL: its new totals are the old ones plus
        the batch's delta, worked out as the adding upsert would.

        A row holds the totals it was read with while it holds the same revision: every
        statement here that changes a row adds one to it, and a row is deleted only with its
        customer's data or in the transaction that created it (`Aggregator.recompute`), so a
        revision is never seen twice with different totals.

        Rows are written in key order (updates by customer): each page of the table and its
        index is then changed once, in order, whatever order the batch's readings came in
        (5,000 windows of random customers were updated in 27 ms instead of 49)."""
        m = self.mark
        changed = 0
        if rows.inserted:
            changed += self._insert_rows(
                f"INSERT INTO window_aggregates ({_AGGREGATE_COLUMNS})",
                sorted(rows.inserted),
                'ON CONFLICT (customer_id, metric, "window", start) DO NOTHING',
            )
        if rows.updated:
            changed += self._execmany(
                f"UPDATE window_aggregates SET sum = {m}, count = {m}, min = {m}, max = {m}, "
                f"last_start = {m}, last_value = {m}, covered_until = {m}, "
                f"revision = revision + 1 WHERE customer_id = {m} AND metric = {m} AND "
                f'"window" = {m} AND start = {m} AND revision = {m}',
                sorted(rows.updated, key=_UPDATED_KEY),
            )
        return changed == len(rows.inserted) + len(rows.updated)

    @staticmethod
    def _totals(rows: Iterable[Sequence[Any]]) -> dict[AggregateKey, Totals]:
        return {(row[0], row[1], row[2], row[3]): Totals._make(row[4:]) for row in rows}

    def _upsert_adding(self, source: str) -> str:
        newer = "excluded.last_start >= window_aggregates.last_start"
        return (
            f"INSERT INTO window_aggregates ({_AGGREGATE_COLUMNS}) {source} "
            'ON CONFLICT (customer_id, metric, "window", start) DO UPDATE SET '
            "sum = window_aggregates.sum + excluded.sum, "
            "count = window_aggregates.count + excluded.count, "
            f"min = {self._least('window_aggregates.min', 'excluded.min')}, "
            f"max = {self._greatest('window_aggregates.max', 'excluded.max')}, "
            f"last_value = CASE WHEN {newer} THEN excluded.last_value "
            "ELSE window_aggregates.last_value END, "
            f"last_start = CASE WHEN {newer} THEN excluded.last_start "
            "ELSE window_aggregates.last_start END, "
            "covered_until = "
            f"{self._greatest('window_aggregates.covered_until', 'excluded.covered_until')}, "
            "revision = window_aggregates.revision + 1"
        )

    def replace(self, rows: Iterable[tuple[AggregateKey, Totals]]) -> None:
        """Overwrite aggregates recomputed from the readings (after corrections)."""
        values = [aggregate_row(key, t) for key, t in rows]
        sql = (
            f"INSERT INTO window_aggregates ({_AGGREGATE_COLUMNS}) VALUES {self._marks(13)} "
            'ON CONFLICT (customer_id, metric, "window", start) DO UPDATE SET '
            "sum = excluded.sum, count = excluded.count, min = excluded.min, "
            "max = excluded.max, last_value = excluded.last_value, "
            "last_start = excluded.last_start, covered_until = excluded.covered_until, "
            "unit = excluded.unit, revision = window_aggregates.revision + 1"
        )
        self._execmany(sql, values)

    def delete(self, keys: Sequence[AggregateKey]) -> None:
        m = self.mark
        sql = (
            f"DELETE FROM window_aggregates WHERE customer_id = {m} AND metric = {m} "
            f'AND "window" = {m} AND start = {m}'
        )
        self._execmany(sql, keys)

    def get(self, keys: Sequence[AggregateKey]) -> dict[AggregateKey, Totals]:
        """Stored totals of these windows. Keys are asked for by window (metric, kind,
        start), customers in one list each: a batch's windows mostly share their start."""
        found: dict[AggregateKey, Totals] = {}
        by_window: dict[tuple[str, str, int], list[str]] = {}
        for customer, metric, kind, start in dict.fromkeys(keys):
            by_window.setdefault((metric, kind, start), []).append(customer)
        m = self.mark
        for (metric, kind, start), customers in by_window.items():
            for chunk in in_lists(customers):
                marks = ", ".join([m] * len(chunk))
                sql = (
                    f"SELECT {_RETURNED} FROM window_aggregates WHERE metric = {m} AND "
                    f'"window" = {m} AND start = {m} AND customer_id IN ({marks})'
                )
                for row in self._query(sql, [metric, kind, start, *chunk]):
                    found[(row[0], row[1], row[2], row[3])] = Totals._make(row[4:])
        return found

    def delete_for_customer(self, customer_id: str) -> None:
        self._delete_for_customer("window_aggregates", customer_id)
