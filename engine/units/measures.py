"""Unit normalisation: energy to kWh, gas to therm or m3, money to minor units, counts.

Money convention: ``value`` holds minor units (cents) and ``unit`` the ISO 4217 code; feeds
send major units (51.20 EUR), which become 5120.0 EUR.
"""

from __future__ import annotations

from decimal import Decimal

from engine.units.money import CURRENCIES, minor_exponent

KWH = "kWh"
THERM = "therm"
M3 = "m3"
COUNT = "count"
CANONICALCONVERSIONS = frozenset({KWH, THERM, M3, COUNT})

# unit spelling -> (canonical unit, numerator, denominator): value * num / den stays exact
# for the decimal factors (Wh -> kWh is a division by 1000, not a product with 0.001).
CONVERSIONS: dict[str, tuple[str, int, int]] = {
    **dict.fromkeys(("Wh", "wh", "WH"), (KWH, 1, 1_000)),
    **dict.fromkeys(("kWh", "kwh", "KWh", "KWH", "Kwh"), (KWH, 1, 1)),
    **dict.fromkeys(("MWh", "MWH"), (KWH, 1_000, 1)),
    **dict.fromkeys(("GWh", "GWH"), (KWH, 1_000_000, 1)),
    **dict.fromkeys(("therm", "therms", "thm"), (THERM, 1, 1)),
    **dict.fromkeys(("m3", "m³", "cubic_meter", "cubic_metre"), (M3, 1, 1)),
    **dict.fromkeys(("l", "L", "litre", "liter", "litres", "liters"), (M3, 1, 1_000)),
    **dict.fromkeys(("ft3", "ft³", "cf"), (M3, 28_316_846_592, 10**12)),
    **dict.fromkeys(("ccf", "hcf"), (M3, 28_316_846_592, 10**10)),
    **dict.fromkeys(("count", "1", "pcs", "items"), (COUNT, 1, 1)),
}
# Case-insensitive fallback, except where case carries meaning (mWh would be milli).
_FOLDED = {k.casefold(): v for k, v in CONVERSIONS.items() if k.casefold() != "mwh"}
_SEPARATORS = str.maketrans("", "", "·⋅*. ")


class UnitError(ValueError):
    """The unit is not one this engine knows; the message is the rejection reason."""


def normalise(value: float, unit: str) -> tuple[float, str]:
    """Convert ``value`` in ``unit`` to the canonical unit: ``(2500, "Wh")`` → ``(2.5, "kWh")``."""
    known = CONVERSIONS.get(unit)
    if known is None:
        if unit in CURRENCIES:
            return to_minor_units(value, unit), unit
        known = _lookup_spelling(unit)
    canonical, num, den = known
    if num == den:
        return float(value), canonical
    return value * num / den, canonical


def is_currency(code: str) -> bool:
    """True for an active ISO 4217 alphabetic code such as ``EUR``."""
    return code in CURRENCIES


def to_minor_units(amount: float, currency: str) -> float:
    """Major to minor units, decimal-exact: ``(51.2, "EUR")`` → ``5120.0``."""
    return float(Decimal(repr(float(amount))).scaleb(minor_exponent(currency)))


def _lookup_spelling(unit: str) -> tuple[str, int, int]:
    squeezed = unit.strip().translate(_SEPARATORS)
    known = CONVERSIONS.get(squeezed) or _FOLDED.get(squeezed.casefold())
    if known is None:
        raise UnitError(f"unknown unit {unit!r}")
    return known
