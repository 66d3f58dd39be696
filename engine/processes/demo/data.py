"""The demo's data: a real year of Green Button readings when ``../shared/data`` is there,
else a generated one with the same shape; phone charges are always generated."""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import engine
from engine.feeds.parsing import ParseResult, parse_greenbutton
from engine.feeds.parsing.rows import parse_objects
from engine.processes.demo.rules import ELECTRICITY, PHONE_CHARGES

YEAR = 2011  # the year of the Green Button sample files
Household = Literal["apartment", "house"]
GREENBUTTON_FILES: dict[Household, str] = {
    "apartment": "Coastal_Multi_Family_Jan_1_2011_to_Jan_1_2012_RetailCustomer_5.xml",
    "house": "Desert_Single_Family_Jan_1_2011_to_Jan_1_2012_RetailCustomer_7.xml",
}
# Relative weight of each local hour: a quiet night, a morning and a bigger evening peak.
HOUR_SHAPE = (
    0.55, 0.5, 0.45, 0.45, 0.45, 0.5, 0.75, 1.25, 1.35, 1.0, 0.85, 0.85,
    0.9, 0.85, 0.8, 0.85, 1.0, 1.3, 1.75, 1.85, 1.7, 1.45, 1.1, 0.75,
)  # fmt: skip
# Mean daily kWh, seasonal swing and the day of the year it peaks on.
PROFILES: dict[Household, tuple[float, float, int]] = {
    "apartment": (11.6, 0.12, 10),  # electric heating and light: winter peak
    "house": (34.0, 0.38, 205),  # air conditioning: summer peak
}


@dataclass(frozen=True)
class Series:
    """One customer's readings and where they came from."""

    source: str
    parsed: ParseResult


@dataclass(frozen=True)
class PhonePlan:
    """Daily phone charges around ``daily`` in ``currency``, more while travelling."""

    currency: str
    daily: float
    trips: tuple[tuple[date, date], ...] = ()


def candidate_folders() -> list[Path]:
    """``../shared/data/greenbutton`` next to the working directory and the repository."""
    repo_root = Path(engine.__file__).resolve().parents[1]
    found = [Path.cwd().parent, repo_root.parent]
    return [base / "shared" / "data" / "greenbutton" for base in dict.fromkeys(found)]


def find_greenbutton(folder: Path | None = None) -> Path | None:
    """The folder holding both sample years, or None (then the demo generates its data)."""
    for candidate in [folder] if folder is not None else candidate_folders():
        if all((candidate / name).is_file() for name in GREENBUTTON_FILES.values()):
            return candidate
    return None


def household_year(
    kind: Household, customer: str, zone: str, folder: Path | None, now: datetime
) -> Series:
    """A year of hourly consumption: the Green Button sample for ``kind``, or a generated one."""
    if folder is not None:
        path = folder / GREENBUTTON_FILES[kind]
        parsed = parse_greenbutton(path.read_bytes(), customer, now)
        return Series(f"Green Button {path.name.split('_Jan_')[0]} {YEAR}", parsed)
    rows = generated_household(kind, customer, ZoneInfo(zone))
    return Series(f"generated {kind} ({YEAR}, seeded)", parse_objects(enumerate(rows), now))


def generated_household(kind: Household, customer: str, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Hourly kWh for a year with daily, weekly and seasonal shape; the same every run."""
    mean, swing, peak_day = PROFILES[kind]
    rng = random.Random(zlib.crc32(f"{kind}:{customer}".encode()))
    scale = mean / sum(HOUR_SHAPE)
    rows, day_factor, day = [], 1.0, date.min
    for start, local in _local_hours(zone):
        if local.date() != day:
            day = local.date()
            season = 1 + swing * math.cos(2 * math.pi * (day.timetuple().tm_yday - peak_day) / 365)
            weekend = 1.12 if day.weekday() >= 5 else 1.0
            day_factor = season * weekend * max(0.6, rng.gauss(1.0, 0.08))
        noise = max(0.3, rng.gauss(1.0, 0.18))
        value = scale * HOUR_SHAPE[local.hour] * day_factor * noise
        rows.append(_reading(customer, ELECTRICITY, start, 3600, round(value, 3), "kWh"))
    return rows


def phone_charges(customer: str, zone: str, plan: PhonePlan, now: datetime) -> ParseResult:
    """One charge per local day of the year, in major units of the plan's currency."""
    rng = random.Random(zlib.crc32(f"phone:{customer}".encode()))
    tz, rows = ZoneInfo(zone), []
    day = date(YEAR, 1, 1)
    while day.year == YEAR:
        amount = plan.daily * rng.uniform(0.85, 1.15)
        if any(first <= day <= last for first, last in plan.trips):
            amount += rng.uniform(2.5, 5.0)  # roaming
        start = datetime.combine(day, time(), tz)
        end = datetime.combine(day + timedelta(days=1), time(), tz)
        seconds = int((end - start).total_seconds())  # 23 or 25 hours on DST days
        rows.append(
            _reading(customer, PHONE_CHARGES, start, seconds, round(amount, 2), plan.currency)
        )
        day += timedelta(days=1)
    return parse_objects(enumerate(rows), now)


def _local_hours(zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """Every hour of the local year as (UTC start, local start), DST-correct."""
    first = datetime(YEAR, 1, 1, tzinfo=zone).astimezone(ZoneInfo("UTC"))
    last = datetime(YEAR + 1, 1, 1, tzinfo=zone).astimezone(ZoneInfo("UTC"))
    hours = int((last - first).total_seconds() // 3600)
    starts = (first + timedelta(hours=h) for h in range(hours))
    return [(start, start.astimezone(zone)) for start in starts]


def _reading(
    customer: str, metric: str, start: datetime, seconds: int, value: float, unit: str
) -> dict[str, Any]:
    return {
        "customer": customer,
        "metric": metric,
        "start": start.isoformat(),
        "duration": seconds,
        "value": value,
        "unit": unit,
    }
