"""Units and money, one vocabulary for the feeds that store values and the rules that read
them: energy in kWh, gas in therm or m³, counts, money in minor units of an ISO 4217 code."""

from __future__ import annotations

from engine.units.measures import (
    CONVERSIONS,
    COUNT,
    KWH,
    M3,
    THERM,
    UnitError,
    is_currency,
    normalise,
    to_minor_units,
)
from engine.units.money import CURRENCIES, from_numeric, major_units, minor_exponent

__all__ = [
    "CONVERSIONS",
    "COUNT",
    "CURRENCIES",
    "KWH",
    "M3",
    "THERM",
    "UnitError",
    "from_numeric",
    "is_currency",
    "major_units",
    "minor_exponent",
    "normalise",
    "to_minor_units",
]
