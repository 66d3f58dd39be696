"""On SQLite, the write-ahead log is copied back into the database file by a checkpointer
thread after commits, not by the writer inside its COMMIT (which SQLite does by default once
the log passes 1,000 pages)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine.platform.db import SQLITE_PAGE_BYTES, checkpointer_of, make_engine, unit_of_work
from engine.platform.wal import FALLBACK_BYTES, Checkpointer
from tests.fixtures.database import sqlite_copy


def _within(seconds: float, done: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.02)
    return done()


def test_committed_pages_reach_the_database_file_without_a_writer_checkpointing(
    sqlite_template: Path, tmp_path: Path
) -> None:
    url = sqlite_copy(sqlite_template, tmp_path)
    database = Path(str(make_url(url).database))
    engine = make_engine(url)
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        page_size = conn.exec_driver_sql("PRAGMA page_size").scalar()
    assert page_size == SQLITE_PAGE_BYTES  # the database was made by the migrations
    assert pages * page_size == FALLBACK_BYTES  # a COMMIT checkpoints only past 40 MB of log

    with unit_of_work(engine) as session:
        session.execute(text("CREATE TABLE blobs (body BLOB NOT NULL)"))
    before = database.stat().st_size
    # About 2 MB: far under the log a writer would have checkpointed itself at.
    with unit_of_work(engine) as session:
        session.execute(
            text("INSERT INTO blobs VALUES (:body)"),
            [{"body": bytes([n % 256]) * 4000} for n in range(500)],
        )
    assert _within(5, lambda: database.stat().st_size >= before + 500 * 4000)
    engine.dispose()

    copy = sqlite3.connect(database)  # what the file holds, the log aside
    try:
        assert copy.execute("SELECT count(*), sum(length(body)) FROM blobs").fetchone() == (
            500,
            2_000_000,
        )
    finally:
        copy.close()


def test_the_thread_ends_when_commits_stop_and_starts_again_on_the_next(tmp_path: Path) -> None:
    path = tmp_path / "idle.db"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (n INTEGER)")
    checkpointer = Checkpointer(partial(sqlite3.connect, path), interval=0.01, idle=0.1)

    setup.execute("INSERT INTO t VALUES (1)")
    checkpointer.committed()
    assert checkpointer.running
    assert _within(5, lambda: checkpointer.taken >= 1 and not checkpointer.running)

    setup.execute("INSERT INTO t VALUES (2)")
    checkpointer.committed()
    assert checkpointer.running
    assert _within(5, lambda: checkpointer.taken >= 2 and not checkpointer.running)
    busy, logged, copied = setup.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert (busy, copied) == (0, logged)  # nothing was left in the log to copy
    setup.close()


def test_an_in_memory_database_has_no_checkpointer() -> None:
    assert checkpointer_of(create_engine("sqlite://")) is None
    assert checkpointer_of(create_engine("sqlite:///:memory:")) is None


def test_the_checkpointer_never_creates_a_database_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    checkpointer = checkpointer_of(create_engine(f"sqlite:///{missing}"))
    assert checkpointer is not None
    checkpointer.committed()
    time.sleep(0.3)  # its one pass has run by now
    assert not list(tmp_path.iterdir())


def test_a_disposed_engine_leaves_no_checkpoint_to_come(
    sqlite_template: Path, tmp_path: Path
) -> None:
    url = sqlite_copy(sqlite_template, tmp_path)
    engine = make_engine(url)
    checkpointer = checkpointer_of(engine)
    assert checkpointer is not None
    checkpointer.interval = 1.0  # the second commit's nudge waits out this pause
    with unit_of_work(engine) as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
    assert _within(5, lambda: checkpointer.taken >= 1)
    taken = checkpointer.taken
    with unit_of_work(engine) as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
    engine.dispose()  # its files may be removed now: nothing is to touch them after
    time.sleep(1.3)
    assert checkpointer.taken == taken
