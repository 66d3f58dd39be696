"""The two transactions of a batch: a read snapshot in which conditions are evaluated, and
the write transaction (the unit of work's own) that stores the data and the decisions.

No condition runs while a write transaction is held (on SQLite a write transaction holds
the database's one write lock): a batch reads and decides on a snapshot, then writes, and
stores its decisions only if what it finds while writing is what it decided on."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlmodel import Session

from engine.errors import Busy
from engine.ingest.stores import Stores, StoresOver
from engine.platform.db import read_snapshot

ATTEMPTS = 8


class Phases:
    """The unit of work's session (``write``) and snapshots beside it."""

    def __init__(self, session: Session, stores_over: StoresOver) -> None:
        self.session = session
        self.stores_over = stores_over
        self.write = stores_over(session)

    @contextmanager
    def snapshot(self) -> Iterator[Stores]:
        """Read-only stores over a consistent snapshot. The unit of work's own transaction
        is ended first: up to here it has only read (who is asking, which tenant), and were
        it left open it would hold the write lock while conditions run."""
        self.release()
        bind = self.session.get_bind()
        assert isinstance(bind, Engine), "a unit of work is bound to an engine"
        with read_snapshot(bind) as session:
            yield self.stores_over(session)

    def release(self) -> None:
        session = self.session
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("a batch is ingested before anything else is written")
        if session.in_transaction():
            session.commit()

    def again(self, attempt: int) -> None:
        """Drop what this attempt wrote (what it evaluated on has moved) and wait a moment
        before the next; past the last attempt the batch is refused whole (503)."""
        try_again(
            self.session,
            attempt,
            "the data this batch was evaluated on kept changing under concurrent batches; "
            "nothing of it was stored",
        )


def try_again(session: Session, attempt: int, refusal: str) -> None:
    """Drop what an attempt wrote and wait a moment, longer each time, before the next; past
    the last attempt refuse with ``refusal`` (503 with Retry-After)."""
    session.rollback()
    if attempt + 1 >= ATTEMPTS:
        raise Busy(refusal, retry_after=1)
    time.sleep(0.002 * 2**attempt * (0.5 + random.random()))
