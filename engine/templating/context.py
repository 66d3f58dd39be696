"""The render context every template sees (SPEC §3), and plausible sample values for previews.

Amounts are in major units (``51.2`` EUR); datetimes are timezone-aware; a value that does not
apply to a rule (no event for a threshold rule, no previous window yet) is ``None``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypedDict

from engine.platform.clock import SystemClock
from engine.templating.formatting import zone
from engine.templating.locales import normalize_tag, resolve_locale


class WindowContext(TypedDict):
    sum: float
    avg: float | None
    min: float | None
    max: float | None
    last: float | None
    count: int
    start: dt.datetime
    end: dt.datetime
    elapsed: float
    projected: float | None
    unit: str


class BaselineContext(TypedDict):
    sum: float
    avg: float
    min: float
    max: float
    last: float
    count: float
    windows: int


class EventContext(TypedDict):
    type: str
    occurred_at: dt.datetime | None
    fields: dict[str, Any]
    due: dt.date | None
    amount: Decimal | None
    currency: str | None


class CustomerContext(TypedDict):
    name: str
    locale: str
    timezone: str
    attributes: dict[str, Any]


class RuleContext(TypedDict):
    key: str
    title: str
    topic: str


class NotificationContext(TypedDict):
    id: str
    reason: str


class LinksContext(TypedDict):
    unsubscribe: str
    ack: str | None
    preferences: str


class RenderContext(TypedDict):
    params: dict[str, Any]
    window: WindowContext | None
    previous: WindowContext | None
    baseline: BaselineContext | None
    event: EventContext | None
    customer: CustomerContext
    rule: RuleContext
    notification: NotificationContext
    now: dt.datetime
    links: LinksContext


CONTEXT_VARIABLES = frozenset(RenderContext.__annotations__)

_RULES: dict[str, tuple[str, dict[str, str]]] = {
    "energy.daily_above": (
        "energy",
        {"en": "Daily electricity use above a limit", "de": "Täglicher Stromverbrauch über Limit"},
    ),
    "checkup.reminder": ("health", {"en": "Check-up reminder", "de": "Check-up-Erinnerung"}),
    "bill.monthly_above": (
        "billing",
        {"en": "Monthly bill above a limit", "de": "Monatsrechnung über Limit"},
    ),
}
_GENERIC = ("general", {"en": "Your alert", "de": "Ihre Benachrichtigung"})
_LINK_BASE = "https://nudge.example"


def sample_context(
    rule_key: str | None, locale: str, timezone: str, now: dt.datetime | None = None
) -> dict[str, Any]:
    """A complete context with plausible values for ``rule_key`` (or any rule, if unknown)."""
    now = now or SystemClock().now()
    tz = zone(timezone)
    builder = _BUILDERS.get(rule_key or "", _generic)
    context: dict[str, Any] = {
        "params": {},
        "window": None,
        "previous": None,
        "baseline": None,
        "event": None,
        "customer": _customer(locale, timezone),
        "rule": _rule(rule_key, locale),
        "notification": {"id": "ntf_sample", "reason": "sample"},
        "now": now,
        "links": _links(),
    }
    context.update(builder(now, tz))
    return context


def _customer(locale: str, timezone: str) -> CustomerContext:
    german = normalize_tag(locale).startswith("de")
    return {
        "name": "Anna Weber" if german else "Alex Morgan",
        "locale": normalize_tag(locale),
        "timezone": timezone,
        "attributes": {"tariff": "Öko Basis" if german else "Green Basic", "contract": "V-1042"},
    }


def _rule(rule_key: str | None, locale: str) -> RuleContext:
    topic, titles = _RULES.get(rule_key or "", _GENERIC)
    title = titles[resolve_locale(locale, titles)]
    return {"key": rule_key or "sample.rule", "title": title, "topic": topic}


def _links() -> LinksContext:
    return {
        "unsubscribe": f"{_LINK_BASE}/u/sample-token",
        "ack": f"{_LINK_BASE}/a/sample-token",
        "preferences": f"{_LINK_BASE}/me/preferences",
    }


def _day(now: dt.datetime, tz: dt.tzinfo, days_back: int = 0) -> tuple[dt.datetime, dt.datetime]:
    today = now.astimezone(tz).date() - dt.timedelta(days=days_back)
    start = dt.datetime.combine(today, dt.time(), tzinfo=tz)
    return start, dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=tz)


def _month(now: dt.datetime, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    first = now.astimezone(tz).date().replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return (
        dt.datetime.combine(first, dt.time(), tzinfo=tz),
        dt.datetime.combine(following, dt.time(), tzinfo=tz),
    )


def _elapsed(now: dt.datetime, start: dt.datetime, end: dt.datetime) -> float:
    # Aware datetimes in one zone subtract as wall-clock time; UTC counts real hours (DST).
    utc = dt.UTC
    span = end.astimezone(utc) - start.astimezone(utc)
    return min(1.0, max(0.0, (now.astimezone(utc) - start.astimezone(utc)) / span))


def _window(
    total: float, unit: str, bounds: tuple[dt.datetime, dt.datetime], elapsed: float, count: int
) -> WindowContext:
    projected = round(total / elapsed, 2) if elapsed > 0 else None
    return {
        "sum": total,
        "avg": round(total / count, 3),
        "min": round(total / count / 3, 3),
        "max": round(total / count * 2.5, 3),
        "last": round(total / count * 1.2, 3),
        "count": count,
        "start": bounds[0],
        "end": bounds[1],
        "elapsed": round(elapsed, 4),
        "projected": max(total, projected) if projected is not None else None,
        "unit": unit,
    }


def _baseline(total: float, count: int) -> BaselineContext:
    average = round(total / count, 3)
    return {
        "sum": total,
        "avg": average,
        "min": round(average / 3, 3),
        "max": round(average * 2.5, 3),
        "last": average,
        "count": float(count),
        "windows": 28,
    }


def _energy(now: dt.datetime, tz: dt.tzinfo) -> dict[str, Any]:
    today, yesterday = _day(now, tz), _day(now, tz, days_back=1)
    elapsed = _elapsed(now, *today)
    return {
        "params": {"limit_kwh": 12.0},
        "window": _window(13.4, "kWh", today, elapsed, count=max(1, int(elapsed * 24))),
        "previous": _window(11.2, "kWh", yesterday, 1.0, count=24),
        "baseline": _baseline(10.8, count=24),
        "notification": {"id": "ntf_sample", "reason": "window.sum 13.4 > params.limit_kwh 12"},
    }


def _bill(now: dt.datetime, tz: dt.tzinfo) -> dict[str, Any]:
    month = _month(now, tz)
    elapsed = _elapsed(now, *month)
    so_far = round(51.2 * elapsed, 2)
    window = _window(so_far, "EUR", month, elapsed, count=max(1, int(elapsed * 30)))
    window["projected"] = 51.2
    return {
        "params": {"limit": 50.0},
        "window": window,
        "baseline": _baseline(44.9, count=30),
        "notification": {"id": "ntf_sample", "reason": "window.projected 51.2 > params.limit 50"},
    }


def _checkup_event(now: dt.datetime, tz: dt.tzinfo) -> EventContext:
    due = now.astimezone(tz).date() + dt.timedelta(days=14)
    return {
        "type": "checkup.due",
        "occurred_at": None,
        "fields": {},
        "due": due,
        "amount": None,
        "currency": None,
    }


def _checkup(now: dt.datetime, tz: dt.tzinfo) -> dict[str, Any]:
    return {
        "params": {"days_before": 14.0, "local_time": "09:00"},
        "event": _checkup_event(now, tz),
        "notification": {"id": "ntf_sample", "reason": "checkup.due in 14 days"},
    }


def _generic(now: dt.datetime, tz: dt.tzinfo) -> dict[str, Any]:
    due = _checkup_event(now, tz)["due"]
    event: EventContext = {
        "type": "sample.event",
        "occurred_at": now,
        "fields": {"reference": "R-2027-001"},
        "due": due,
        "amount": Decimal("42.00"),
        "currency": "EUR",
    }
    return {**_energy(now, tz), "event": event}


_BUILDERS = {
    "energy.daily_above": _energy,
    "checkup.reminder": _checkup,
    "bill.monthly_above": _bill,
}
