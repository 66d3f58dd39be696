"""The demo's three rules, as operations staff would post them to ``/v1/rules``."""

from __future__ import annotations

from typing import Any

ELECTRICITY = "electricity.consumption"
PHONE_CHARGES = "phone.charges"

DAILY_ENERGY: dict[str, Any] = {
    "key": "energy.daily_above",
    "title": {
        "en": "Daily electricity use above your limit",
        "de": "Täglicher Stromverbrauch über Ihrem Limit",
    },
    "topic": "energy",
    "kind": "threshold",
    "metric": ELECTRICITY,
    "window": "day",
    "aggregate": "sum",
    "parameters": [
        {
            "name": "limit_kwh",
            "type": "double",
            "unit": "kWh",
            "min": 0.1,
            "max": 500,
            "default": 12,
            "label": {"en": "Limit", "de": "Grenze"},
        }
    ],
    "condition": "window.sum > params.limit_kwh",
    "template_key": "energy.daily_above",
}

CHECKUP_REMINDER: dict[str, Any] = {
    "key": "checkup.reminder",
    "title": {"en": "Check-up reminder", "de": "Erinnerung an die Vorsorge"},
    "topic": "health",
    "kind": "schedule",
    "event_type": "checkup.due",
    "parameters": [
        {"name": "days_before", "type": "int", "min": 0, "max": 90, "default": 14},
        {"name": "local_time", "type": "time", "default": "09:00"},
    ],
    "condition": "true",
    "template_key": "checkup.reminder",
}

# Daily charges in a currency reach the condition in major units (51.2 EUR); the month's
# projected total extrapolates what the feed has covered so far to the whole month.
BILL_MONTHLY: dict[str, Any] = {
    "key": "bill.monthly_above",
    "title": {
        "en": "Phone bill heading above your limit",
        "de": "Handyrechnung steuert über Ihr Limit",
    },
    "topic": "billing",
    "kind": "threshold",
    "metric": PHONE_CHARGES,
    "window": "month",
    "aggregate": "sum",
    "parameters": [
        {
            "name": "limit",
            "type": "double",
            "min": 1,
            "max": 10000,
            "default": 50,
            "label": {"en": "Monthly limit", "de": "Monatliches Limit"},
        }
    ],
    "condition": "window.projected > params.limit",
    "template_key": "bill.monthly_above",
}

DEMO_RULES: tuple[dict[str, Any], ...] = (DAILY_ENERGY, CHECKUP_REMINDER, BILL_MONTHLY)
