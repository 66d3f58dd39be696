"""The links in messages: one-click unsubscribe (RFC 8058) and acknowledgement pages."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.deps import CatalogServiceDep, InboundLinksDep
from api.web.deps import VisitorDep
from api.web.visitor import Visitor
from engine.catalog.service import CatalogService
from engine.inbound import messages
from engine.inbound.links import LinkTarget
from engine.models import ALL_TOPICS

router = APIRouter(prefix="/v1", tags=["links"])

Token = Annotated[str, Query(min_length=1, max_length=2000, description="the signed link token")]
INVALID: dict[int | str, dict[str, Any]] = {
    403: {
        "description": "Invalid or expired link (also a token that is missing, too long or "
        "holds U+0000): a page offering a fresh one",
        "content": {"text/html": {}},
    },
    404: {"description": "Gone", "content": {"text/html": {}}},
}


@router.get("/unsubscribe", response_class=HTMLResponse, responses=INVALID)
def unsubscribe_page(
    token: Token, links: InboundLinksDep, catalog: CatalogServiceDep, visitor: VisitorDep
) -> HTMLResponse:
    """Asks before unsubscribing: a GET changes nothing, since mail scanners follow links."""
    target = links.unsubscribe_target(token)
    key = "page.unsubscribe.ask_all" if target.topic == ALL_TOPICS else "page.unsubscribe.ask"
    form = _button(
        f"/v1/unsubscribe?token={quote(token, safe='')}",
        _text(target, "page.unsubscribe.button"),
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">',
    )
    return _page(visitor, target, "page.unsubscribe.title", _text(target, key, catalog), form)


@router.post("/unsubscribe", response_class=HTMLResponse, responses=INVALID)
def unsubscribe(
    token: Token, links: InboundLinksDep, catalog: CatalogServiceDep, visitor: VisitorDep
) -> HTMLResponse:
    """RFC 8058 one-click unsubscribe (body ``List-Unsubscribe=One-Click``), or the button."""
    target = links.unsubscribe(token)
    key = "page.unsubscribed_all" if target.topic == ALL_TOPICS else "page.unsubscribed"
    return _page(visitor, target, "page.unsubscribe.title", _text(target, key, catalog))


@router.get("/ack", response_class=HTMLResponse, responses=INVALID)
def acknowledge_page(token: Token, links: InboundLinksDep, visitor: VisitorDep) -> HTMLResponse:
    """Asks before confirming: a GET changes nothing, since mail scanners follow links."""
    target = links.ack_target(token)
    return _page(
        visitor,
        target,
        "page.ack.ask_title",
        _text(target, "page.ack.ask"),
        _button(f"/v1/ack?token={quote(token, safe='')}", _text(target, "page.ack.button")),
    )


@router.post("/ack", response_class=HTMLResponse, responses=INVALID)
def acknowledge(token: Token, links: InboundLinksDep, visitor: VisitorDep) -> HTMLResponse:
    """The customer confirms an email that asked for it; no further channel is tried."""
    target = links.acknowledge(token)
    return _page(visitor, target, "page.ack.title", _text(target, "page.ack.done"))


def _button(action: str, label: str, hidden: str = "") -> dict[str, Any]:
    return {"form_action": action, "button": label, "hidden": Markup(hidden)}


def _text(target: LinkTarget, key: str, catalog: CatalogService | None = None) -> str:
    channel = messages.channel_label(target.channel, target.locale)
    topic = _topic(target, catalog) if catalog is not None else target.topic
    return messages.text(key, target.locale, tenant=target.tenant, channel=channel, topic=topic)


def _topic(target: LinkTarget, catalog: CatalogService) -> str:
    """The topic by the titles of the tenant's rules in it, as the customer knows them."""
    if target.topic in ("", ALL_TOPICS):
        return target.topic
    titles = [
        dict(rule.definition.title)
        for rule in catalog.published(target.tenant_id)
        if rule.definition.topic == target.topic
    ]
    return messages.topic_name(target.topic, titles, target.locale)


def _page(
    visitor: Visitor,
    target: LinkTarget,
    title_key: str,
    text: str,
    form: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The shared page layout, in the customer's language; the token in the URL stays out of
    caches and Referer headers (the layout's headers), and the page runs no script."""
    visitor.lang = messages.language(target.locale)
    visitor.tenant_name = target.tenant
    title = messages.text(title_key, target.locale)
    return visitor.page("message.html", title=title, message=text, languages=(), **(form or {}))
