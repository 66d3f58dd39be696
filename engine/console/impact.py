"""Impact of a draft before it is published: every current trigger of the rule (or, with
none, the draft's defaults for every customer with readings) replayed over the complete
windows of the last N days, beside what the published versions decided.

Each window is judged on its final totals, as at its end, with the window before it as
``previous``: exact for once-per-window rules whose condition, once true, stays true as the
window fills (``window.sum > params.limit``). ``baseline`` is not available here; a single
customer's back-test replays reading by reading with everything.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.catalog.compiled import CompiledRule
from engine.console.repository import ImpactRepository, ImpactRow, Subscriber
from engine.errors import InvalidInput
from engine.triggers.service import check_params
from rules.aggregates import WindowStats, stats_at
from rules.context import Context
from rules.context import Customer as CustomerContext
from rules.windows import Window, window_for

CHUNK = 2_000  # customers per query
MAX_DAYS = 90
Progress = Callable[[int, int], None]
_SIMPLE = re.compile(
    r"^\s*window\.(sum|avg|min|max|last|projected)\s*(>=|<=|>|<)\s*params\.([a-z][a-z0-9_]*)\s*$"
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": float.__gt__,
    ">=": float.__ge__,
    "<": float.__lt__,
    "<=": float.__le__,
}


@dataclass
class Impact:
    days: int
    draft: int = 0
    customers: int = 0
    published: int = 0
    published_customers: int = 0
    subscribers: int = 0
    skipped: int = 0  # triggers whose values do not fit the draft's parameters
    without_baseline: bool = False  # the condition reads baseline, which is not replayed here
    draft_per_day: Counter[date] = field(default_factory=Counter)
    published_per_day: Counter[date] = field(default_factory=Counter)

    def per_day(self, today: date) -> list[tuple[date, int, int]]:
        days = [today - timedelta(days=n) for n in range(self.days, 0, -1)]
        return [(d, self.draft_per_day[d], self.published_per_day[d]) for d in days]


class ImpactService:
    def __init__(self, repo: ImpactRepository) -> None:
        self._repo = repo

    def run(
        self,
        tenant_id: str,
        rule: CompiledRule,
        days: int,
        now: datetime,
        progress: Progress = lambda done, total: None,
    ) -> Impact:
        d = rule.definition
        if d.kind != "threshold" or d.window is None or d.aggregate is None:
            raise InvalidInput.at(("path", "key"), "impact replays readings: threshold rules")
        if not 1 <= days <= MAX_DAYS:
            raise InvalidInput.at(("query", "days"), f"from 1 to {MAX_DAYS} days")
        since = now - timedelta(days=days)
        subscribers = self._repo.subscribers(tenant_id, d.key)
        # Without triggers nothing keeps the rule's window totals: they are summed from
        # the readings of everyone who has any.
        windows = self._windows if subscribers else self._windows_from_readings
        if not subscribers:
            subscribers = self._repo.customers_with_data(tenant_id, d.metric or "", _ts(since))
        impact = Impact(days, subscribers=len(subscribers), without_baseline=rule.reads_baseline)
        judge = _judge(rule)
        hit_customers: set[str] = set()
        for done, chunk in _chunks(subscribers):
            params = {s.customer_id: self._params(rule, s, impact) for s in chunk}
            by_id = {s.customer_id: s for s in chunk}
            rows = windows(rule, by_id, since, now)
            before: ImpactRow | None = None
            for row in rows:
                checked = params.get(row.customer_id)
                previous = before if before and before.customer_id == row.customer_id else None
                before = row
                if checked is not None and judge(
                    row, previous, checked, by_id[row.customer_id], now
                ):
                    impact.draft += 1
                    hit_customers.add(row.customer_id)
                    day = datetime.fromtimestamp(row.start, _zone(by_id[row.customer_id]))
                    impact.draft_per_day[day.date()] += 1
            progress(done, len(subscribers))
        impact.customers = len(hit_customers)
        self._published(tenant_id, d.key, since, now, impact)
        return impact

    def _windows(
        self, rule: CompiledRule, by_id: dict[str, Subscriber], since: datetime, now: datetime
    ) -> list[ImpactRow]:
        d = rule.definition
        window = d.window or ""
        return self._repo.windows(list(by_id), d.metric or "", window, _ts(since), _ts(now))

    def _windows_from_readings(
        self, rule: CompiledRule, by_id: dict[str, Subscriber], since: datetime, now: datetime
    ) -> list[ImpactRow]:
        """Complete windows that begin within the period, totalled from their readings."""
        kind = rule.definition.window
        assert kind is not None
        readings = self._repo.readings(
            list(by_id), rule.definition.metric or "", _ts(since), _ts(now)
        )
        totals: dict[tuple[str, int], list[float]] = {}
        ends: dict[tuple[str, int], int] = {}
        for customer_id, start, value in readings:
            window = window_for(kind, datetime.fromtimestamp(start, UTC), _zone(by_id[customer_id]))
            key = (customer_id, _ts(window.start))
            totals.setdefault(key, []).append(value)
            ends[key] = _ts(window.end)
        return [
            ImpactRow(c, s, ends[(c, s)], sum(v), len(v), min(v), max(v), v[-1])
            for (c, s), v in sorted(totals.items())
            if s >= _ts(since) and ends[(c, s)] <= _ts(now)
        ]

    def _params(self, rule: CompiledRule, s: Subscriber, impact: Impact) -> dict[str, Any] | None:
        try:
            return check_params(rule.definition, s.params)
        except InvalidInput:
            impact.skipped += 1
            return None

    def _published(
        self, tenant_id: str, key: str, since: datetime, now: datetime, impact: Impact
    ) -> None:
        """What the published versions decided for windows that began in the period, by the
        window's local day (the decision's own time when it names no window)."""
        customers = set()
        for occurrence, created, customer, zone in self._repo.decided_since(tenant_id, key, since):
            start = _instant(occurrence) or created
            if not since <= start < now:
                continue
            impact.published += 1
            customers.add(customer)
            impact.published_per_day[start.astimezone(_zone_named(zone)).date()] += 1
        impact.published_customers = len(customers)


def _ts(at: datetime) -> int:
    return int(at.timestamp())


_ZONES: dict[str, ZoneInfo] = {}


def _zone(s: Subscriber) -> ZoneInfo:
    return _zone_named(s.timezone)


def _zone_named(name: str) -> ZoneInfo:
    found = _ZONES.get(name)
    if found is None:
        found = _ZONES[name] = ZoneInfo(name)
    return found


def _instant(text: str) -> datetime | None:
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo is not None else None


def _chunks(items: Sequence[Subscriber]) -> Iterator[tuple[int, Sequence[Subscriber]]]:
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        yield start + len(chunk), chunk


Judge = Callable[[ImpactRow, ImpactRow | None, dict[str, Any], Subscriber, datetime], bool]


def _judge(rule: CompiledRule) -> Judge:
    """Whether a complete window would have notified. The common shape ``window.<aggregate>
    <op> params.<name>`` is compared in Python (the same double comparison CEL makes); any
    other condition is evaluated by CEL with the full context."""
    simple = _SIMPLE.match(rule.definition.condition)
    if simple is not None and not (rule.reads_previous or rule.reads_baseline):
        aggregate, op, name = simple.groups()
        compare = _OPS[op]

        def fast(
            row: ImpactRow,
            _: ImpactRow | None,
            params: dict[str, Any],
            __: Subscriber,
            ___: datetime,
        ) -> bool:
            value = _aggregate(row, aggregate)
            limit = params.get(name)
            return limit is not None and compare(value, float(limit))

        return fast

    def full(
        row: ImpactRow,
        before: ImpactRow | None,
        params: dict[str, Any],
        s: Subscriber,
        now: datetime,
    ) -> bool:
        follows = rule.reads_previous and before is not None and before.end == row.start
        previous = _stats(rule, before, s) if follows and before else None
        customer = CustomerContext(s.locale, s.timezone, s.attributes)
        context = Context(params, customer, now, _stats(rule, row, s), previous)
        return _true(rule, context)

    return full


def _true(rule: CompiledRule, context: Context) -> bool:
    """The condition's verdict, failing closed as live evaluation does; without the JSON
    "why" that `rules.condition.evaluate` builds for a notification."""
    try:
        data = {name: get(context) for name, get in rule.condition.bindings}
        return rule.condition.expression.eval(data=data).value() is True
    except Exception:  # the runtime raises RuntimeError; getters may raise anything
        return False


def _aggregate(row: ImpactRow, name: str) -> float:
    if name in ("sum", "projected"):
        return float(row.total)
    if name == "avg":
        return float(row.total) / row.samples if row.samples else 0.0
    return float({"min": row.low, "max": row.high, "last": row.last}[name])


def _stats(rule: CompiledRule, row: ImpactRow, s: Subscriber) -> WindowStats:
    window = _window(rule, row, s)
    return stats_at(window, 1.0, 1.0, row.total, row.samples, row.low, row.high, row.last)


def _window(rule: CompiledRule, row: ImpactRow, s: Subscriber) -> Window:
    kind = rule.definition.window
    assert kind is not None
    start = datetime.fromtimestamp(row.start, UTC)
    return Window(kind, start, datetime.fromtimestamp(row.end, UTC), _zone(s))
