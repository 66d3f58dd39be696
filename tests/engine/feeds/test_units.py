from __future__ import annotations

import pytest

from engine.units import UnitError, normalise, to_minor_units


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (2500, "Wh", (2.5, "kWh")),
        (450, "wh", (0.45, "kWh")),
        (1.5, "kWh", (1.5, "kWh")),
        (1.5, "KWH", (1.5, "kWh")),
        (1, "kW·h", (1.0, "kWh")),
        (1, "kW h", (1.0, "kWh")),
        (1, "kW.h", (1.0, "kWh")),
        (2, "MWh", (2000.0, "kWh")),
        (2, "MWH", (2000.0, "kWh")),
        (1, "GWh", (1_000_000.0, "kWh")),
        (3, "therm", (3.0, "therm")),
        (3, "therms", (3.0, "therm")),
        (3, "m3", (3.0, "m3")),
        (3, "m³", (3.0, "m3")),
        (1500, "L", (1.5, "m3")),
        (1, "ccf", (2.8316846592, "m3")),
        (100, "ft3", (2.8316846592, "m3")),
        (7, "count", (7.0, "count")),
        (51.2, "EUR", (5120.0, "EUR")),
        (0.1, "USD", (10.0, "USD")),
        (1234, "JPY", (1234.0, "JPY")),
        (1.234, "KWD", (1234.0, "KWD")),
        (-3.5, "kWh", (-3.5, "kWh")),
    ],
)
def test_normalise(value: float, unit: str, expected: tuple[float, str]) -> None:
    result = normalise(value, unit)
    assert result == pytest.approx(expected)
    assert result[1] == expected[1]


@pytest.mark.parametrize("unit", ["xyz", "mWh", "mwh", "kW", "eur", "EURO", "", "XYZ"])
def test_unknown_unit_is_rejected_with_its_name(unit: str) -> None:
    with pytest.raises(UnitError) as info:
        normalise(1.0, unit)
    assert str(info.value) == f"unknown unit {unit!r}"


def test_minor_units_are_decimal_exact() -> None:
    assert to_minor_units(51.2, "EUR") == 5120.0
    assert to_minor_units(0.29, "EUR") == 29.0
    assert to_minor_units(19.99, "USD") == 1999.0
