"""SQL for readings and window aggregates: the ingest hot path, written in bulk.

Statements go straight to the driver cursor (``executemany`` with positional parameters on
SQLite; on PostgreSQL one statement over one array per column), inside the session's
transaction: ORM objects, per-row statement compilation and result wrapping would cost more
than the rest of ingest together. Errors therefore arrive as the driver's own (``sqlite3`` or
``psycopg``), and engine events do not see these statements.

On PostgreSQL, concurrent batches lock the rows they write in key order, and a window's
aggregate row is held before its readings are re-read (see `engine.evaluation.aggregation`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from typing import Any, NamedTuple

from sqlmodel import Session

ReadingKey = tuple[str, str, int, int]  # customer_id, metric, start, duration
ReadingRow = tuple[str, str, int, int, str, float, str, str | None, int, str]
AggregateKey = tuple[str, str, str, int]  # customer_id, metric, window kind, window start


class Totals(NamedTuple):
    """Running aggregate of one window; times in epoch seconds, money in minor units."""

    total: float
    samples: int
    low: float
    high: float
    last_start: int
    last_value: float
    covered_until: int
    end: int
    unit: str


_CHUNK = 400
_IN_CHUNK = 900  # customer ids in one IN list (SQLite allows 32,766 parameters)
_UPSERT_CHUNK = 1000  # 13 parameters a row: stays under SQLite's 32,766
_RETURNED = (
    'customer_id, metric, "window", start, sum, count, min, max, last_start, last_value, '
    'covered_until, "end", unit'
)
# PostgreSQL: the aggregate rows of `_AGGREGATE_COLUMNS` as one array per column, in order.
_UNNESTED = (
    "c, m, w, s, e, su, n, lo, hi, ls, lv, cu, u FROM unnest("
    "%s::varchar[], %s::varchar[], %s::varchar[], %s::bigint[], %s::bigint[], "
    "%s::float8[], %s::integer[], %s::float8[], %s::float8[], %s::bigint[], %s::float8[], "
    "%s::bigint[], %s::varchar[]) WITH ORDINALITY "
    "AS t(c, m, w, s, e, su, n, lo, hi, ls, lv, cu, u, ord)"
)
_READINGS_UNNESTED = (
    "c, m, s, d, t, v, u, q, r, b FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[], "
    "%s::integer[], %s::varchar[], %s::float8[], %s::varchar[], %s::varchar[], %s::bigint[], "
    "%s::varchar[]) WITH ORDINALITY AS x(c, m, s, d, t, v, u, q, r, b, ord) ORDER BY ord"
)
_READING_COLUMNS = (
    "customer_id, metric, start, duration, tenant_id, value, unit, quality, received_at, batch"
)
_AGGREGATE_COLUMNS = (
    'customer_id, metric, "window", start, "end", sum, count, min, max, '
    "last_start, last_value, covered_until, unit"
)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _aggregate_row(key: AggregateKey, t: Sequence[Any]) -> tuple[Any, ...]:
    """Parameters in the order of ``_AGGREGATE_COLUMNS``, from `Totals` or a running list in
    its order (total, samples, low, high, last_start, last_value, covered_until, end, unit)."""
    return (*key, t[7], t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[8])


class ReadingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"

    def _marks(self, n: int) -> str:
        return "(" + ", ".join([self.mark] * n) + ")"

    def _execmany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        if not rows:
            return 0
        with closing(self._cursor()) as cursor:
            cursor.executemany(sql, rows)
            return int(cursor.rowcount or 0)

    def _query(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with closing(self._cursor()) as cursor:
            cursor.execute(sql, tuple(params))
            return list(cursor.fetchall())

    def _cursor(self) -> Any:
        """A cursor of the driver connection, inside the session's transaction."""
        return self.session.connection().connection.cursor()

    def _in_key_order(self, rows: Sequence[ReadingRow]) -> Sequence[ReadingRow]:
        """Rows sorted by key on PostgreSQL, where each row's index entry is locked as it is
        written: batches that share readings then never wait on each other in a cycle.
        SQLite runs one writer at a time and needs no order."""
        return rows if self.sqlite else sorted(rows)

    def metric_units(self, tenant_id: str, metrics: Iterable[str]) -> dict[str, str]:
        """The unit each of these metrics is measured in, for those that have one."""
        wanted = sorted(metrics)
        marks = ", ".join([self.mark] * len(wanted))
        query = (
            f"SELECT metric, unit FROM metric_units WHERE tenant_id = {self.mark} "
            f"AND metric IN ({marks})"
        )
        return dict(self._query(query, [tenant_id, *wanted])) if wanted else {}

    def claim_metric_units(self, tenant_id: str, first_seen: Mapping[str, str]) -> None:
        """Give metrics seen for the first time their unit (when concurrent first batches
        disagree, the first to commit wins; the other reads it back)."""
        sql = (
            f"INSERT INTO metric_units (tenant_id, metric, unit) VALUES {self._marks(3)} "
            "ON CONFLICT (tenant_id, metric) DO NOTHING"
        )
        self._execmany(sql, [(tenant_id, m, u) for m, u in sorted(first_seen.items())])

    def insert_new(self, rows: Sequence[ReadingRow]) -> int:
        """Insert readings whose key is not stored yet; returns how many were inserted."""
        conflict = "ON CONFLICT (customer_id, metric, start, duration) DO NOTHING"
        if self.sqlite:
            sql = f"INSERT INTO readings ({_READING_COLUMNS}) VALUES {self._marks(10)} {conflict}"
            return self._execmany(sql, rows)
        if not rows:
            return 0
        # One statement over one array per column, in key order (see `_in_key_order`).
        sql = f"INSERT INTO readings ({_READING_COLUMNS}) SELECT {_READINGS_UNNESTED} {conflict}"
        with closing(self._cursor()) as cursor:
            cursor.execute(sql, [list(c) for c in zip(*self._in_key_order(rows), strict=True)])
            return int(cursor.rowcount or 0)

    def stored(self, keys: Sequence[ReadingKey]) -> dict[ReadingKey, tuple[float, str]]:
        """Value and batch id of each stored reading among ``keys``, asked for by (metric,
        start, duration) with the customers in one list each (a batch's readings mostly
        share their start)."""
        found: dict[ReadingKey, tuple[float, str]] = {}
        by_slot: dict[tuple[str, int, int], list[str]] = {}
        for customer, metric, start, duration in dict.fromkeys(keys):
            by_slot.setdefault((metric, start, duration), []).append(customer)
        m = self.mark
        for (metric, start, duration), customers in by_slot.items():
            for chunk in _chunks(customers, _IN_CHUNK):
                marks = ", ".join([m] * len(chunk))
                sql = (
                    "SELECT customer_id, metric, start, duration, value, batch FROM readings "
                    f"WHERE metric = {m} AND start = {m} AND duration = {m} "
                    f"AND customer_id IN ({marks})"
                )
                for c, mt, s, d, value, batch in self._query(
                    sql, [metric, start, duration, *chunk]
                ):
                    found[(c, mt, int(s), int(d))] = (float(value), batch)
        return found

    def correct(self, rows: Sequence[ReadingRow]) -> None:
        sql = (
            f"UPDATE readings SET value = {self.mark}, unit = {self.mark}, "
            f"quality = {self.mark}, received_at = {self.mark}, batch = {self.mark} WHERE "
            f"customer_id = {self.mark} AND metric = {self.mark} AND start = {self.mark} "
            f"AND duration = {self.mark}"
        )
        self._execmany(
            sql,
            [
                (r[5], r[6], r[7], r[8], r[9], r[0], r[1], r[2], r[3])
                for r in self._in_key_order(rows)
            ],
        )

    def window_readings(
        self, customer_id: str, metric: str, start: int, end: int
    ) -> list[tuple[int, int, float, str]]:
        """(start, duration, value, unit) of the readings that start in ``[start, end)``."""
        m = self.mark
        sql = (
            f"SELECT start, duration, value, unit FROM readings WHERE customer_id = {m} AND "
            f"metric = {m} AND start >= {m} AND start < {m} ORDER BY start, duration"
        )
        rows = self._query(sql, (customer_id, metric, start, end))
        return [(int(s), int(d), float(v), str(u)) for s, d, v, u in rows]

    def add_to_aggregates(
        self, deltas: Mapping[AggregateKey, Sequence[Any]]
    ) -> dict[AggregateKey, Totals]:
        """Fold new readings into running aggregates (insert, or add to what is there) and
        answer the resulting totals.

        ``deltas`` maps each window to what the batch adds to it, in the order of `Totals`.
        PostgreSQL locks each row as it is upserted, so rows go in key order there: concurrent
        batches then queue instead of deadlocking (SQLite runs one writer at a time)."""
        if not deltas:
            return {}
        if self.sqlite:
            return self._add_in_chunks(list(deltas.items()))
        rows = [_aggregate_row(key, t) for key, t in sorted(deltas.items())]
        # One statement over 13 arrays: psycopg would parse a query with 13 placeholders a row
        # on every call, which cost more than the statement itself.
        source = f"SELECT {_UNNESTED} ORDER BY ord"
        sql = self._upsert_adding(source)
        return self._totals(self._query(sql, [list(column) for column in zip(*rows, strict=True)]))

    def _add_in_chunks(
        self, items: Sequence[tuple[AggregateKey, Any]]
    ) -> dict[AggregateKey, Totals]:
        found: dict[AggregateKey, Totals] = {}
        for chunk in _chunks(items, _UPSERT_CHUNK):
            params: list[Any] = []
            for key, t in chunk:
                params += _aggregate_row(key, t)
            values = ", ".join([self._marks(13)] * len(chunk))
            found.update(self._totals(self._query(self._upsert_adding(f"VALUES {values}"), params)))
        return found

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
            f"{self._greatest('window_aggregates.covered_until', 'excluded.covered_until')} "
            f"RETURNING {_RETURNED}"
        )

    def replace_aggregates(self, rows: Iterable[tuple[AggregateKey, Totals]]) -> None:
        """Overwrite aggregates recomputed from the readings (after corrections)."""
        values = [_aggregate_row(key, t) for key, t in rows]
        sql = (
            f"INSERT INTO window_aggregates ({_AGGREGATE_COLUMNS}) VALUES {self._marks(13)} "
            'ON CONFLICT (customer_id, metric, "window", start) DO UPDATE SET '
            "sum = excluded.sum, count = excluded.count, min = excluded.min, "
            "max = excluded.max, last_value = excluded.last_value, "
            "last_start = excluded.last_start, covered_until = excluded.covered_until, "
            "unit = excluded.unit"
        )
        self._execmany(sql, values)

    def delete_aggregates(self, keys: Sequence[AggregateKey]) -> None:
        m = self.mark
        sql = (
            f"DELETE FROM window_aggregates WHERE customer_id = {m} AND metric = {m} "
            f'AND "window" = {m} AND start = {m}'
        )
        self._execmany(sql, keys)

    def aggregates(self, keys: Sequence[AggregateKey]) -> dict[AggregateKey, Totals]:
        """Stored totals of these windows. Keys are asked for by window (metric, kind,
        start), customers in one list each: a batch's windows mostly share their start."""
        found: dict[AggregateKey, Totals] = {}
        by_window: dict[tuple[str, str, int], list[str]] = {}
        for customer, metric, kind, start in dict.fromkeys(keys):
            by_window.setdefault((metric, kind, start), []).append(customer)
        m = self.mark
        for (metric, kind, start), customers in by_window.items():
            for chunk in _chunks(customers, _IN_CHUNK):
                marks = ", ".join([m] * len(chunk))
                sql = (
                    f"SELECT {_RETURNED} FROM window_aggregates WHERE metric = {m} AND "
                    f'"window" = {m} AND start = {m} AND customer_id IN ({marks})'
                )
                for row in self._query(sql, [metric, kind, start, *chunk]):
                    found[(row[0], row[1], row[2], row[3])] = Totals._make(row[4:])
        return found

    def delete_for_customer(self, customer_id: str) -> None:
        for table in ("window_aggregates", "readings"):
            self.session.connection().exec_driver_sql(
                f"DELETE FROM {table} WHERE customer_id = {self.mark}", (customer_id,)
            )

    def _least(self, a: str, b: str) -> str:
        return f"min({a}, {b})" if self.sqlite else f"LEAST({a}, {b})"

    def _greatest(self, a: str, b: str) -> str:
        return f"max({a}, {b})" if self.sqlite else f"GREATEST({a}, {b})"
