"""Errors on console routes become console pages in the visitor's language."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.web.console_deps import ConsoleLoginRequired, end_console_session
from api.web.console_render import console_page
from api.web.deps import CsrfRejected
from api.web.errors import PageErrorMiddleware, register_error_page
from api.web.visitor import Visitor, visitor_for
from engine.errors import NudgeError

log = logging.getLogger("nudge.api")
CONSOLE_PREFIX = "/console"
Handler = Callable[[Request, Any], Response | Awaitable[Response]]


def is_console(request: Request) -> bool:
    path = request.url.path
    return path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")


def _visitor(request: Request) -> Visitor:
    runtime = request.app.state.runtime
    return visitor_for(request, runtime.settings, int(runtime.clock.now().timestamp()))


def console_error(request: Request, status: int, texts: tuple[str, str] | None = None) -> Response:
    visitor = _visitor(request)
    key = {403: "error.csrf", 404: "error.not_found"}.get(status, "error.generic")
    title, text = texts or (key, key + ".text")
    return console_page(visitor, "message.html", status, title_key=title, text_key=text)


def _console_first(previous: Handler) -> Handler:
    async def handle(request: Request, exc: Any) -> Response:
        if is_console(request):
            known = isinstance(exc, NudgeError | RequestValidationError | StarletteHTTPException)
            if not known:
                log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
                return console_error(request, 500)
            status = int(getattr(exc, "status", 0) or getattr(exc, "status_code", 0) or 400)
            return console_error(request, 404 if status in (401, 403, 404) else status)
        result = previous(request, exc)
        return await result if isinstance(result, Awaitable) else result

    return handle


def _login_required(request: Request, _: Exception) -> Response:
    visitor = _visitor(request)
    end_console_session(visitor)
    return visitor.redirect("/console/login")


def install(app: FastAPI) -> None:
    """After `api.pages.install`: console routes get console pages, the rest is unchanged."""
    for kind in (
        NudgeError,
        RequestValidationError,
        StarletteHTTPException,
        Exception,
        CsrfRejected,
    ):
        previous = app.exception_handlers[kind]
        if kind is CsrfRejected:
            app.add_exception_handler(kind, _csrf_first(previous))
        else:
            app.add_exception_handler(kind, _console_first(previous))
    app.add_exception_handler(ConsoleLoginRequired, _login_required)
    app.add_middleware(PageErrorMiddleware, prefix=CONSOLE_PREFIX, render=console_error)
    register_error_page(app, CONSOLE_PREFIX, console_error)


def _csrf_first(previous: Handler) -> Handler:
    async def handle(request: Request, exc: Any) -> Response:
        if is_console(request):
            return console_error(request, 403)
        result = previous(request, exc)
        return await result if isinstance(result, Awaitable) else result

    return handle
