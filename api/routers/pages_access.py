"""Getting into the customer's page: the signed link (GET asks, POST signs in), sign-in links
by email or SMS, signing out and the language switch."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import PortalAccessDep, SettingsDep
from api.web.deps import NUL, FormDep, VisitorDep, nul_errors, readable
from api.web.ratelimit import SignInLimits
from api.web.session import LANG_COOKIE
from api.web.texts import language_of
from api.web.visitor import LANG_MAX_AGE, Visitor, chosen_language
from engine.portal.access import LinkCheck, LinkState, parse_address
from engine.portal.sender import send_letters

router = APIRouter(prefix="/me", tags=["pages"], include_in_schema=False)

Token = Annotated[str, Query(max_length=2000)]
PROBLEM_TITLES = {
    LinkState.expired: ("link.expired", "link.expired.text"),
    LinkState.used: ("link.used", "link.used.text"),
    LinkState.invalid: ("link.invalid", "link.invalid.text"),
}


def _limits(request: Request) -> SignInLimits:
    limits: SignInLimits | None = getattr(request.app.state, "sign_in_limits", None)
    if limits is None:
        limits = request.app.state.sign_in_limits = SignInLimits()
    return limits


def _speak_to(visitor: Visitor, check: LinkCheck) -> None:
    """A link names its customer: answer in their language unless the visitor chose one."""
    if check.customer is not None and check.tenant is not None:
        chosen = chosen_language(visitor.request) or language_of(check.customer.locale)
        visitor.lang = chosen or visitor.lang
        visitor.zone, visitor.tenant_name = check.customer.timezone, check.tenant.name


def _link_problem(visitor: Visitor, check: LinkCheck, token: str) -> HTMLResponse:
    title, text = PROBLEM_TITLES[check.state]
    return visitor.page(
        "link_problem.html",
        403,
        title=visitor.t(title),
        message=visitor.t(text),
        token=token if check.customer is not None else None,
    )


short_router = APIRouter(prefix="/m", tags=["pages"], include_in_schema=False)


@short_router.get("/{code}", response_model=None)
def open_short_link(
    visitor: VisitorDep, access: PortalAccessDep, code: Annotated[str, Path(max_length=80)]
) -> Response:
    """An SMS's short link: on to the same question a signed link asks (nothing changes)."""
    token = access.token_for_message(code)
    if token is None:
        return _link_problem(visitor, LinkCheck(LinkState.invalid), "")
    return visitor.redirect("/me/link", token=token)


@router.get("/link", response_model=None)
def open_link(visitor: VisitorDep, access: PortalAccessDep, token: Token = "") -> Response:
    """Asks before signing in: a GET changes nothing, since mail scanners follow links."""
    check = access.check(token)
    _speak_to(visitor, check)
    if check.state is not LinkState.ok:
        return _link_problem(visitor, check, token)
    session, customer = visitor.session, check.customer
    if session is not None and customer is not None and session.customer_id == customer.id:
        return visitor.redirect("/me")  # already signed in as this customer
    return visitor.page("link.html", token=token)


@router.post("/link", response_model=None)
def sign_in(visitor: VisitorDep, access: PortalAccessDep, form: FormDep) -> Response:
    token = str(form.get("token") or "")
    check = access.check(token) if NUL not in token else LinkCheck(LinkState.invalid)
    _speak_to(visitor, check)
    if check.state is not LinkState.ok:
        return _link_problem(visitor, check, token)
    customer = access.sign_in(check)
    visitor.start_session(customer.tenant_id, customer.id)
    return visitor.redirect("/me")


@router.post("/link/fresh", response_class=HTMLResponse)
def fresh_link(
    request: Request,
    visitor: VisitorDep,
    access: PortalAccessDep,
    settings: SettingsDep,
    form: FormDep,
    background: BackgroundTasks,
) -> HTMLResponse:
    """A new one-time link for the customer an expired or used link named."""
    token = str(form.get("token") or "")
    check = access.check(token) if NUL not in token else LinkCheck(LinkState.invalid)
    _speak_to(visitor, check)
    if check.customer is None:
        return visitor.page("login.html", address="")
    client = request.client.host if request.client else "?"
    wait = _limits(request).refusal(check.customer.id, client, visitor.now)
    if wait:
        return _too_many(visitor, wait)
    letter = access.letter_for(check.customer)
    background.add_task(send_letters, settings, [letter] if letter else [])
    return visitor.page(
        "message.html", title=visitor.t("link.fresh"), message=visitor.t("link.fresh.sent")
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(visitor: VisitorDep, done: str | None = None) -> HTMLResponse:
    return visitor.page("login.html", address="", done="logout.done" if done == "logout" else None)


@router.post("/login", response_class=HTMLResponse)
def request_link(
    request: Request,
    visitor: VisitorDep,
    access: PortalAccessDep,
    settings: SettingsDep,
    form: FormDep,
    background: BackgroundTasks,
) -> HTMLResponse:
    """Sends a one-time link to every customer at this address who may be contacted there;
    answers the same whether or not anyone is."""
    address = str(form.get("address") or "")[:320]
    refused = nul_errors(form, visitor.t)
    if refused:
        shown = str(readable(form).get("address") or "")[:320]
        return visitor.page("login.html", 400, address=shown, errors=refused)
    if parse_address(address) is None:
        errors = [("address", visitor.t("login.address.error"))]
        return visitor.page("login.html", 400, address=address, errors=errors)
    client = request.client.host if request.client else "?"
    wait = _limits(request).refusal(address, client, visitor.now)
    if wait:
        return _too_many(visitor, wait)
    letters = access.letters_for_address(address)
    background.add_task(send_letters, settings, letters)
    return visitor.page("login_sent.html", address=address)


@router.post("/logout", response_model=None)
def logout(visitor: VisitorDep, form: FormDep) -> RedirectResponse:
    visitor.end_session()
    return visitor.redirect("/me/login", done="logout")


@router.get("/lang", response_model=None)
def choose_language(visitor: VisitorDep, to: str = "", next: str = "/me") -> RedirectResponse:
    """The language switch: a plain link, so it works without JavaScript."""
    lang = language_of(to)
    if lang is not None:
        visitor.set_cookies[LANG_COOKIE] = (lang, LANG_MAX_AGE)
    local = next.startswith("/me") and not next.startswith("//") and "\\" not in next
    return visitor.redirect(next if local else "/me")


def _too_many(visitor: Visitor, wait: float) -> HTMLResponse:
    page = visitor.page(
        "message.html",
        429,
        title=visitor.t("error.too_many"),
        message=visitor.t("error.too_many.text"),
    )
    page.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return page
