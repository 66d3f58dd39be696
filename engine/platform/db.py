"""Database engine, sessions and the unit of work.

One synchronous SQLAlchemy engine per URL. SQLite gets WAL, foreign keys and a busy timeout;
PostgreSQL uses psycopg 3. Services never commit: `unit_of_work` does, then runs the
callbacks queued with `after_commit`. `retrying` runs a unit of work again when PostgreSQL
aborts it for contention (the HTTP API does the same per request, in `api.retry`).
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlmodel import Session, SQLModel

import engine.models  # noqa: F401  (tables and naming convention)
from engine.errors import Busy
from engine.platform.driver_sql import encoded_json
from engine.platform.wal import Checkpointer, fallback_pages

metadata: MetaData = SQLModel.metadata

_AFTER_COMMIT = "nudge_after_commit"
T = TypeVar("T")
SQLITE_POOL_SIZE = 20
SQLITE_PAGE_BYTES = 16_384
log = logging.getLogger("nudge.db")


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level lets SQLAlchemy issue BEGIN IMMEDIATE itself, so
    # writers queue on the busy timeout instead of failing on lock upgrades.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # A new database file gets pages of 16 KiB instead of SQLite's 4: a batch of readings
    # writes thousands of rows to a few tables, and larger pages carry them to the log and
    # the file in fewer page writes (an existing file keeps the page size it was made with).
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_BYTES}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # The checkpointer thread copies the log back (`engine.platform.wal`); a COMMIT does
    # only once the log is far past SQLite's default of 1,000 pages.
    page_size = cursor.execute("PRAGMA page_size").fetchone()[0]
    cursor.execute(f"PRAGMA wal_autocheckpoint={fallback_pages(page_size)}")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    gate = _GATES[conn.engine.url.render_as_string(hide_password=False)]
    if conn.get_execution_options().get(_SNAPSHOT, False) or (
        _DEFERRED.get() and not (_UNLESS_BUSY.get() and gate.occupied())
    ):
        conn.exec_driver_sql("BEGIN")
        return
    gate.enter(conn.info)
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        gate.leave(conn.info)
        raise


_BULK: ContextVar[bool] = ContextVar("nudge_bulk_writes", default=False)


@contextmanager
def bulk_writes() -> Iterator[None]:
    """Write transactions begun in this block are bulk (a feed of thousands of rows): on
    SQLite they let every waiting small one go first."""
    token = _BULK.set(True)
    try:
        yield
    finally:
        _BULK.reset(token)


class WriterGate:
    """The writers of one SQLite database in this process, one at a time, small transactions
    ahead of bulk ones. SQLite's own busy handler polls with sleeps of up to 100 ms, so a
    short write could lose the lock again and again to feeds arriving meanwhile; here it
    waits for the writer in progress and at most one bulk writer more. A bulk writer lets
    waiting small ones go first, but once it has waited ``patience`` seconds it goes as soon
    as the small writers that were waiting when the last bulk one finished have had their
    turn: a steady stream of small writes cannot hold a feed back."""

    def __init__(self, timeout: float = 30.0, patience: float = 0.5) -> None:
        self.timeout = timeout
        self.patience = patience
        self._changed = threading.Condition()
        self._busy = False
        self._round = 0  # bulk writers finished so far
        self._small: Counter[int] = Counter()  # small writers waiting, by round of arrival
        self._bulk_due = 0  # bulk writers waiting past their patience
        self._bulk_waiting = 0

    def occupied(self) -> bool:
        """Whether a writer holds the lock or waits for it: one beginning now would not be
        the next to write."""
        with self._changed:
            return self._busy or bool(self._small) or self._bulk_waiting > 0

    def enter(self, holder: dict[Any, Any]) -> None:
        bulk, due, arrived = _BULK.get(), False, self._round
        started = time.monotonic()
        with self._changed:
            if not bulk:
                arrived = self._round
                self._small[arrived] += 1
            self._bulk_waiting += bulk
            try:
                while True:
                    waited = time.monotonic() - started
                    if bulk and not due and waited >= self.patience:
                        due, self._bulk_due = True, self._bulk_due + 1
                    if self._may_enter(bulk, due, arrived):
                        break
                    if waited >= self.timeout:
                        raise sqlite3.OperationalError("database is locked")
                    wake = self.patience if bulk and not due else self.timeout
                    self._changed.wait(wake - waited)
            finally:
                if not bulk:
                    self._small[arrived] -= 1
                    if not self._small[arrived]:
                        del self._small[arrived]
                self._bulk_due -= due
                self._bulk_waiting -= bulk
            self._busy = True
            holder[_GATE_HELD] = (self, bulk)

    def _may_enter(self, bulk: bool, due: bool, arrived: int) -> bool:
        if self._busy:
            return False
        earlier = any(r < self._round for r in self._small)  # waited through a bulk write
        if bulk:
            return not self._small or (due and not earlier)
        return arrived < self._round or not self._bulk_due

    def leave(self, holder: dict[Any, Any]) -> None:
        held = holder.get(_GATE_HELD)
        if held is None or held[0] is not self:
            return
        del holder[_GATE_HELD]
        with self._changed:
            self._busy = False
            self._round += held[1]
            self._changed.notify_all()


_GATE_HELD = "nudge_writer_gate"
_GATES: defaultdict[str, WriterGate] = defaultdict(WriterGate)
_CHECKPOINTERS: dict[str, Checkpointer] = {}
_CHECKPOINTERS_LOCK = threading.Lock()


def checkpointer_of(engine: Engine) -> Checkpointer | None:
    """The WAL checkpointer of an SQLite database file (one per file in a process); None for
    an in-memory database, which has no log. It opens the file only if it exists (``mode=rw``):
    it never creates one."""
    path = engine.url.database
    if not path or path == ":memory:" or engine.url.query.get("mode") == "memory":
        return None
    with _CHECKPOINTERS_LOCK:
        found = _CHECKPOINTERS.get(path)
        if found is None:
            uri = f"file:{quote(path)}?mode=rw"
            found = _CHECKPOINTERS[path] = Checkpointer(
                partial(sqlite3.connect, uri, uri=True, timeout=30, isolation_level=None)
            )
        return found


def _sqlite_commit(checkpointer: Checkpointer | None, conn: Any) -> None:
    _sqlite_end(conn, "commit")
    if checkpointer is not None:
        checkpointer.committed()


def _sqlite_rollback(conn: Any) -> None:
    _sqlite_end(conn, "rollback")


def _sqlite_end(conn: Any, how: str) -> None:
    """COMMIT or ROLLBACK is about to run. A writer that went through the gate ends its
    transaction here, then lets the next one in: it finds the lock free, where it would have
    met the one still committing and been left to SQLite's busy handler, which sleeps up to
    100 ms between looks. Should ending fail here, SQLAlchemy's own COMMIT or ROLLBACK, run
    next (a no-op once the transaction has ended), meets and reports the same error."""
    held = conn.info.get(_GATE_HELD)
    if held is None:
        return
    try:
        getattr(conn.connection.driver_connection, how)()
    except sqlite3.Error:
        pass
    finally:
        held[0].leave(conn.info)


def _sqlite_checkin(_dbapi: Any, record: Any) -> None:
    # A connection going back to the pool holds no transaction: never the gate either.
    held = record.info.get(_GATE_HELD)
    if held is not None:
        held[0].leave(record.info)


_SNAPSHOT = "nudge_snapshot"
_DEFERRED: ContextVar[bool] = ContextVar("nudge_deferred_writes", default=False)
_UNLESS_BUSY: ContextVar[bool] = ContextVar("nudge_deferred_unless_busy", default=False)
_SQLITE_BUSY = 5  # the primary code of SQLITE_BUSY and its extended codes (BUSY_SNAPSHOT...)


@contextmanager
def deferred_writes(unless_busy: bool = False) -> Iterator[None]:
    """SQLite transactions begun in this block (this thread or task and what it starts) are
    deferred: they read from a WAL snapshot without waiting for, or blocking, any writer.
    One that then writes takes the write lock only if no other writer holds it or committed
    since its snapshot; otherwise SQLite refuses at once (`is_write_refused`) and nothing of
    it is stored, so the work can run again as an ordinary writer. For work that mostly
    only reads, such as a GET request.

    With ``unless_busy``, for work that most likely writes (a PATCH, PUT or DELETE), one
    begun while another writer of this process holds the lock or waits for it is an ordinary
    writer at once, in line at the writer gate: deferred, it would be refused at its first
    write after that writer committed, and run again anyway."""
    tokens = _DEFERRED.set(True), _UNLESS_BUSY.set(unless_busy)
    try:
        yield
    finally:
        _DEFERRED.reset(tokens[0])
        _UNLESS_BUSY.reset(tokens[1])


def is_write_refused(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is SQLite's "busy": a deferred transaction could
    not take the write lock, or a lock was not had within the busy timeout."""
    return any(
        isinstance(c, sqlite3.OperationalError)
        and (getattr(c, "sqlite_errorcode", 0) & 0xFF) == _SQLITE_BUSY
        for c in _causes(exc)
    )


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Session]:
    """A session that only reads, from one consistent snapshot, and holds no write lock: a
    deferred transaction on SQLite (WAL readers never block a writer), REPEATABLE READ READ
    ONLY on PostgreSQL. Closed without committing."""
    options: dict[str, Any] = (
        {_SNAPSHOT: True}
        if is_sqlite(engine)
        else {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    )
    with Session(engine.execution_options(**options)) as session:
        yield session


def end_reads(session: Session) -> None:
    """End a unit of work's transaction that has only read so far (who is asking, what to
    check), so that the CPU work that comes next (conditions, templates) holds no write lock;
    the next statement begins a new transaction. Refuses if anything was written."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("only a transaction that has written nothing is ended early")
    if session.in_transaction():
        session.commit()


@contextmanager
def reads_apart(session: Session, reread: bool) -> Iterator[None]:
    """Reads in this block (who is asking) are a transaction of their own, ended with the
    block: on SQLite a deferred one, so they neither wait for nor hold the write lock, whatever
    the unit of work does next (a feed takes it as a bulk writer). With ``reread`` (the unit of
    work may write), what they loaded is read again at its first use after the block, in the
    transaction that may write it: nothing is written from rows another writer has changed
    since. Refuses, as `end_reads`, if anything was written."""
    with deferred_writes():
        yield
    end_reads(session)
    if reread:
        session.expire_all()


@dataclass(frozen=True)
class PoolSize:
    """Connections one process may hold on PostgreSQL: ``size`` kept open, up to ``overflow``
    more under load (docs/operations.md sizes them against ``max_connections``)."""

    size: int = 5
    overflow: int = 5
    timeout: float = 30.0


def make_engine(url: str, pool: PoolSize | None = None) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            json_serializer=encoded_json,
            connect_args={"check_same_thread": False, "timeout": 30},
            # A connection per request thread (40): waiting for the write lock must not
            # also keep reads waiting for a connection. SQLite connections are cheap.
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_SIZE,
            # The most recently used connection first: its page cache is warm.
            pool_use_lifo=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        checkpointer = checkpointer_of(engine)
        event.listen(engine, "commit", partial(_sqlite_commit, checkpointer))
        if checkpointer is not None:
            event.listen(engine, "engine_disposed", lambda _engine: checkpointer.settle())
        event.listen(engine, "rollback", _sqlite_rollback)
        event.listen(engine.pool, "checkin", _sqlite_checkin)
        return engine
    pool = pool or PoolSize()
    return create_engine(
        url,
        json_serializer=encoded_json,
        pool_pre_ping=True,
        pool_size=pool.size,
        max_overflow=pool.overflow,
        pool_timeout=pool.timeout,
    )


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Queue work (e.g. waking the dispatcher) to run only once this session commits."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


# PostgreSQL aborts one of the transactions it cannot order: a deadlock, a serialisation
# failure, or a lock not granted within ``lock_timeout``. Sent again, the work succeeds.
_CONTENTION_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def is_contention(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is PostgreSQL refusing to order this transaction
    with a concurrent one: the whole unit of work may simply be run again."""
    return any(getattr(c, "sqlstate", None) in _CONTENTION_SQLSTATES for c in _causes(exc))


# PostgreSQL's text and JSON cannot hold U+0000 (SQLite stores it): psycopg refuses such a
# parameter before sending it, the server a JSON escape of it (22P05, said in the detail).
_NUL_REFUSED = ("NUL (0x00)", "\\u0000 cannot be converted")


def is_nul_refusal(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is PostgreSQL refusing a text for holding U+0000:
    the input was wrong, not the database."""
    for current in _causes(exc):
        if isinstance(current, StatementError):
            continue  # its text quotes the statement's parameters: the driver's error decides
        detail = getattr(getattr(current, "diag", None), "message_detail", None) or ""
        if any(said in f"{current} {detail}" for said in _NUL_REFUSED):
            return True
    return False


# PostgreSQL: connection failures (08), read-only transaction (25006), out of resources
# (53: disk full, too many connections), shutting down or starting up (57P0x).
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "25006", "53", "57P01", "57P02", "57P03")
_SQLITE_UNAVAILABLE = (
    "readonly database",
    "database is locked",
    "disk i/o error",
    "unable to open database file",
    "database or disk is full",
)


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database cannot take this request now
    (unreachable, read-only, full, locked past the busy timeout), not that it was wrong."""
    for current in _causes(exc):
        if isinstance(current, PoolTimeoutError):
            return True
        if isinstance(current, OperationalError) and getattr(current.orig, "sqlstate", "") is None:
            return True  # PostgreSQL never answered (refused, unreachable): no SQLSTATE at all
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES):
            return True
        if isinstance(current, sqlite3.OperationalError):
            message = str(current).lower()
            return any(known in message for known in _SQLITE_UNAVAILABLE)
    return False


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        current = (
            orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
        )


@dataclass(frozen=True)
class RetryPolicy:
    """How often a unit of work PostgreSQL aborted for contention is run again, and the pause
    before each retry (doubling, with jitter, so the contenders do not meet again)."""

    attempts: int = 4
    first_pause: float = 0.02
    retry_after: int = 1

    def pause(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        return float(self.first_pause * 2.0**attempt * (0.5 + random.random()))

    def exhausted(self) -> Busy:
        return Busy(
            f"the database aborted this request {self.attempts} times for concurrent "
            "changes to the same rows; nothing of it was stored",
            retry_after=self.retry_after,
        )


def retrying(engine: Engine, work: Callable[[Session], T], policy: RetryPolicy | None = None) -> T:
    """Run ``work`` in a unit of work; when PostgreSQL aborts it for contention, roll back and
    run it again, up to ``policy.attempts`` times, then raise `Busy`. ``work`` must do nothing
    outside the database that it could not repeat."""
    policy = policy or RetryPolicy()
    for attempt in range(policy.attempts):
        try:
            with unit_of_work(engine) as session:
                return work(session)
        except Exception as exc:
            if not is_contention(exc):
                raise
            if attempt + 1 == policy.attempts:
                raise policy.exhausted() from exc
            log.warning("transaction aborted for contention; retrying", extra={"try": attempt})
            time.sleep(policy.pause(attempt))
    raise AssertionError("unreachable")


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """A session that commits on success, rolls back on error, then fires after-commit hooks."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            session.info.pop(_AFTER_COMMIT, None)
            raise
        for callback in session.info.pop(_AFTER_COMMIT, []):
            callback()
