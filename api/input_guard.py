"""U+0000 in any input is refused before a route runs: a 422 that names where it is.

PostgreSQL's text and JSON cannot hold the character (SQLite stores it), so it would be a 500
there, or data one database keeps and the other cannot: refused on both, before anything is
stored. Cheap for the common request: the raw bytes are searched for a NUL byte or its escape
(``\\u0000`` in JSON, ``%00`` in a URL or form); only a request that has one is decoded, by its
media type, to name the field: ``body.attributes.tariff``, ``body.3.customer`` (row 3 of a
feed, NDJSON line or CSV row, and its column), ``query.cursor``, ``path.customer_id``.

The web pages (the customer's page, the console) answer with their own error page, not
problem+json: a browser shows it. Their HTML forms are left to their routes, which show the
form again with the field's error (`api.web.deps.nul_errors`). Left alone as well: XML (it
cannot hold U+0000 at all: the parser refuses the body), uploaded files (read, never stored),
the Twilio webhooks (signature first: an unsigned request is a 403), and media types no route
reads. A NUL that reaches PostgreSQL anyway is answered 422 by
`api.middleware.UnexpectedErrorMiddleware` (on the pages, by their error page).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import BODY_KEY
from api.problems import render_domain_error
from engine.errors import FieldError, InvalidInput
from engine.platform import nul
from engine.platform.nul import ERROR_TYPE, KEY_MESSAGE, MESSAGE, NUL, shown

MAX_ERRORS = 20
SKIPPED_PREFIXES = ("/v1/webhooks/",)
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
CSV_TYPES = ("text/csv", "application/csv")
FORM = "application/x-www-form-urlencoded"
URL_ESCAPE = b"%00"
FORM_PAGES = ("/me", "/console")  # their forms answer with the form again, not problem+json
NUL_PAGE = ("error.invalid", "error.nul")  # the texts of a page's answer
ErrorPage = Callable[[Request, int, tuple[str, str] | None], Response]


class NulGuardMiddleware:
    """Answers 422 for a request with U+0000 in its path, query or body (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(SKIPPED_PREFIXES):
            return await self.app(scope, receive, send)
        errors = await find_nul(scope)
        if not errors:
            return await self.app(scope, receive, send)
        page = _error_page(scope)
        request = Request(scope)
        response = (
            page(request, 422, NUL_PAGE) if page else render_domain_error(request, refusal(errors))
        )
        await response(scope, receive, send)


def _error_page(scope: Scope) -> ErrorPage | None:
    """The error page of the web pages the path belongs to, if it is one of theirs (a browser
    is shown a page, not problem+json): registered in ``app.state.error_pages`` by prefix."""
    path: str = scope["path"]
    pages = getattr(getattr(scope.get("app"), "state", None), "error_pages", {})
    for prefix, page in pages.items():
        if path == prefix or path.startswith(prefix + "/"):
            return cast(ErrorPage, page)
    return None


def refusal(errors: list[FieldError]) -> InvalidInput:
    where = ", ".join(".".join(str(part) for part in e.loc) for e in errors[:5])
    more = f" and {len(errors) - 5} more" if len(errors) > 5 else ""
    return InvalidInput(detail=f"U+0000 (NUL) is not allowed: {where}{more}", errors=errors)


async def find_nul(scope: Scope) -> list[FieldError]:
    """Where the request holds U+0000: path parameters, query parameters, body fields."""
    errors: list[FieldError] = []
    if NUL in scope["path"]:
        errors += _in_path(scope)
    query: bytes = scope.get("query_string", b"")
    if URL_ESCAPE in query or b"\0" in query:
        errors += _in_pairs(query, "query")
    body: bytes = scope.get(BODY_KEY, b"")
    if body:
        errors += await _in_body(scope, body)
    return errors[:MAX_ERRORS]


def _in_path(scope: Scope) -> list[FieldError]:
    """The parameters holding U+0000 of the first route whose template the path fits."""
    path, root = scope["path"], scope.get("root_path", "")
    path = path[len(root) :] if root and path.startswith(root) else path
    for route in _routes(getattr(getattr(scope.get("app"), "router", None), "routes", [])):
        regex = getattr(route, "path_regex", None)
        found = regex.match(path) if regex is not None else None
        named = [n for n, value in found.groupdict().items() if NUL in value] if found else []
        if named:
            return [FieldError(("path", name), MESSAGE, ERROR_TYPE) for name in named]
    return [FieldError(("path",), MESSAGE, ERROR_TYPE)]


def _routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route with its full template: an included router's routes are its candidates."""
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        if callable(candidates):
            yield from _routes(candidates())
        else:
            yield route


def _in_pairs(encoded: bytes, where: str) -> list[FieldError]:
    """Fields of a query string or a form (``a=1&b=%00``), decoded as Starlette does."""
    errors = []
    for name, value in parse_qsl(encoded.decode("latin-1"), keep_blank_values=True):
        if NUL in name:
            errors.append(FieldError((where, shown(name)), KEY_MESSAGE, ERROR_TYPE))
        elif NUL in value:
            errors.append(FieldError((where, name), MESSAGE, ERROR_TYPE))
    return errors


async def _in_body(scope: Scope, body: bytes) -> list[FieldError]:
    media, params = _media_type(_header(scope, b"content-type"))
    if (media == FORM or media.startswith("multipart/")) and _is_form_page(scope["path"]):
        return []
    if media == FORM:
        return _in_pairs(body, "body") if URL_ESCAPE in body or b"\0" in body else []
    if media.startswith("multipart/"):
        return await _in_multipart(scope, body) if b"\0" in body else []
    if media in CSV_TYPES:
        return nul.in_csv(body, params.get("charset", "utf-8"))
    if not nul.may_hold_nul(body):
        return []
    if media in NDJSON_TYPES:
        return nul.in_ndjson(body)
    if not media or media == "application/json" or media.endswith("+json"):
        return nul.in_json(body)
    return []  # XML cannot hold U+0000; other media types no route reads


def _is_form_page(path: str) -> bool:
    return any(path == page or path.startswith(page + "/") for page in FORM_PAGES)


async def _in_multipart(scope: Scope, body: bytes) -> list[FieldError]:
    """Form fields of a multipart body; uploaded files are read, not stored, and left alone."""
    request = Request(scope, _replay(body))
    try:
        form = await request.form()
    except Exception:  # malformed multipart: the route says so
        return []
    try:
        return [
            FieldError(("body", shown(name)), MESSAGE, ERROR_TYPE)
            for name, value in form.multi_items()
            if not isinstance(value, UploadFile) and (NUL in value or NUL in name)
        ]
    finally:
        await form.close()


def _media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    media, _, rest = (content_type or "").partition(";")
    params = {}
    for part in rest.split(";"):
        name, _, value = part.partition("=")
        if name.strip():
            params[name.strip().lower()] = value.strip().strip('"')
    return media.strip().lower(), params


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _replay(body: bytes) -> Receive:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def install(app: FastAPI) -> None:
    """The guard in front of every route (a NUL that reaches PostgreSQL anyway is answered
    422 by `api.middleware.UnexpectedErrorMiddleware`)."""
    app.add_middleware(NulGuardMiddleware)
