"""RFC 9457 problem+json: the one place errors become HTTP responses."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import PROBLEM_BASE, InvalidInput, NudgeError, RetryLater

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("nudge.api")

_HTTP_SLUGS = {
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    401: "unauthorized",
    403: "forbidden",
}


def problem(
    status: int,
    type_: str,
    title: str,
    detail: str = "",
    instance: str = "",
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_JSON, headers=_headers(status, headers)
    )


def _headers(status: int, given: Mapping[str, str] | None) -> dict[str, str]:
    headers = dict(given or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return headers


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def render_domain_error(request: Request, exc: NudgeError) -> JSONResponse:
    extra: dict[str, Any] = dict(exc.extra)
    if exc.errors:
        extra["errors"] = [{**e.as_dict(), "field": _field_path(e.loc)} for e in exc.errors]
    headers: dict[str, str] = {}
    if isinstance(exc, RetryLater):
        headers["Retry-After"] = str(exc.retry_after)
        extra["retry_after"] = exc.retry_after
    elif exc.status >= 500:
        log.error("internal error", extra={"path": request.url.path})
    return problem(exc.status, exc.type, exc.title, exc.detail, request.url.path, headers, **extra)


def _render_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {
            "loc": list(e["loc"]),
            "field": _field_path(e["loc"]),
            "msg": e["msg"].removeprefix("Value error, "),
            "type": e["type"],
        }
        for e in exc.errors()
    ]
    _name_the_content_type(request, errors)
    detail = "; ".join(f"{e['field']}: {e['msg']}" for e in errors[:5])
    return problem(
        422, InvalidInput("").type, InvalidInput.title, detail, request.url.path, errors=errors
    )


def _name_the_content_type(request: Request, errors: list[dict[str, Any]]) -> None:
    """A JSON body sent without its media type (curl's ``-d`` says form data) reads as
    "not an object": say which header is missing instead."""
    sent = request.headers.get("content-type", "").split(";")[0].strip()
    if sent == "application/json" or sent.endswith("+json"):
        return
    for error in errors:
        if error["loc"] == ["body"] and error["type"] in ("model_attributes_type", "dict_type"):
            error["msg"] = (
                "expected a JSON object with Content-Type: application/json, "
                f"not {sent or 'no Content-Type'}"
            )


def _render_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    slug = _HTTP_SLUGS.get(exc.status_code, "http-error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem(
        exc.status_code, PROBLEM_BASE + slug, str(exc.detail), "", request.url.path, headers
    )


def allowed_methods(request: Request) -> list[str]:
    """The methods the app's routes take at this path, pages included (Starlette names none)."""
    allowed: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        template, methods = route.path_format, route.methods
        if template and methods:
            pattern = re.sub(r"\\{[^}/]+\\}", "[^/]+", re.escape(template))
            if re.fullmatch(pattern, request.url.path):
                allowed |= methods
    return sorted(allowed)


def _render_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Called outside the ``except`` block that caught it, so pass the exception explicitly.
    log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    return problem(500, PROBLEM_BASE + "internal", "Internal error", "", request.url.path)


def install(app: FastAPI) -> None:
    app.add_exception_handler(NudgeError, render_domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _render_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _render_http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _render_unexpected)
