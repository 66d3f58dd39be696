"""Mounts the operations console: its routers and its error pages."""

from __future__ import annotations

from fastapi import FastAPI

from api.routers import (
    console_access,
    console_backtests,
    console_customers,
    console_deliveries,
    console_impact,
    console_rules,
    console_templates,
)
from api.web import console_errors


def install(app: FastAPI) -> None:
    """After `api.pages.install` (the console's error pages wrap the page handlers)."""
    console_errors.install(app)
    for router in CONSOLE_ROUTERS:
        app.include_router(router)


CONSOLE_ROUTERS = (
    console_access.router,
    console_backtests.router,
    console_impact.router,
    console_rules.router,
    console_templates.router,
    console_deliveries.router,
    console_customers.router,
)
