"""The console's deliveries: notifications filtered by status, channel, rule, customer and
time; one notification followed from its why through every attempt; counts by status and
channel over the last day; cancelling one that has not gone out."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import ConsoleDeliveriesDep, CustomerServiceDep
from api.web.console_deps import Ops, OpsDep
from api.web.deps import FormDep
from engine.console.deliveries import Counts, DeliveryFilter
from engine.customers.service import CustomerService
from engine.errors import NotFound
from engine.models import NotificationStatus

router = APIRouter(prefix="/console/deliveries", tags=["console"], include_in_schema=False)
NotificationId = Annotated[str, Path(max_length=40)]
Text = Annotated[str, Query(max_length=200)]
STATUSES = [s.value for s in NotificationStatus]
CHANNELS = ("email", "sms", "voice", "outbox")
BAR_WIDTH = 400
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2199, 12, 31)  # the days a filter may name


@router.get("", response_class=HTMLResponse)
def deliveries(
    ops: OpsDep,
    service: ConsoleDeliveriesDep,
    customers: CustomerServiceDep,
    status: Text = "",
    channel: Text = "",
    rule: Text = "",
    customer: Text = "",
    since: Text = "",
    until: Text = "",
    before: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    errors: list[tuple[str, str]] = []
    zone = ZoneInfo(ops.tenant.default_timezone)
    where = DeliveryFilter(
        status=status if status in STATUSES else None,
        channel=channel if channel in CHANNELS else None,
        rule_key=rule.strip() or None,
        customer_id=_customer_id(ops, customers, customer, errors),
        since=_day(since, zone, errors, ("since", _date_error(ops))),
        until=_day(until, zone, errors, ("until", _date_error(ops)), next_day=True),
    )
    rows, more = ([], None) if errors else service.page(ops.tenant.id, where, before or None)
    counts = service.counts(ops.tenant.id)
    query = {"status": status, "channel": channel, "rule": rule, "customer": customer}
    query.update(since=since, until=until)
    return ops.page(
        "deliveries.html",
        422 if errors else 200,
        title=ops.t("nav.deliveries"),
        rows=rows,
        more=more,
        query=query,
        statuses=[("", ops.t("deliveries.any"))] + [(s, s) for s in STATUSES],
        channels=[("", ops.t("deliveries.any"))] + [(c, c) for c in CHANNELS],
        counts=counts,
        bars=_bars(counts),
        errors=errors,
        section="deliveries",
    )


def _customer_id(
    ops: Ops, customers: CustomerService, external_id: str, errors: list[tuple[str, str]]
) -> str | None:
    if not external_id.strip():
        return None
    try:
        return customers.by_external_id(ops.tenant.id, external_id.strip()).id
    except NotFound:
        errors.append(("customer", ops.t("customers.unknown")))
        return None


def _day(
    raw: str,
    zone: ZoneInfo,
    errors: list[tuple[str, str]],
    error: tuple[str, str],
    next_day: bool = False,
) -> datetime | None:
    """The start of a local day (of the day after, for an inclusive end)."""
    if not raw.strip():
        return None
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:  # beyond, the calendar overflows
        errors.append(error)
        return None
    return datetime.combine(day + timedelta(days=1 if next_day else 0), time(), zone)


def _date_error(ops: Ops) -> str:
    return ops.t("deliveries.date_error", first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat())


def _bars(counts: Counts) -> list[tuple[str, str, int, float]]:
    top = max((n for _, _, n in counts.rows), default=0) or 1
    return [(c or "—", s, n, round(BAR_WIDTH * n / top, 1)) for c, s, n in counts.rows]


@router.get("/{notification_id}", response_class=HTMLResponse)
def notification(
    ops: OpsDep, service: ConsoleDeliveriesDep, notification_id: NotificationId, done: str = ""
) -> HTMLResponse:
    followed = service.follow(ops.tenant.id, notification_id)
    return ops.page(
        "delivery.html",
        title=ops.t("delivery.title", id=notification_id),
        followed=followed,
        n=followed.notification,
        done=ops.t("delivery.cancelled") if done == "cancelled" else None,
        section="deliveries",
    )


@router.post("/{notification_id}/cancel", response_model=None)
def cancel(
    ops: OpsDep, service: ConsoleDeliveriesDep, notification_id: NotificationId, form: FormDep
) -> RedirectResponse:
    service.cancel(ops.tenant.id, notification_id, ops.who)
    return ops.redirect(f"/console/deliveries/{notification_id}", done="cancelled")
