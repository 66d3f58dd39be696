"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from api import console, input_guard, openapi, pages, problems
from api.admission import FeedAdmissionMiddleware, feed_allowances
from api.middleware import (
    AccessLogMiddleware,
    BodyLimitMiddleware,
    IdempotencyMiddleware,
    UnexpectedErrorMiddleware,
)
from api.retry import RetryOnContentionMiddleware
from api.routers import (
    customers,
    feeds,
    health,
    links,
    me,
    notifications,
    rules,
    templates,
    tenants,
    triggers,
    webhooks,
)
from engine.processes.runtime import Runtime
from engine.processes.worker import dispatching

FEED_BODY_FACTOR = 8

DESCRIPTION = """nudge sends customers the messages they asked for: when their own trigger
fires, on the channels they chose, outside their quiet hours.

Authenticate with `Authorization: Bearer <key or customer token>`. Errors are RFC 9457
`application/problem+json`. POSTs that create accept an `Idempotency-Key` header."""


def create_server() -> FastAPI:
    """The API with dispatch in the same process (``nudge serve``), from the settings."""
    return create_app(dispatch=True)


def create_app(runtime: Runtime | None = None, *, dispatch: bool = False) -> FastAPI:
    """The HTTP API; with ``dispatch`` the same process also sends (``nudge serve``)."""
    runtime = runtime or Runtime.from_settings()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not dispatch:
            yield
            return
        async with dispatching(runtime):
            yield

    app = FastAPI(
        title="nudge",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.feed_allowances = feed_allowances(runtime)
    problems.install(app)
    input_guard.install(app)
    openapi.install(app)
    routers = (
        health.router,
        tenants.router,
        customers.router,
        me.router,
        triggers.router,
        rules.router,
        templates.router,
        feeds.router,
        notifications.router,
        webhooks.router,
        links.router,
    )
    # The JSON API first: a request is matched against the routes in order, and nearly all
    # requests are the API's (the pages' and console's paths share no prefix with it).
    for router in routers:
        app.include_router(router)
    pages.install(app)
    console.install(app)
    limit = runtime.settings.max_body_bytes
    app.add_middleware(RetryOnContentionMiddleware, policy=lambda: runtime.retry_policy)
    app.add_middleware(
        IdempotencyMiddleware,
        get_db=lambda: (runtime.db, runtime.clock),
        ttl=timedelta(hours=runtime.settings.idempotency_ttl_hours),
    )
    app.add_middleware(
        FeedAdmissionMiddleware,
        concurrency=runtime.settings.feed_concurrency,
        queue_per_key=runtime.settings.feed_queue_per_key,
        allowances=app.state.feed_allowances,
    )
    app.add_middleware(BodyLimitMiddleware, limit=limit, feed_limit=limit * FEED_BODY_FACTOR)
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(AccessLogMiddleware)
    return app
