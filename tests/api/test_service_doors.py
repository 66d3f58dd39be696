"""Routes reach the domain through narrow doors: each JSON route declares the one service it
calls, and only the service providers in `api.deps` see the request's unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from sqlalchemy import create_engine

from api import deps
from api.app import create_app
from engine.platform.config import Settings
from engine.processes.runtime import Runtime

# How a provider is named: after the one service it hands out.
SERVICE_NAMES = ("_service", "authenticator", "_links", "_access", "_views", "_rules") + (
    "_templates",
    "_backtests",
    "_deliveries",
)


def _providers(app: FastAPI) -> set[Callable[..., Any]]:
    """What the request's unit of work is handed to, anywhere in the app."""
    return {
        dependant.call
        for route in _routes(app)
        for dependant in _all(route.dependant)
        if dependant.call is not None
        and any(d.call is deps.request_unit_of_work for d in dependant.dependencies)
    }


def _routes(app: FastAPI) -> Iterator[APIRoute]:
    for route in app.routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from (r for r in route.original_router.routes if isinstance(r, APIRoute))


def _all(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _all(sub)


@pytest.fixture(scope="module")
def app() -> Iterator[FastAPI]:
    engine = create_engine("sqlite://")
    yield create_app(Runtime(Settings(database_url="sqlite://"), engine))
    engine.dispose()


def test_only_the_service_providers_see_the_unit_of_work(app: FastAPI) -> None:
    providers = _providers(app)
    assert len(providers) > 10
    for provider in providers:  # each hands out one service, e.g. `customer_service`
        assert provider.__module__ == "api.deps", provider
        assert provider.__name__.endswith(SERVICE_NAMES), provider.__name__
    for route in _routes(app):
        assert not any(d.call is deps.request_unit_of_work for d in route.dependant.dependencies)


def test_each_json_route_calls_one_service(app: FastAPI) -> None:
    providers = _providers(app)
    checked = 0
    for route in _routes(app):
        json = route.path.startswith("/v1/") and route.response_class is not HTMLResponse
        if not json:
            continue
        called = [d.call for d in route.dependant.dependencies if d.call in providers]
        assert len(called) == 1, (route.path, route.methods, called)
        checked += 1
    assert checked > 40
