"""Getting into the operations console: an ops key exchanged for a session cookie, signing
out and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import AuthenticatorDep, get_runtime
from api.web import console_session
from api.web.console_deps import OpsDep, end_console_session, keep_console_session
from api.web.console_render import console_page
from api.web.console_session import CONSOLE_COOKIE, ConsoleSession
from api.web.console_texts import console_text
from api.web.deps import FormDep, VisitorDep, nul_errors
from api.web.session import LANG_COOKIE
from api.web.texts import language_of
from api.web.visitor import LANG_MAX_AGE
from engine.auth.limits import attempt_names
from engine.auth.service import key_id_of
from engine.errors import NudgeError, TooManyRequests
from engine.models import Role

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
MAX_KEY_LENGTH = 200


@router.get("", response_model=None)
def home(visitor: VisitorDep) -> RedirectResponse:
    raw = visitor.request.cookies.get(CONSOLE_COOKIE)
    signed_in = console_session.decode(visitor.settings, raw, visitor.now) is not None
    return visitor.redirect("/console/rules" if signed_in else "/console/login")


@router.get("/login", response_class=HTMLResponse)
def login_page(visitor: VisitorDep, done: str | None = None) -> HTMLResponse:
    said = console_text(visitor.lang, "signin.done") if done == "logout" else None
    return console_page(visitor, "login.html", done=said)


@router.post("/login", response_model=None)
def sign_in(
    request: Request, visitor: VisitorDep, auth: AuthenticatorDep, form: FormDep
) -> Response:
    """Failed keys count against the client and the key id as for the API (429 past it)."""
    key = str(form.get("key") or "").strip()[:MAX_KEY_LENGTH]
    refused = nul_errors(form, visitor.t)
    if refused:  # no key holds it: not a failed attempt at one
        return console_page(visitor, "login.html", 400, errors=refused)
    limiter = get_runtime(request).auth_failures
    names = attempt_names(request.client.host if request.client else None, key_id_of(key))
    too_many = [("key", console_text(visitor.lang, "signin.too_many"))]
    try:
        limiter.check(names)
        principal = auth.authenticate(key) if key else None
    except TooManyRequests:
        return console_page(visitor, "login.html", 429, errors=too_many)
    except NudgeError:
        principal = None
    if principal is None or principal.role != Role.ops or principal.tenant_id is None:
        try:
            limiter.failed(names)  # past the key id's limit a wrong key waits; a right one not
        except TooManyRequests:
            return console_page(visitor, "login.html", 429, errors=too_many)
        errors = [("key", console_text(visitor.lang, "signin.key.error"))]
        return console_page(visitor, "login.html", 400, errors=errors)
    now = visitor.now
    keep_console_session(visitor, ConsoleSession(principal.tenant_id, principal.key_id, now, now))
    return visitor.redirect("/console/rules")


@router.post("/logout", response_model=None)
def logout(ops: OpsDep, form: FormDep) -> RedirectResponse:
    end_console_session(ops.visitor)
    return ops.visitor.redirect("/console/login", done="logout")


@router.get("/lang", response_model=None)
def choose_language(visitor: VisitorDep, to: str = "", next: str = "/console") -> Response:
    """The language switch: a plain link, so it works without JavaScript."""
    lang = language_of(to)
    if lang is not None:
        visitor.set_cookies[LANG_COOKIE] = (lang, LANG_MAX_AGE)
    local = next.startswith("/console") and not next.startswith("//") and "\\" not in next
    return visitor.redirect(next if local else "/console")
