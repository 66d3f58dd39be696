"""On SQLite, writers of one process wait in line for the write lock, small transactions
ahead of bulk ones (feeds): a short write waits for at most the writer in progress."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from engine.platform.db import WriterGate, bulk_writes, make_engine, unit_of_work
from tests.fixtures.database import sqlite_copy


def _wait_for(condition: threading.Event, seconds: float = 10.0) -> None:
    assert condition.wait(seconds), "timed out"


def test_a_small_write_goes_before_bulk_writes_already_waiting(
    sqlite_template: Path, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_copy(sqlite_template, tmp_path))
    with unit_of_work(engine) as session:
        session.execute(text("CREATE TABLE writes (who TEXT NOT NULL)"))
    order: list[str] = []
    started, release = threading.Event(), threading.Event()

    def write(who: str, bulk: bool, hold: threading.Event | None = None) -> None:
        def work() -> None:
            with unit_of_work(engine) as session:
                session.execute(text("INSERT INTO writes VALUES (:who)"), {"who": who})
                order.append(who)
                if hold is not None:
                    started.set()
                    _wait_for(hold)

        if bulk:
            with bulk_writes():
                work()
        else:
            work()

    first = threading.Thread(target=write, args=("feed 1", True, release))
    first.start()
    _wait_for(started)
    second = threading.Thread(target=write, args=("feed 2", True))
    second.start()
    time.sleep(0.2)  # feed 2 is waiting for the lock
    small = threading.Thread(target=write, args=("small", False))
    small.start()
    time.sleep(0.2)
    assert order == ["feed 1"]  # nobody writes while feed 1 holds the lock
    release.set()
    for thread in (first, second, small):
        thread.join(timeout=30)
    assert order == ["feed 1", "small", "feed 2"]
    with unit_of_work(engine) as session:
        stored = session.execute(text("SELECT who FROM writes ORDER BY rowid")).scalars().all()
    assert stored == ["feed 1", "small", "feed 2"]
    engine.dispose()


def test_a_steady_stream_of_small_writes_does_not_hold_a_bulk_write_back() -> None:
    gate = WriterGate(timeout=10, patience=0.1)
    stream_ends = time.monotonic() + 1.5
    bulk_entered: list[float] = []

    def small() -> None:
        holder: dict[object, object] = {}
        while time.monotonic() < stream_ends:
            gate.enter(holder)
            time.sleep(0.01)
            gate.leave(holder)

    def bulk() -> None:
        holder: dict[object, object] = {}
        with bulk_writes():
            gate.enter(holder)
        bulk_entered.append(time.monotonic())
        gate.leave(holder)

    smalls = [threading.Thread(target=small) for _ in range(3)]
    for thread in smalls:
        thread.start()
    time.sleep(0.1)
    asked = time.monotonic()
    waiting = threading.Thread(target=bulk)
    waiting.start()
    for thread in [*smalls, waiting]:
        thread.join(timeout=15)
    assert bulk_entered and bulk_entered[0] - asked < 1.0  # not after the stream ended
