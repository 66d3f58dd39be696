"""Statements that go straight to the driver cursor, inside the session's transaction.

Used by the bulk repositories of the ingest hot path (readings, window aggregates), where ORM
objects, per-row statement compilation and result wrapping would cost more than the rest of
ingest together. Errors therefore arrive as the driver's own (``sqlite3`` or ``psycopg``),
and engine events do not see these statements."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session


def sqlite_time(value: datetime | None) -> str | None:
    """A UTC datetime as SQLAlchemy stores it on SQLite (naive UTC, always microseconds)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    v = value.astimezone(UTC)
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
        f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"
    )


CHUNK = 400
IN_CHUNK = 900  # ids in one IN list (SQLite allows 32,766 parameters)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class DriverStatements:
    """The session's driver connection, with the dialect's parameter mark and functions."""

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

    def _insert_rows(self, head: str, rows: Sequence[Sequence[Any]], tail: str = "") -> int:
        """``head VALUES (...), (...) tail`` over ``rows`` (all of one width), in statements of
        up to 4,000 parameters: on SQLite one statement of many rows spares the step and reset
        per row of ``executemany``. Returns the rows inserted."""
        if not rows:
            return 0
        one = self._marks(len(rows[0]))
        inserted = 0
        with closing(self._cursor()) as cursor:
            for chunk in chunks(rows, max(1, 4000 // len(rows[0]))):
                cursor.execute(
                    f"{head} VALUES {', '.join([one] * len(chunk))} {tail}",
                    [v for row in chunk for v in row],
                )
                inserted += int(cursor.rowcount or 0)
        return inserted

    def _query(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with closing(self._cursor()) as cursor:
            cursor.execute(sql, tuple(params))
            return list(cursor.fetchall())

    def _cursor(self) -> Any:
        """A cursor of the driver connection, inside the session's transaction."""
        return self.session.connection().connection.cursor()

    def _delete_for_customer(self, table: str, customer_id: str) -> None:
        self.session.connection().exec_driver_sql(
            f"DELETE FROM {table} WHERE customer_id = {self.mark}", (customer_id,)
        )

    def _least(self, a: str, b: str) -> str:
        return f"min({a}, {b})" if self.sqlite else f"LEAST({a}, {b})"

    def _greatest(self, a: str, b: str) -> str:
        return f"max({a}, {b})" if self.sqlite else f"GREATEST({a}, {b})"
