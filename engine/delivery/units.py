"""Delivery's units of work: each opened by the running process (its unit-of-work factory),
seen by delivery as a session, its own repository over it and the services it uses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import cached_property
from typing import Protocol

from sqlmodel import Session

from engine.delivery.repository import DeliveryRepository
from engine.history.service import HistoryService
from engine.message_templates.service import TemplateService
from engine.platform.clock import Clock
from engine.platform.config import Settings


class DeliveryScope(Protocol):
    """What one unit of work offers delivery: its session and the services delivery uses."""

    @property
    def session(self) -> Session: ...

    @property
    def history(self) -> HistoryService: ...

    @property
    def templates(self) -> TemplateService: ...


OpenUnit = Callable[[], AbstractContextManager[DeliveryScope]]


class DeliveryPlatform(Protocol):
    """What delivery needs from the running process: settings, clock and units of work
    (committed on success, rolled back on error)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    def services(self) -> AbstractContextManager[DeliveryScope]: ...


class DeliveryUnit:
    """One unit of work as delivery uses it; its repository is built when first used."""

    def __init__(self, scope: DeliveryScope) -> None:
        self._scope = scope

    @cached_property
    def repo(self) -> DeliveryRepository:
        return DeliveryRepository(self._scope.session)

    @property
    def history(self) -> HistoryService:
        return self._scope.history

    @property
    def templates(self) -> TemplateService:
        return self._scope.templates


class DeliveryUnits:
    """Opens delivery's units of work with the process's own factory."""

    def __init__(self, open_unit: OpenUnit) -> None:
        self._open = open_unit

    @contextmanager
    def __call__(self) -> Iterator[DeliveryUnit]:
        with self._open() as scope:
            yield DeliveryUnit(scope)
