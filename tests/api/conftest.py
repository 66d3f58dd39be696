"""An API whose clock stands still until a test moves it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from engine.platform.clock import FrozenClock
from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api


@dataclass
class FrozenApi:
    api: Api
    clock: FrozenClock
    runtime: Runtime


@pytest.fixture
def frozen(settings: Settings) -> Iterator[FrozenApi]:
    clock = FrozenClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    runtime = Runtime.from_settings(settings, clock)
    with TestClient(create_app(runtime)) as client:
        yield FrozenApi(Api(client), clock, runtime)
    runtime.db.dispose()
