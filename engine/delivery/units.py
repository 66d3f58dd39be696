"""Delivery's units of work: one session with the repositories and services delivery uses in
it, built in this one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import Session

from engine.delivery.repository import DeliveryRepository
from engine.history.repository import HistoryRepository
from engine.history.service import HistoryService
from engine.message_templates.repository import TemplateRepository
from engine.message_templates.service import TemplateService
from engine.platform.clock import Clock
from engine.platform.config import Settings
from engine.platform.db import unit_of_work


class DeliveryPlatform(Protocol):
    """What delivery needs from the running process: its settings, database and clock."""

    settings: Settings
    db: Engine
    clock: Clock


class DeliveryUnit:
    """One session's view of delivery; each part is built when first used."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    @cached_property
    def repo(self) -> DeliveryRepository:
        return DeliveryRepository(self.session)

    @cached_property
    def history(self) -> HistoryService:
        return HistoryService(HistoryRepository(self.session), self.clock)

    @cached_property
    def templates(self) -> TemplateService:
        return TemplateService(TemplateRepository(self.session), self.clock)


class DeliveryUnits:
    """Opens delivery's units of work on one database."""

    def __init__(self, db: Engine, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    @contextmanager
    def reading_and_writing(self) -> Iterator[DeliveryUnit]:
        """A unit of work: committed on success, rolled back on error."""
        with unit_of_work(self.db) as session:
            yield self._unit(session)

    @contextmanager
    def writing_only(self) -> Iterator[DeliveryUnit]:
        """A unit of work that only adds rows loaded elsewhere and writes them with its commit:
        nothing is flushed (or locked) before that."""
        with Session(self.db, expire_on_commit=False, autoflush=False) as session:
            yield self._unit(session)
            session.commit()

    def _unit(self, session: Session) -> DeliveryUnit:
        return DeliveryUnit(session, self.clock)
