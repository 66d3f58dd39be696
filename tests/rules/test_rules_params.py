"""Parameter specs and validation of a customer's values: types, bounds, defaults, all faults."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from rules.errors import ParameterError
from rules.params import ParameterSpec, validate_params

SPECS = (
    ParameterSpec(name="limit_kwh", type="double", unit="kWh", min=0, max=100, default=12),
    ParameterSpec(name="days", type="int", min=1, max=31),
    ParameterSpec(name="label", type="string", default="home"),
    ParameterSpec(name="urgent", type="bool", default=False),
    ParameterSpec(name="at", type="time", default="08:00"),
    ParameterSpec(name="quiet", type="duration", max=86400, default="30m"),
)


def faults(values: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ParameterError) as info:
        validate_params(SPECS, values)
    return dict(info.value.errors)


def test_defaults_fill_missing_values_with_their_declared_types() -> None:
    checked = validate_params(SPECS, {"days": 3})
    assert checked == {
        "limit_kwh": 12.0,
        "days": 3,
        "label": "home",
        "urgent": False,
        "at": "08:00",
        "quiet": 1800.0,
    }
    assert isinstance(checked["limit_kwh"], float)


def test_ints_become_doubles_and_whole_doubles_become_ints() -> None:
    checked = validate_params(SPECS, {"limit_kwh": 7, "days": 4.0})
    assert checked["limit_kwh"] == 7.0 and isinstance(checked["limit_kwh"], float)
    assert checked["days"] == 4 and isinstance(checked["days"], int)


@pytest.mark.parametrize(
    ("values", "name", "reason"),
    [
        ({"days": 0}, "days", "at least 1"),
        ({"days": 32}, "days", "at most 31"),
        ({"days": 2.5}, "days", "whole number"),
        ({"days": 2, "limit_kwh": "12"}, "limit_kwh", "number"),
        ({"days": 2, "limit_kwh": True}, "limit_kwh", "number"),
        ({"days": 2, "limit_kwh": float("nan")}, "limit_kwh", "finite"),
        ({"days": 2, "limit_kwh": 100.5}, "limit_kwh", "at most 100"),
        ({"days": 2, "urgent": "yes"}, "urgent", "true or false"),
        ({"days": 2, "at": "24:00"}, "at", "HH:MM"),
        ({"days": 2, "at": "8:00"}, "at", "HH:MM"),
        ({"days": 2, "quiet": "2 hours"}, "quiet", "duration"),
        ({"days": 2, "quiet": "2d"}, "quiet", "at most 86400"),
        ({"days": 2, "label": 5}, "label", "string"),
        ({"days": 2, "colour": "red"}, "colour", "unknown"),
        ({}, "days", "required"),
    ],
)
def test_each_fault_names_the_parameter_and_reason(
    values: dict[str, Any], name: str, reason: str
) -> None:
    assert reason in faults(values)[name]


def test_all_faults_are_reported_together() -> None:
    found = faults({"limit_kwh": -1, "urgent": 1, "colour": "red"})
    assert set(found) == {"limit_kwh", "urgent", "colour", "days"}


def test_durations_accept_seconds_and_compound_strings() -> None:
    assert validate_params(SPECS, {"days": 1, "quiet": "1h30m"})["quiet"] == 5400.0
    assert validate_params(SPECS, {"days": 1, "quiet": 90})["quiet"] == 90.0


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "limit", "type": "double", "min": 5, "max": 1},
        {"name": "limit", "type": "double", "max": 10, "default": 11},
        {"name": "label", "type": "string", "min": 1},
        {"name": "in", "type": "double"},
        {"name": "Limit", "type": "double"},
        {"name": "limit", "type": "float"},
    ],
)
def test_inconsistent_specs_are_rejected(spec: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ParameterSpec.model_validate(spec)
