"""The demo's customers: different zones, languages, channels, quiet hours and caps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from engine.processes.demo.data import Household, PhonePlan

# Berlin numbers reserved for film and fiction: nobody answers them.
SENDER_NUMBER = "+4930231255500"
ANNA_NUMBER = "+4930231255501"


@dataclass(frozen=True)
class DemoTrigger:
    rule: str
    params: dict[str, Any]
    channels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DemoCustomer:
    external_id: str
    name: str
    locale: str
    timezone: str
    email: str | None
    phone: str | None
    consents: tuple[dict[str, Any], ...]
    preferences: dict[str, Any]
    triggers: tuple[DemoTrigger, ...]
    household: Household
    story: str
    phone_plan: PhonePlan | None = None
    checkup_due_in: tuple[int, ...] = ()  # days from today; a later value moves the date
    attributes: dict[str, Any] = field(default_factory=dict)


def _grant(*channels: str) -> tuple[dict[str, Any], ...]:
    return tuple({"channel": channel} for channel in channels)


def _trip(month: int, first: int, last: int) -> tuple[date, date]:
    return date(2011, month, first), date(2011, month, last)


ANNA = DemoCustomer(
    external_id="demo-anna",
    name="Anna Berger",
    locale="de-DE",
    timezone="Europe/Berlin",
    email="anna.berger@example.com",
    phone=ANNA_NUMBER,
    consents=_grant("email", "sms"),
    preferences={
        "channel_order": ["sms", "email"],
        "quiet_hours": {"sms": [{"start": "21:00", "end": "08:00"}]},
    },
    triggers=(
        DemoTrigger("energy.daily_above", {"limit_kwh": 50}),
        DemoTrigger("checkup.reminder", {"days_before": 14, "local_time": "09:00"}),
        DemoTrigger("bill.monthly_above", {"limit": 50}, ("email",)),
    ),
    household="house",
    story="SMS first, then email; no SMS 21:00–08:00",
    phone_plan=PhonePlan("EUR", 1.25, (_trip(8, 6, 20),)),
    checkup_due_in=(14,),
    attributes={"tariff": "Ökostrom Plus", "contract": "DE-100-2011"},
)
BEN = DemoCustomer(
    external_id="demo-ben",
    name="Ben Carter",
    locale="en-US",
    timezone="America/Los_Angeles",
    email="ben.carter@example.com",
    phone=None,
    consents=_grant("email"),
    preferences={"channel_order": ["email"]},
    triggers=(
        DemoTrigger("energy.daily_above", {"limit_kwh": 14.5}),
        DemoTrigger("checkup.reminder", {"days_before": 14, "local_time": "08:30"}),
    ),
    household="apartment",
    story="email only; his check-up date moves",
    checkup_due_in=(40, 47),
)
CHLOE = DemoCustomer(
    external_id="demo-chloe",
    name="Chloé Martin",
    locale="en-GB",
    timezone="Europe/London",
    email=None,
    phone="+441134960123",
    consents=_grant("sms"),
    preferences={"channel_order": ["sms"], "frequency_caps": {"sms": {"max": 1, "per": "day"}}},
    triggers=(
        DemoTrigger("energy.daily_above", {"limit_kwh": 14}),
        DemoTrigger("bill.monthly_above", {"limit": 40}),
    ),
    household="apartment",
    story="SMS only, at most 1 SMS a day",
    phone_plan=PhonePlan("GBP", 1.0, (_trip(4, 9, 19), _trip(12, 19, 31))),
)
DARA = DemoCustomer(
    external_id="demo-dara",
    name="Dara Novak",
    locale="de-AT",
    timezone="Europe/Vienna",
    email="dara.novak@example.com",
    phone="+4312345678",
    consents=(
        *_grant("voice", "email"),
        {"channel": "voice", "topic": "billing", "granted": False},
        {"channel": "email", "topic": "billing", "granted": False},
    ),
    preferences={"channel_order": ["voice", "email"]},
    triggers=(
        DemoTrigger("energy.daily_above", {"limit_kwh": 55}, ("email",)),
        DemoTrigger("checkup.reminder", {"days_before": 7, "local_time": "10:00"}),
        DemoTrigger("bill.monthly_above", {"limit": 45}),
    ),
    household="house",
    story="a call first, then email; no contact about billing",
    phone_plan=PhonePlan("EUR", 1.1, (_trip(7, 1, 16),)),
    checkup_due_in=(7,),
)

CUSTOMERS: tuple[DemoCustomer, ...] = (ANNA, BEN, CHLOE, DARA)
