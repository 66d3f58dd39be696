"""SQLite's WAL checkpoints, taken by a thread of their own instead of inside a writer's COMMIT.

By default SQLite checkpoints in the COMMIT that takes the write-ahead log past 1,000 pages:
that writer copies the log back into the database file (and syncs it) before its request can
answer, and the next writer waits behind it. Here a commit only nudges this database's
checkpointer, a thread that runs a PASSIVE checkpoint on a connection of its own (it never
waits for readers or writers, nor blocks them) at most every `INTERVAL` seconds while commits
come in. SQLite releases the GIL while it checkpoints, so on a machine with a second core the
copying runs beside the next request instead of inside it.

A copy of the database file alone is complete only once the log has been checkpointed into it
(``PRAGMA wal_checkpoint(TRUNCATE)``), as with any database in WAL mode that is still open.

Writers still checkpoint in their COMMIT once the log holds `FALLBACK_BYTES`, as SQLite does by
default past 1,000 pages: the log stays bounded should the thread fall behind. A thread with
nothing to do for `IDLE` seconds ends; the next commit starts another.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable

log = logging.getLogger("nudge.db")

INTERVAL = 0.1  # seconds between checkpoints while commits come in
IDLE = 5.0  # seconds without commits after which the thread ends
FALLBACK_BYTES = 40 * 1024 * 1024  # a writer's own COMMIT checkpoints past this much log


def fallback_pages(page_size: int) -> int:
    """`FALLBACK_BYTES` in pages of ``page_size`` bytes (SQLite's ``wal_autocheckpoint``)."""
    return FALLBACK_BYTES // page_size


class Checkpointer:
    """The checkpoints of one SQLite database file in this process."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        interval: float = INTERVAL,
        idle: float = IDLE,
    ) -> None:
        self._connect = connect
        self.interval = interval
        self.idle = idle
        self._due = threading.Event()
        self._lock = threading.Lock()
        self._pass = threading.Lock()  # held while a checkpoint runs
        self._thread: threading.Thread | None = None
        self.taken = 0  # checkpoints run so far

    def committed(self) -> None:
        """A transaction committed: checkpoint soon."""
        with self._lock:  # `_end` decides under it too: a nudge never finds a thread ending
            self._due.set()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="nudge-wal-checkpoint", daemon=True
                )
                self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def settle(self) -> None:
        """Wait for a checkpoint in progress and drop the one asked for: after this, the
        thread touches the database again only once a commit asks. For an engine being
        disposed of, whose files may be removed next."""
        with self._pass:
            self._due.clear()

    def _run(self) -> None:
        while self._due.wait(self.idle) or not self._end():
            with self._pass:
                if not self._due.is_set():
                    continue  # settled meanwhile
                self._due.clear()
                began = time.monotonic()
                self._checkpoint()
            time.sleep(max(0.0, self.interval - (time.monotonic() - began)))

    def _end(self) -> bool:
        """Let the thread end (True) unless a commit came in meanwhile."""
        with self._lock:
            if self._due.is_set():
                return False
            self._thread = None
            return True

    def _checkpoint(self) -> None:
        """One PASSIVE checkpoint on a connection of its own, closed right after: between
        checkpoints the thread holds nothing open, so the last connection to close is still
        the application's, which checkpoints the whole log and removes it as SQLite does."""
        try:
            db = self._connect()
            try:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self.taken += 1
            finally:
                db.close()
        except sqlite3.Error:  # busy, or the file went away: the next commit tries again
            log.debug("WAL checkpoint skipped", exc_info=True)
