"""Back-tests the console draws: a rule version replayed over a customer's stored readings
or an uploaded file, each window's aggregate beside the parameter's line, and the hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.catalog.compiled import CompiledRule, check_definition, compile_checked
from engine.catalog.service import CatalogService
from engine.customers.service import CustomerService
from engine.errors import InvalidInput
from engine.feeds.parsing import (
    FeedFormatError,
    ParseResult,
    detect_format,
    parse_csv,
    parse_greenbutton,
    parse_json,
    parse_ndjson,
)
from engine.feeds.stored import StoredReadings
from engine.models import Rule, Tenant
from engine.platform.validation import check_timezone
from engine.portal.preview import Preview, PreviewWindow, _per_window, limit_parameter
from engine.triggers.service import check_params
from rules.aggregates import Reading
from rules.backtest import BacktestHit, backtest
from rules.context import Customer as CustomerContext
from rules.windows import Window, window_for, zone_of

MAX_WINDOWS = 4_000  # the chart shows the latest ones; the table lists every hit
MAX_HITS = 2_000
FILE_CUSTOMER = "upload"


@dataclass(frozen=True)
class BacktestView:
    preview: Preview
    hits: list[BacktestHit] = field(default_factory=list)
    readings: int = 0
    timezone: str = "UTC"
    limit_name: str | None = None
    rejected: int = 0


class ConsoleBacktests:
    def __init__(
        self, catalog: CatalogService, customers: CustomerService, readings: StoredReadings
    ) -> None:
        self.catalog = catalog
        self.customers = customers
        self.readings = readings

    def compiled(self, rule: Rule, version: int) -> CompiledRule:
        """A published version, or the draft (version 0) compiled the same way."""
        if version:
            return self.catalog.compiled(rule, version)
        definition = check_definition(rule.draft, ("rule",))
        condition = compile_checked(definition, ("rule",))
        names = condition.variables
        previous = any(v.startswith("previous.") for v in names)
        baseline = any(v.startswith("baseline.") for v in names)
        return CompiledRule("draft", 0, definition, condition, previous, baseline)

    def for_customer(
        self, tenant: Tenant, rule: CompiledRule, external_id: str, values: dict[str, Any]
    ) -> BacktestView:
        customer = self.customers.by_external_id(tenant.id, external_id)
        metric = rule.definition.metric or ""
        rows = self.readings.window_readings(customer.id, metric, -(2**62), 2**62)
        readings = [
            Reading(datetime.fromtimestamp(s, UTC), timedelta(seconds=d), v) for s, d, v, _ in rows
        ]
        context = CustomerContext(customer.locale, customer.timezone, customer.attributes)
        return self._run(rule, values, context, readings)

    def for_file(
        self, tenant: Tenant, rule: CompiledRule, body: bytes, zone: str, values: dict[str, Any]
    ) -> BacktestView:
        try:
            check_timezone(zone)  # as the JSON API's back-test checks its timezone
        except ValueError as exc:
            raise InvalidInput.at(("body", "timezone"), str(exc)) from None
        parsed = _parse(body, datetime.now(UTC))
        metric = rule.definition.metric
        readings = [
            Reading(r.start.astimezone(UTC), timedelta(seconds=r.duration_s), r.value)
            for r in parsed.rows
            if r.metric == metric or not metric
        ]
        context = CustomerContext(tenant.default_locale, zone, {})
        view = self._run(rule, values, context, readings)
        return BacktestView(
            view.preview, view.hits, view.readings, zone, view.limit_name, len(parsed.rejections)
        )

    def _run(
        self,
        rule: CompiledRule,
        values: dict[str, Any],
        customer: CustomerContext,
        readings: list[Reading],
    ) -> BacktestView:
        d = rule.definition
        if d.kind != "threshold" or d.window is None or d.aggregate is None:
            raise InvalidInput.at(("path", "key"), "back-tests replay readings: threshold rules")
        params = check_params(d, values)
        readings.sort(key=lambda r: r.start)
        hits = backtest(rule.core, params, customer, readings)
        fired = {h.window_start for h in hits if h.action == "fire"}
        windows = _windows(d.window, customer.timezone, readings)
        limit = limit_parameter(rule)
        preview = Preview(
            params,
            d.window,
            d.aggregate,
            _per_window(windows, readings, d.aggregate, fired) if windows else [],
            float(params[limit[0]]) if limit and params.get(limit[0]) is not None else None,
            limit[1] if limit else None,
        )
        shown = [h for h in hits if h.action == "fire"][:MAX_HITS]
        name = limit[0] if limit else None
        return BacktestView(preview, shown, len(readings), customer.timezone, name)


def _windows(kind: Any, zone: str, readings: list[Reading]) -> list[Window]:
    """The windows from the first reading's to the last one's (the latest MAX_WINDOWS)."""
    if not readings:
        return []
    tz = zone_of(zone)
    last = window_for(kind, readings[-1].start, tz)
    first = window_for(kind, readings[0].start, tz)
    windows = [last]
    while windows[-1].start > first.start and len(windows) < MAX_WINDOWS:
        windows.append(windows[-1].previous())
    return windows[::-1]


def _parse(body: bytes, now: datetime) -> ParseResult:
    try:
        kind = detect_format(body[:4096])
    except FeedFormatError as exc:
        raise InvalidInput.at(("body", "file"), exc.detail) from None
    if kind == "greenbutton":
        return parse_greenbutton(body, FILE_CUSTOMER, now)
    if kind == "csv":
        return parse_csv(body, now)
    if kind == "ndjson":
        return parse_ndjson(body, now)
    if kind == "json":
        return parse_json(body, now)
    raise InvalidInput.at(("body", "file"), f"{kind} files are not read here: CSV, NDJSON, XML")


__all__ = ["BacktestView", "ConsoleBacktests", "PreviewWindow"]
