"""The Jinja2 environment for pages (autoescaped), locale formatting and the page response
with its security headers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.web.texts import text
from engine.templating import templates_dir

# No inline script or style anywhere: styles come from our own stylesheet, and nothing runs.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex",
}


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir() / "pages"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


class Formatter:
    """Numbers, dates and times in one page language and time zone."""

    def __init__(self, lang: str, zone: str, locale: str = "") -> None:
        self.lang = _babel_locale(locale, lang)
        self.zone = ZoneInfo(zone)

    def number(self, value: float | None, unit: str | None = None) -> str:
        if value is None:
            return text(self.lang, "format.never")
        shown = format_decimal(round(value, 2), locale=self.lang)
        return f"{shown}\u00a0{unit}" if unit else shown

    def date(self, value: dt.date | dt.datetime | None) -> str:
        if value is None:
            return text(self.lang, "format.never")
        if isinstance(value, dt.datetime):
            value = value.astimezone(self.zone).date()
        return format_date(value, format="long", locale=self.lang)

    def datetime(self, value: dt.datetime | None) -> str:
        if value is None:
            return text(self.lang, "format.never")
        local = value.astimezone(self.zone)
        day = format_date(local.date(), format="long", locale=self.lang)
        return f"{day}, {format_time(local, format='short', locale=self.lang)}"

    def short(self, value: dt.datetime) -> str:
        return format_datetime(value.astimezone(self.zone), format="short", locale=self.lang)


def _babel_locale(locale: str, lang: str) -> str:
    """The customer's own locale (``de_AT``) when it speaks the page's language, else that."""
    tag = locale.replace("-", "_")
    if not tag or tag.split("_")[0].lower() != lang:
        return lang
    try:
        return str(Locale.parse(tag))
    except (ValueError, UnknownLocaleError):
        return lang


def render_page(
    template: str,
    values: Mapping[str, Any],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    html = environment().get_template(template).render(**values)
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})
