"""Console pages: templates under ``templates/console/`` (they reuse the page macros), the
console's texts, and responses that carry the visitor's cookies and the security headers."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.web.console_texts import console_text
from api.web.render import SECURITY_HEADERS
from api.web.visitor import Visitor
from engine.templating import templates_dir


@cache
def console_environment() -> Environment:
    """Rooted at ``templates/`` so a console page can import ``pages/macros.html``."""
    return Environment(
        loader=FileSystemLoader(templates_dir()),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def console_page(visitor: Visitor, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    def say(key: str, **fill: object) -> str:
        return console_text(visitor.lang, key, **fill)

    merged = visitor._values(
        {"_": say, "lang_url": lambda lang: _lang_url(visitor, lang), **values}
    )
    html = console_environment().get_template(f"console/{template}").render(**merged)
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    return visitor._with_cookies(response)


def console_redirect(visitor: Visitor, path: str, **query: str) -> RedirectResponse:
    return visitor.redirect(path, **query)


def _lang_url(visitor: Visitor, lang: str) -> str:
    from urllib.parse import urlencode

    request = visitor.request
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/console/lang?" + urlencode({"to": lang, "next": here})
