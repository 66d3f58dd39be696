"""The demo scenario, through the same services the API uses: set up a tenant, its rules and
customers, replay a year of readings and some events, dispatch, and gather what happened."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.channels.registry import ChannelRegistry
from engine.customers.schemas import CustomerCreate
from engine.delivery.dispatcher import Dispatcher
from engine.feeds.parsing.events import parse_event_objects
from engine.models import Role, Tenant
from engine.preferences.schemas import PreferencesUpdate
from engine.processes.container import Services
from engine.processes.demo.cast import CUSTOMERS, SENDER_NUMBER, DemoCustomer
from engine.processes.demo.data import find_greenbutton, household_year, phone_charges
from engine.processes.demo.outcome import CustomerOutcome, outcome_of, template_summary
from engine.processes.demo.rules import DEMO_RULES
from engine.processes.demo.templates import DEMO_TEMPLATES
from engine.processes.importer import import_readings
from engine.processes.runtime import Runtime
from engine.tenants.schemas import KeyCreate, TenantCreate
from engine.triggers.schemas import TriggerCreate

READINGS_PER_BATCH = 24 * 7  # a week of hourly readings, as a daily feed would catch up
CHARGES_PER_BATCH = 7  # a week of daily phone charges
MAX_DISPATCH_CYCLES = 100

Say = Callable[[str], None]


@dataclass
class Setup:
    """The demo tenant, its keys and its customers' ids by external id."""

    tenant_id: str
    tenant_name: str
    ops_key: str
    feed_key: str
    customer_ids: dict[str, str] = field(default_factory=dict)
    templates: list[str] = field(default_factory=list)


@dataclass
class DemoReport:
    setup: Setup
    outcomes: list[CustomerOutcome]
    sources: dict[str, str]
    data_folder: Path | None
    channels: dict[str, str]
    outbox: Path
    handled: int
    seconds: float


def run_demo(
    runtime: Runtime,
    data_folder: Path | None = None,
    say: Say = lambda text: None,
    cast: tuple[DemoCustomer, ...] = CUSTOMERS,
) -> DemoReport:
    """Run the whole scenario; ``data_folder`` overrides where the Green Button files are."""
    began = time.monotonic()
    folder = find_greenbutton(data_folder)
    setup = set_up(runtime, cast)
    say(f"tenant {setup.tenant_name!r} with {len(DEMO_RULES)} rules and {len(cast)} customers")
    sources = {c.external_id: replay(runtime, setup, c, folder, say) for c in cast}
    push_checkups(runtime, setup, cast)
    channels = ChannelRegistry.from_settings(runtime.settings)
    say(f"dispatching through {', '.join(sorted(set(channels.describe().values())))}")
    handled = asyncio.run(dispatch(runtime, channels))
    say(f"{handled} notifications handled")
    with runtime.services() as services:
        outcomes = [outcome_of(services, c, setup.customer_ids[c.external_id]) for c in cast]
    outbox = runtime.settings.outbox_dir.resolve()
    return DemoReport(
        setup,
        outcomes,
        sources,
        folder,
        channels.describe(),
        outbox,
        handled,
        time.monotonic() - began,
    )


def set_up(runtime: Runtime, cast: tuple[DemoCustomer, ...]) -> Setup:
    """A fresh tenant (one per run), its keys, the published rules and the customers."""
    with runtime.services() as services:
        tenant = services.tenants.create_tenant(_tenant(runtime.clock.now()))
        ops, feed = (
            services.tenants.create_tenant_key(tenant.id, KeyCreate(role=role, name="demo"))
            for role in (Role.ops, Role.feed)
        )
        for rule in DEMO_RULES:
            services.catalog.create(tenant.id, rule)
            services.catalog.publish(tenant.id, rule["key"])
        for template in DEMO_TEMPLATES:
            services.templates.create(tenant, template)
        setup = Setup(tenant.id, tenant.name, ops.key, feed.key)
        setup.templates = template_summary(services, tenant)
        for customer in cast:
            setup.customer_ids[customer.external_id] = _customer(services, tenant, customer)
    return setup


def _tenant(now: datetime) -> TenantCreate:
    return TenantCreate(
        name=f"Stadtwerke Demo ({now:%Y-%m-%d %H:%M:%S})",
        default_timezone="Europe/Berlin",
        default_locale="de-DE",
        email_from="alerts@stadtwerke.example",
        sms_from=SENDER_NUMBER,
        help_text="Stadtwerke Demo: Hilfe unter 030 2312550. STOP beendet SMS.",
    )


def _customer(services: Services, tenant: Tenant, c: DemoCustomer) -> str:
    body = CustomerCreate.model_validate(
        {
            "external_id": c.external_id,
            "name": c.name,
            "locale": c.locale,
            "timezone": c.timezone,
            "email": c.email,
            "phone": c.phone,
            "attributes": c.attributes,
            "consents": list(c.consents),
        }
    )
    customer = services.customers.create(tenant, body)
    preferences = PreferencesUpdate.model_validate(c.preferences)
    services.preferences.update(tenant.id, customer.id, preferences)
    for t in c.triggers:
        channels = list(t.channels) if t.channels else None
        wanted = {"rule": t.rule, "params": t.params, "channels": channels}
        services.triggers.create(customer, TriggerCreate.model_validate(wanted))
    return customer.id


def replay(runtime: Runtime, setup: Setup, c: DemoCustomer, folder: Path | None, say: Say) -> str:
    """Push the customer's year of readings (and phone charges) week by week."""
    now = runtime.clock.now()
    series = household_year(c.household, c.external_id, c.timezone, folder, now)
    say(f"{c.name}: {len(series.parsed.rows):,} hourly readings from {series.source}")
    import_readings(runtime, setup.tenant_id, series.parsed, READINGS_PER_BATCH)
    if c.phone_plan is not None:
        charges = phone_charges(c.external_id, c.timezone, c.phone_plan, now)
        import_readings(runtime, setup.tenant_id, charges, CHARGES_PER_BATCH)
    return series.source


def push_checkups(runtime: Runtime, setup: Setup, cast: tuple[DemoCustomer, ...]) -> None:
    """Each due date as the practice would send it; a second date moves the appointment."""
    rounds = max((len(c.checkup_due_in) for c in cast), default=0)
    for round_ in range(rounds):
        events = [
            _checkup(runtime, c, c.checkup_due_in[round_])
            for c in cast
            if round_ < len(c.checkup_due_in)
        ]
        with runtime.services() as services:
            parsed = parse_event_objects(enumerate(events), services.clock.now())
            services.events.ingest(setup.tenant_id, parsed)


def _checkup(runtime: Runtime, c: DemoCustomer, days: int) -> dict[str, Any]:
    today = runtime.clock.now().astimezone(ZoneInfo(c.timezone)).date()
    return {
        "customer": c.external_id,
        "type": "checkup.due",
        "id": f"checkup-{c.external_id}",
        "due": (today + timedelta(days=days)).isoformat(),
        "fields": {"practice": "Praxis am Park"},
    }


async def dispatch(runtime: Runtime, channels: ChannelRegistry) -> int:
    """Send what is due now, cycle after cycle, until nothing is left; the number handled."""
    dispatcher = Dispatcher(runtime, channels, owner="nudge-demo")
    handled = 0
    try:
        for _ in range(MAX_DISPATCH_CYCLES):
            cycle = await dispatcher.run_once()
            handled += cycle
            if cycle == 0:
                break
    finally:
        await channels.aclose()
    return handled
