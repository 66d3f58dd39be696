"""Who is looking at a page: their language, CSRF cookie and (if signed in) session; and the
responses that carry those cookies back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape

from api.web import session as web_session
from api.web.render import SECURITY_HEADERS, Formatter, render_page
from api.web.session import CSRF_COOKIE, CSRF_FIELD, LANG_COOKIE, SESSION_COOKIE, WebSession
from api.web.texts import DEFAULT, LANGUAGES, language_of, text
from engine.platform.config import Settings

LANG_MAX_AGE = 365 * 24 * 3600
R = TypeVar("R", bound=Response)


@dataclass
class Visitor:
    request: Request
    settings: Settings
    now: int
    nonce: str
    lang: str
    session: WebSession | None
    zone: str = "UTC"
    locale: str = ""  # the customer's own, for formatting numbers and dates
    tenant_name: str = ""
    set_cookies: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    drop_cookies: set[str] = field(default_factory=set)

    @property
    def secure(self) -> bool:
        return self.settings.public_base_url.startswith("https://")

    def t(self, key: str, **values: object) -> str:
        return text(self.lang, key, **values)

    def formatter(self) -> Formatter:
        return Formatter(self.lang, self.zone, self.locale)

    def csrf_token(self) -> str:
        return web_session.csrf_token(self.settings, self.nonce)

    def csrf_field(self) -> Markup:
        token = escape(self.csrf_token())
        return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">')

    def start_session(self, tenant_id: str, customer_id: str) -> None:
        """A new session, with a new CSRF secret (none set before signing in carries over)."""
        self.session = WebSession(tenant_id, customer_id, self.now, self.now)
        self._keep_session()
        self.nonce = web_session.new_nonce()
        self.set_cookies[CSRF_COOKIE] = (self.nonce, None)

    def end_session(self) -> None:
        self.session = None
        self.set_cookies.pop(SESSION_COOKIE, None)
        self.drop_cookies.add(SESSION_COOKIE)

    def refresh_session(self) -> None:
        """Sliding idle expiry: a session in use is re-signed now and then."""
        if self.session is not None and self.session.stale(self.now):
            self.session = self.session.touched(self.now)
            self._keep_session()

    def _keep_session(self) -> None:
        assert self.session is not None
        value = web_session.encode(self.settings, self.session)
        self.set_cookies[SESSION_COOKIE] = (value, None)
        self.drop_cookies.discard(SESSION_COOKIE)

    def page(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        response = render_page(template, self._values(values), status)
        return self._with_cookies(response)

    def redirect(self, path: str, **query: str) -> RedirectResponse:
        url = f"{path}?{urlencode(query)}" if query else path
        response = RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)
        return self._with_cookies(response)

    def _values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        path = self.request.url.path
        return {
            "lang": self.lang,
            "languages": LANGUAGES,
            "_": self.t,
            "csrf": self.csrf_field,
            "fmt": self.formatter(),
            "path": path,
            "lang_url": lambda lang: "/me/lang?" + urlencode({"to": lang, "next": path}),
            "signed_in": self.session is not None,
            "tenant_name": self.tenant_name,
            "done": None,
            "errors": [],
            "section": "",
            **values,
        }

    def _with_cookies(self, response: R) -> R:
        for name, (value, max_age) in self.set_cookies.items():
            response.set_cookie(
                name,
                value,
                max_age=max_age,
                httponly=True,
                samesite="lax",
                secure=self.secure,
                path="/",
            )
        for name in self.drop_cookies:
            response.delete_cookie(
                name, path="/", httponly=True, samesite="lax", secure=self.secure
            )
        return response


def visitor_for(request: Request, settings: Settings, now: int) -> Visitor:
    cookies = request.cookies
    nonce = cookies.get(CSRF_COOKIE) or ""
    fresh_nonce = len(nonce) < 16 or len(nonce) > 64
    if fresh_nonce:
        nonce = web_session.new_nonce()
    session = web_session.decode(settings, cookies.get(SESSION_COOKIE), now)
    lang = language_of(cookies.get(LANG_COOKIE)) or _accepted(request) or DEFAULT
    visitor = Visitor(request, settings, now, nonce, lang, session)
    if fresh_nonce:
        visitor.set_cookies[CSRF_COOKIE] = (nonce, None)
    if session is None and cookies.get(SESSION_COOKIE):
        visitor.drop_cookies.add(SESSION_COOKIE)
    return visitor


def chosen_language(request: Request) -> str | None:
    return language_of(request.cookies.get(LANG_COOKIE))


def _accepted(request: Request) -> str | None:
    for part in request.headers.get("accept-language", "").split(","):
        found = language_of(part.split(";")[0])
        if found:
            return found
    return None
