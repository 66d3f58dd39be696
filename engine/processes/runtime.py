"""What a running nudge process holds: settings, the database engine, the clock and the caches
(ingest plans, failed sign-ins). Services are built per unit of work
(`engine.processes.container`), never held here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from engine.auth.limits import FailedAuthLimiter
from engine.evaluation.cache import IngestCache
from engine.platform.clock import Clock, SystemClock
from engine.platform.config import Settings, get_settings
from engine.platform.db import PoolSize, RetryPolicy, make_engine, retrying, unit_of_work
from engine.processes.container import Services

T = TypeVar("T")


@dataclass
class Runtime:
    settings: Settings
    db: Engine
    clock: Clock = field(default_factory=SystemClock)
    cache: IngestCache = field(default_factory=IngestCache)
    listeners: list[Callable[[], None]] = field(default_factory=list)
    auth_failures: FailedAuthLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.auth_failures = FailedAuthLimiter(
            self.settings.auth_failure_limit,
            self.settings.auth_failure_window_seconds,
            now=lambda: self.clock.now().timestamp(),
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None, clock: Clock | None = None) -> Runtime:
        settings = settings or get_settings()
        pool = PoolSize(
            settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout_seconds
        )
        return cls(settings, make_engine(settings.database_url, pool), clock or SystemClock())

    @property
    def retry_policy(self) -> RetryPolicy:
        """How units of work aborted by PostgreSQL for contention are run again."""
        return RetryPolicy(
            attempts=self.settings.db_retry_attempts,
            retry_after=self.settings.db_retry_after_seconds,
        )

    def wake(self) -> None:
        """Tell this process's dispatchers that new work is due."""
        for listener in self.listeners:
            listener()

    @contextmanager
    def services(self) -> Iterator[Services]:
        """Services over one unit of work: committed on success, rolled back on error."""
        with unit_of_work(self.db) as session:
            yield self._services(session)

    def run(self, work: Callable[[Services], T]) -> T:
        """``work`` over one unit of work, run again from the start when PostgreSQL aborts it
        for contention (`engine.platform.db.retrying`); `Busy` past the retry budget. For job
        runners and commands; HTTP requests get the same from `api.retry`."""
        return retrying(self.db, lambda session: work(self._services(session)), self.retry_policy)

    def _services(self, session: Session) -> Services:
        return Services(session, self.settings, self.clock, self.cache, self.wake)
