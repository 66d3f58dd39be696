"""Mounts the server-rendered pages: routers, their error pages and the stylesheet."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.routers import manage_links, pages_access, pages_alerts, pages_me, pages_settings
from api.web import errors
from api.web.ratelimit import SignInLimits

STATIC = Path(__file__).resolve().parent / "web" / "static"


def install(app: FastAPI) -> None:
    """After `api.problems.install` (its handlers stay in charge outside the pages)."""
    app.state.sign_in_limits = SignInLimits()
    errors.install(app)
    for router in (
        pages_access.router,
        pages_access.short_router,
        pages_me.router,
        pages_alerts.router,
        pages_settings.router,
        manage_links.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
