"""Back-test a rule (draft or published version) over stored or posted readings: when would
it have fired, with which values. Nothing is stored or sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine.catalog.compiled import check_definition
from engine.catalog.params import check_params
from engine.catalog.schemas import BacktestRequest
from engine.catalog.service import CatalogService
from engine.customers.service import CustomerService
from engine.errors import InvalidInput
from engine.feeds.stored import StoredReadings
from engine.models import Tenant
from engine.platform.validation import EARLIEST
from rules.aggregates import Reading
from rules.backtest import backtest
from rules.context import Customer as CustomerContext
from rules.trigger import compile_rule
from rules.windows import iso_utc

MAX_HITS = 10_000
# Feeds accept readings from EARLIEST to a day ahead; a row outside (stored before the bounds
# existed) is left out rather than breaking every back-test of its customer.
_STORED_SPAN = (int(EARLIEST.timestamp()), int(datetime(9000, 1, 1, tzinfo=UTC).timestamp()))


class BacktestService:
    def __init__(
        self, catalog: CatalogService, customers: CustomerService, readings: StoredReadings
    ) -> None:
        self.catalog = catalog
        self.customers = customers
        self.readings = readings

    def run(self, tenant: Tenant, key: str, request: BacktestRequest) -> dict[str, Any]:
        rule = self.catalog.get(tenant.id, key)
        definition = (
            check_definition(rule.draft, ("rule",))
            if request.version is None
            else self.catalog.compiled(rule, request.version).definition
        )
        if definition.kind != "threshold":
            raise InvalidInput.at(("path", "key"), "back-tests replay readings: threshold rules")
        compiled = compile_rule(definition, request.version or 0)
        params = check_params(definition, request.params)
        customer, readings = self._inputs(tenant, definition.metric or "", request)
        hits = backtest(compiled, params, customer, readings)
        return {
            "rule": key,
            "version": request.version,
            "params": params,
            "timezone": customer.timezone,
            "readings": len(readings),
            "fired": [
                {
                    "action": h.action,
                    "transition": h.transition_id,
                    "window_start": iso_utc(h.window_start),
                    "window_end": iso_utc(h.window_end),
                    "at": iso_utc(h.at),
                    "value": h.value,
                    "values": h.values,
                }
                for h in hits[:MAX_HITS]
            ],
        }

    def _inputs(
        self, tenant: Tenant, metric: str, request: BacktestRequest
    ) -> tuple[CustomerContext, list[Reading]]:
        if (request.customer_id is None) == (request.readings is None):
            raise InvalidInput.at(("body",), "give either customer_id or readings")
        if request.customer_id is not None:
            found = self.customers.get(tenant.id, request.customer_id)
            rows = self.readings.window_readings(found.id, metric, *_STORED_SPAN)
            readings = [
                Reading(datetime.fromtimestamp(s, UTC), timedelta(seconds=d), v)
                for s, d, v, _ in rows
            ]
            return CustomerContext(found.locale, found.timezone, found.attributes), readings
        zone = request.timezone or tenant.default_timezone
        posted = [
            Reading(r.start.astimezone(UTC), timedelta(seconds=r.duration), r.value)
            for r in request.readings or []
        ]
        return CustomerContext(tenant.default_locale, zone, {}), posted
