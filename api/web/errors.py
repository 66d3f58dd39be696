"""Errors on page routes become pages in the visitor's language, not problem+json."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.middleware import WatchedSend
from api.problems import allowed_methods
from api.web.deps import CsrfRejected, LoginRequired
from api.web.visitor import Visitor, visitor_for
from engine.errors import NudgeError, RetryLater
from engine.platform.db import is_contention, is_nul_refusal, is_unavailable

log = logging.getLogger("nudge.api")
PAGE_PREFIX = "/me"
LINK_PATHS = ("/v1/unsubscribe", "/v1/ack")  # the links in messages answer with pages too
Handler = Callable[[Request, Any], Response | Awaitable[Response]]


def is_page(request: Request) -> bool:
    path = request.url.path
    return path == PAGE_PREFIX or path.startswith(PAGE_PREFIX + "/")


def is_link(request: Request) -> bool:
    return request.url.path in LINK_PATHS


def _visitor(request: Request) -> Visitor:
    runtime = request.app.state.runtime
    return visitor_for(request, runtime.settings, int(runtime.clock.now().timestamp()))


def error_page(request: Request, status: int, texts: tuple[str, str] | None = None) -> Response:
    visitor = _visitor(request)
    title, body = texts or {
        403: ("error.csrf", "error.generic.text"),
        404: ("error.not_found", "error.not_found.text"),
    }.get(status, ("error.generic", "error.generic.text"))
    return visitor.page("message.html", status, title=visitor.t(title), message=visitor.t(body))


def link_page(request: Request, status: int) -> Response:
    """A link in a message that is invalid, expired or leads nowhere: say so, and offer a
    fresh one by the sign-in page."""
    visitor = _visitor(request)
    title, body = (
        ("link.invalid", "link.invalid.text")
        if status == 403
        else ("error.not_found", "error.not_found.text")
    )
    return visitor.page(
        "link_problem.html", status, title=visitor.t(title), message=visitor.t(body), token=None
    )


def link_refused(request: Request, _status: int, _texts: tuple[str, str] | None) -> Response:
    """A link whose address or form `api.input_guard` refuses (U+0000) is one no message
    held: the page an invalid link gets."""
    return link_page(request, 403)


def _login_required(request: Request, _: Exception) -> Response:
    visitor = _visitor(request)
    visitor.end_session()
    return visitor.redirect("/me/login")


def _csrf(request: Request, _: Exception) -> Response:
    return error_page(request, 403)


def _pages_first(previous: Handler) -> Handler:
    """Page routes get an error page; everything else keeps the problem+json handler."""

    async def handle(request: Request, exc: Any) -> Response:
        known = isinstance(exc, NudgeError | RequestValidationError | StarletteHTTPException)
        if not known and is_page(request):
            log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
            return error_page(request, 500)
        status = int(getattr(exc, "status", 0) or getattr(exc, "status_code", 0) or 400)
        if is_page(request):
            page = error_page(request, 404 if status in (401, 404) else status)
            return _keeping_headers(page, request, exc)
        if is_link(request):
            if status in (403, 404) or isinstance(exc, RequestValidationError):
                return link_page(request, 404 if status == 404 else 403)
            return _keeping_headers(error_page(request, status), request, exc)
        result = previous(request, exc)
        return await result if isinstance(result, Awaitable) else result

    return handle


def _keeping_headers(page: Response, request: Request, exc: Any) -> Response:
    """An error page says what the problem would have said in its headers: the methods a
    405 takes (RFC 9110 requires them) and when to try again."""
    if page.status_code == 405:
        page.headers["Allow"] = ", ".join(allowed_methods(request))
    if isinstance(exc, RetryLater):
        page.headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, StarletteHTTPException) and exc.headers and "Retry-After" in exc.headers:
        page.headers["Retry-After"] = exc.headers["Retry-After"]
    return page


def install(app: FastAPI) -> None:
    """After `api.problems.install`: wrap its handlers for page routes."""
    for kind in (NudgeError, RequestValidationError, StarletteHTTPException, Exception):
        previous = app.exception_handlers[kind]
        app.add_exception_handler(kind, _pages_first(previous))
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfRejected, _csrf)
    # Inside the API's own error middleware.
    app.add_middleware(PageErrorMiddleware, prefix=PAGE_PREFIX, render=error_page)
    register_error_page(app, PAGE_PREFIX, error_page)
    for path in LINK_PATHS:
        app.add_middleware(PageErrorMiddleware, prefix=path, render=error_page)
        register_error_page(app, path, link_refused)


def register_error_page(app: FastAPI, prefix: str, render: ErrorPage) -> None:
    """Requests under ``prefix`` that `api.input_guard` refuses get this page."""
    app.state.error_pages = {**getattr(app.state, "error_pages", {}), prefix: render}


ErrorPage = Callable[[Request, int, tuple[str, str] | None], Response]


class PageErrorMiddleware:
    """An unexpected error on a route under ``prefix`` (the customer's page, the console)
    answers with ``render``'s error page (logged); a database that cannot take requests is
    left to the API's own answer (503 with Retry-After); U+0000 the database refused (past
    `api.input_guard`) is a 422 page that says so."""

    def __init__(self, app: ASGIApp, prefix: str, render: ErrorPage) -> None:
        self.app, self.prefix, self.render = app, prefix, render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        ours = path == self.prefix or path.startswith(self.prefix + "/")
        if scope["type"] != "http" or not ours:
            return await self.app(scope, receive, send)
        watched = WatchedSend(send)
        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if watched.started or is_unavailable(exc) or is_contention(exc):
                raise  # the API's answer (a contended request is run again first)
            if is_nul_refusal(exc):  # got past the guard: find what let it by
                log.warning("the database refused U+0000", extra={"path": path})
                answer = self.render(Request(scope), 422, ("error.invalid", "error.nul"))
                return await answer(scope, receive, send)
            log.error("unhandled error", exc_info=exc, extra={"path": path})
            await self.render(Request(scope), 500, None)(scope, receive, send)
