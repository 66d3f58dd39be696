"""A real year of Green Button data, replayed through the HTTP feed for a customer in
Los Angeles: the days that fire are exactly the local days whose totals exceed the limit,
computed here straight from the XML (not through nudge's parser)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.rules import publish_daily_energy_rule

ESPI = "{http://naesb.org/espi}"
LA = ZoneInfo("America/Los_Angeles")
FILES = [
    "Coastal_Multi_Family_Jan_1_2011_to_Jan_1_2012_RetailCustomer_5.xml",
    "Desert_Single_Family_Jan_1_2011_to_Jan_1_2012_RetailCustomer_7.xml",
]


def daily_totals_kwh(path: Path) -> dict[date, tuple[float, int]]:
    """Local-day totals (kWh) and reading counts, read with ElementTree alone."""
    root = ET.parse(path).getroot()
    multiplier = int(root.findtext(f".//{ESPI}ReadingType/{ESPI}powerOfTenMultiplier") or 0)
    assert root.findtext(f".//{ESPI}ReadingType/{ESPI}uom") == "72"  # Wh
    totals: dict[date, list[float]] = defaultdict(list)
    for reading in root.iter(f"{ESPI}IntervalReading"):
        start = int(reading.findtext(f"{ESPI}timePeriod/{ESPI}start") or 0)
        value = float(reading.findtext(f"{ESPI}value") or 0) * 10**multiplier / 1000
        totals[datetime.fromtimestamp(start, UTC).astimezone(LA).date()].append(value)
    return {day: (sum(values), len(values)) for day, values in totals.items()}


@pytest.mark.parametrize("name", FILES)
def test_fired_days_are_the_days_over_the_limit(
    api: Api, runtime: Runtime, shared_data: Path, name: str
) -> None:
    path = shared_data / "greenbutton" / name
    totals = daily_totals_kwh(path)
    limit = round(sorted(t for t, _ in totals.values())[int(len(totals) * 0.7)], 1)
    tenant = api.tenant(default_timezone="America/Los_Angeles")
    publish_daily_energy_rule(api, tenant)
    customer = api.customer(tenant, external_id="gb-1", timezone="America/Los_Angeles")
    token = api.token(tenant, customer["id"])
    api.ok(
        "POST",
        "/v1/me/triggers",
        token,
        201,
        json={"rule": "energy.daily_above", "params": {"limit_kwh": limit}},
    )

    xml_headers = {**tenant.feed, "content-type": "application/atom+xml"}
    answer = api.ok(
        "POST", "/v1/feeds/greenbutton?customer=gb-1", xml_headers, content=path.read_bytes()
    )
    assert answer["accepted"] == 8760 and answer["rejected"] == 0

    fired = fired_local_days(api, tenant.ops, customer["id"])
    expected = {day for day, (total, _) in totals.items() if total > limit}
    assert fired == expected
    assert 50 < len(expected) < 200

    counts = aggregate_counts(runtime, customer["id"])
    assert counts[date(2011, 3, 13)] == totals[date(2011, 3, 13)][1] == 23
    assert counts[date(2011, 11, 6)] == totals[date(2011, 11, 6)][1] == 25

    again = api.ok(
        "POST", "/v1/feeds/greenbutton?customer=gb-1", xml_headers, content=path.read_bytes()
    )
    assert again["duplicate"] == 8760 and again["notifications"] == 0
    assert fired_local_days(api, tenant.ops, customer["id"]) == expected


def fired_local_days(api: Api, ops: dict[str, str], customer_id: str) -> set[date]:
    days: set[date] = set()
    cursor: str | None = None
    while True:
        query = f"/v1/notifications?customer={customer_id}&limit=500"
        page: dict[str, Any] = api.ok("GET", query + (f"&cursor={cursor}" if cursor else ""), ops)
        for item in page["items"]:
            start = datetime.fromisoformat(item["why"]["values"]["window"]["start"])
            days.add(start.astimezone(LA).date())
        cursor = page["next_cursor"]
        if cursor is None:
            return days


def aggregate_counts(runtime: Runtime, customer_id: str) -> dict[date, int]:
    with runtime.db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT start, count FROM window_aggregates WHERE customer_id = :c "
                "AND \"window\" = 'day'"
            ),
            {"c": customer_id},
        ).all()
    return {
        datetime.fromtimestamp(start, UTC).astimezone(LA).date(): count for start, count in rows
    }
