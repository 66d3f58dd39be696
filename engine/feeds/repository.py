"""SQL for stored readings and each metric's unit: the ingest hot path, written in bulk
through the driver (`engine.platform.driver_sql`).

On PostgreSQL, concurrent batches lock the rows they write in key order, and a window's
aggregate row is held before its readings are re-read (see `engine.evaluation.aggregation`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing

from engine.feeds.records import ReadingKey, ReadingRow
from engine.platform.driver_sql import DriverStatements, in_lists

_READINGS_UNNESTED = (
    "c, m, s, d, t, v, u, q, r, b FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[], "
    "%s::integer[], %s::varchar[], %s::float8[], %s::varchar[], %s::varchar[], %s::bigint[], "
    "%s::varchar[]) WITH ORDINALITY AS x(c, m, s, d, t, v, u, q, r, b, ord) ORDER BY ord"
)
_READING_COLUMNS = (
    "customer_id, metric, start, duration, tenant_id, value, unit, quality, received_at, batch"
)


class ReadingRepository(DriverStatements):
    @staticmethod
    def _in_key_order(rows: Sequence[ReadingRow]) -> list[ReadingRow]:
        """Rows sorted by key. PostgreSQL locks each row's index entry as it is written:
        batches that share readings then never wait on each other in a cycle. On both, rows
        in key order change each index page once, in order: a batch in another order (a feed
        sorted by its own meter numbers, say) changes pages all over the index, each many
        times (a batch of 5,000 customers in random order inserted in 30 ms instead of 77).
        Rows already in order cost one comparison each."""
        return sorted(rows)

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
        if not rows:
            return 0
        if self.sqlite:  # many rows a statement
            head = f"INSERT INTO readings ({_READING_COLUMNS})"
            return self._insert_rows(head, self._in_key_order(rows), conflict)
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
            for chunk in in_lists(customers):
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

    def delete_for_customer(self, customer_id: str) -> None:
        self._delete_for_customer("readings", customer_id)
