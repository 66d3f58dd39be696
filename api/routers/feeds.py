"""Businesses push data: readings (JSON, NDJSON, CSV), events, Green Button XML."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from api.deps import (
    ClockDep,
    CustomerServiceDep,
    EventFeedServiceDep,
    FeedServiceDep,
    FeedTenant,
    SettingsDep,
)
from api.middleware import BODY_KEY
from api.routing import WorkRoute
from engine.feeds.parsing import parse_events, parse_greenbutton, parse_readings
from engine.feeds.schemas import BatchResult

router = APIRouter(prefix="/v1/feeds", tags=["feeds"], route_class=WorkRoute)


def _body(request: Request) -> bytes:
    body: bytes = request.scope.get(BODY_KEY, b"")
    return body


def _content(*types: str) -> dict[str, Any]:
    schema = {"type": "string", "format": "binary"}
    return {"requestBody": {"required": True, "content": {t: {"schema": schema} for t in types}}}


@router.post(
    "/readings", openapi_extra=_content("application/json", "application/x-ndjson", "text/csv")
)
def post_readings(
    request: Request, tenant: FeedTenant, feeds: FeedServiceDep, clock: ClockDep
) -> BatchResult:
    """A batch of readings: ``customer`` (external id), ``metric``, ``start``, ``duration``
    (seconds or ISO 8601) or ``end``, ``value``, ``unit``, optional ``quality``."""
    parsed = parse_readings(_body(request), request.headers.get("content-type", ""), clock.now())
    return feeds.ingest(tenant.id, parsed)


def _known_customer(
    tenant: FeedTenant,
    customers: CustomerServiceDep,
    customer: Annotated[
        str, Query(min_length=1, max_length=200, description="the customer's external id")
    ],
) -> str:
    """The external id of one of the tenant's customers (404 otherwise)."""
    customers.by_external_id(tenant.id, customer)
    return customer


@router.post("/greenbutton", openapi_extra=_content("application/atom+xml", "application/xml"))
def post_greenbutton(
    request: Request,
    tenant: FeedTenant,
    feeds: FeedServiceDep,
    clock: ClockDep,
    settings: SettingsDep,
    customer: Annotated[str, Depends(_known_customer)],
) -> BatchResult:
    """A Green Button (NAESB ESPI) Atom feed for one customer."""
    parsed = parse_greenbutton(
        _body(request), customer, clock.now(), max_bytes=settings.max_body_bytes * 8
    )
    return feeds.ingest(tenant.id, parsed)


@router.post("/events", openapi_extra=_content("application/json", "application/x-ndjson"))
def post_events(
    request: Request, tenant: FeedTenant, events: EventFeedServiceDep, clock: ClockDep
) -> BatchResult:
    """Business events: ``customer``, ``type`` (``bill.issued``, ``checkup.due``), ``id``,
    ``occurred_at``, ``due`` (date), ``status`` (active/cancelled), ``amount`` + ``currency``,
    ``fields``. Sending an event again with its ``id`` and new values corrects it."""
    parsed = parse_events(_body(request), request.headers.get("content-type", ""), clock.now())
    return events.ingest(tenant.id, parsed)
