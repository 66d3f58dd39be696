"""The OpenAPI document says what the API does: bearer security, problem+json for every error
status an operation can answer, the shapes of cursors; and /docs works with no network
(Swagger UI's assets are served from an installed package, not a CDN)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Iterator
from copy import deepcopy
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

from babel import localedata
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.middleware import MAX_KEY_LENGTH
from api.params import CURSOR_PATTERN
from engine.platform.validation import check_locale, check_timezone

PROBLEM_JSON = "application/problem+json"
ASSETS = "/docs/assets"


# Swagger UI 5 (OpenAPI 3.1), as the fastapi-offline package ships it.
def _swagger_ui() -> Path:
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("the fastapi-offline package (Swagger UI's assets) is not installed")
    return Path(spec.origin).parent / "static"


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "machine-readable kind"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "for invalid input: each field's path and why",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "field": {"type": "string"},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
        "retry_after": {"type": "integer", "description": "seconds, as in Retry-After"},
    },
}
_WHY = {
    "400": "Malformed request (for example an unusable Idempotency-Key)",
    "401": "Missing, invalid or expired credentials",
    "403": "These credentials may not do this",
    "404": "No such resource (also for another tenant's)",
    "409": "Conflicts with the current state",
    "413": "Request body too large",
    "415": "A body in a media type this operation does not read",
    "422": "Invalid input: `errors` names each field (U+0000 is refused in any text)",
    "429": "Too many failed authentication attempts (on feeds also: past the tenant's row "
    "allowance or batch queue): see Retry-After",
    "500": "Unexpected error (logged)",
    "503": "Database busy or unavailable: nothing was stored, retry after Retry-After",
}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}
# Statuses an operation answers that the rules in `_statuses` cannot see from its shape.
_ALSO: dict[tuple[str, str], list[str]] = {
    ("post", "/v1/feeds/greenbutton"): ["404"],  # the `customer` query names no customer
}
# The JSON the feeds read themselves (the routes parse their bodies): a row that is not a valid
# reading or event is rejected by row in a 200 answer, so only the outer shape is a 422.
_ROWS = "each a {}: the row is rejected, by index and reason, if it is not a valid one"
_FEED_JSON: dict[str, dict[str, Any]] = {
    "/v1/feeds/readings": {"type": "array", "description": _ROWS.format("reading object")},
    "/v1/feeds/events": {
        "type": ["array", "object"],
        "description": "one event object or an array, " + _ROWS.format("event"),
    },
}
CURSOR = {
    "type": "string",
    "maxLength": 200,
    "pattern": CURSOR_PATTERN,
    "description": "opaque; pass the previous page's next_cursor",
}

# Every POST that takes credentials honours it (`api.middleware.IdempotencyMiddleware`).
# Printable ASCII as the server takes it; HTTP strips a header value's outer spaces, so none
# is declared there.
IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: the same key with the same request answers the first "
    "answer again (header `Idempotent-Replayed: true`) for 24 hours by default; with another "
    "request, 422. Keys are per credentials. 1 to 200 printable ASCII characters (a UUID, for "
    "instance), else 400.",
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": f"^[!-~]([ -~]{{0,{MAX_KEY_LENGTH - 2}}}[!-~])?$",
    },
}


def install(app: FastAPI) -> None:
    """Replace the default /docs (CDN assets) and document errors and security."""
    app.mount(ASSETS, StaticFiles(directory=_swagger_ui()), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="nudge API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = describe_errors(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Every operation lists the error statuses it can answer, as problem+json; every POST
    that takes credentials, its Idempotency-Key header; zones and locales list the values the
    server accepts."""
    document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if method == "post" and operation.get("security"):
                operation.setdefault("parameters", []).append(deepcopy(IDEMPOTENCY_KEY))
            responses = operation.setdefault("responses", {})
            for status in _statuses(path, method, operation):
                if not _declared_by_the_route(responses.get(status)):
                    responses[status] = _problem_response(status)
            if path in _FEED_JSON and method == "post":
                content = operation["requestBody"]["content"]
                content["application/json"]["schema"] = _FEED_JSON[path]
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == "cursor" and parameter.get("in") == "query":
                    parameter["schema"] = {"anyOf": [CURSOR, {"type": "null"}]}
    for node in _nodes(document):
        if node.get("format") == "iana-timezone":
            node["enum"] = list(timezones())
        elif node.get("format") == "bcp47":
            node["enum"] = list(locales())
    return document


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in the document, depth first."""
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from _nodes(child)


def _accepted(check: Callable[[str], str], candidates: Iterable[str]) -> tuple[str, ...]:
    """The candidates ``check`` accepts, as it normalises them."""
    accepted = set()
    for candidate in candidates:
        try:
            accepted.add(check(candidate))
        except ValueError:
            continue
    return tuple(sorted(accepted))


@cache
def timezones() -> tuple[str, ...]:
    """The zone names the API accepts (the tz database's, as `check_timezone` filters them)."""
    return _accepted(check_timezone, available_timezones())


@cache
def locales() -> tuple[str, ...]:
    """The BCP 47 tags of the locales Babel has data for, as the API accepts them."""
    return _accepted(check_locale, (i.replace("_", "-") for i in localedata.locale_identifiers()))


def _declared_by_the_route(response: dict[str, Any] | None) -> bool:
    """A response the route declared with its own media type (an HTML page, /readyz's JSON);
    FastAPI's default 422 (HTTPValidationError) is not: errors are problem+json."""
    if not response or not response.get("content"):
        return False
    return "HTTPValidationError" not in str(response["content"])


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    statuses = ["500", "503"]
    if operation.get("security"):
        statuses += ["401", "403", "429"]
    if "{" in path:
        statuses.append("404")
    if operation.get("requestBody") or operation.get("parameters"):
        statuses.append("422")
    if operation.get("requestBody"):
        statuses.append("400")  # a body that does not parse (not JSON, not UTF-8)
        if set(operation["requestBody"].get("content", {})) - {"application/json"}:
            statuses.append("415")  # it reads the media types it lists, and no other
    if method in ("post", "put", "patch"):
        statuses += ["413", "409"] + (["400"] if method == "post" else [])
    statuses += _ALSO.get((method, path), [])
    return sorted(set(statuses))


def _problem_response(status: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _WHY[status],
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status in ("429", "503"):
        response["headers"] = _RETRY_AFTER
    return response
