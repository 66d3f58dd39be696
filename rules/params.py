"""Rule parameter specs and validation of a customer's values against them.

Validated values are JSON-ready: doubles as floats, ints as ints, times as ``HH:MM`` strings and
durations as float seconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rules.errors import ParameterError

ParamType = Literal["double", "int", "string", "bool", "time", "duration"]
BOUNDED_TYPES: frozenset[str] = frozenset({"double", "int", "duration"})
MAX_STRING_LENGTH = 500

# CEL reserves these identifiers, so ``params.<name>`` would not parse.
CEL_RESERVED = frozenset(
    {"as", "break", "const", "continue", "else", "false", "for", "function", "if", "import"}
    | {"in", "let", "loop", "package", "namespace", "null", "return", "true", "var", "void"}
    | {"while"}
)
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DURATION = re.compile("".join(rf"(?:(\d+(?:\.\d+)?){unit})?" for unit in "dhms"))
_DURATION_UNITS = (86400.0, 3600.0, 60.0, 1.0)

LocalizedText = dict[str, str]


class ParameterSpec(BaseModel):
    """One parameter a customer fills in: its type, unit, bounds, default and label."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    type: ParamType
    unit: str | None = Field(default=None, max_length=32)
    min: float | None = Field(default=None, allow_inf_nan=False)
    max: float | None = Field(default=None, allow_inf_nan=False)
    default: Any = None
    label: LocalizedText = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.name in CEL_RESERVED:
            raise ValueError(f"{self.name!r} is a reserved word in CEL")
        bounded = self.min is not None or self.max is not None
        if bounded and self.type not in BOUNDED_TYPES:
            raise ValueError(f"min/max apply only to {sorted(BOUNDED_TYPES)}, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        if self.default is not None:
            coerce_value(self, self.default)
        return self

    @property
    def required(self) -> bool:
        return self.default is None


def validate_params(specs: Sequence[ParameterSpec], values: Mapping[str, Any]) -> dict[str, Any]:
    """Values checked and coerced against ``specs``, defaults applied; every fault is reported."""
    known = {spec.name for spec in specs}
    errors = [(name, "unknown parameter") for name in values if name not in known]
    result: dict[str, Any] = {}
    for spec in specs:
        if spec.name not in values or values[spec.name] is None:
            if spec.required:
                errors.append((spec.name, "required"))
            else:
                result[spec.name] = coerce_value(spec, spec.default)
            continue
        try:
            result[spec.name] = coerce_value(spec, values[spec.name])
        except ValueError as exc:
            errors.append((spec.name, str(exc)))
    if errors:
        raise ParameterError(errors)
    return result


def coerce_value(spec: ParameterSpec, value: Any) -> Any:
    """``value`` converted to the spec's type and checked against its bounds (ValueError if not)."""
    coerced: Any = _COERCE[spec.type](value)
    if spec.type in BOUNDED_TYPES:
        _check_bounds(spec, float(coerced))
    return coerced


def _check_bounds(spec: ParameterSpec, number: float) -> None:
    if spec.min is not None and number < spec.min:
        raise ValueError(f"must be at least {spec.min:g}")
    if spec.max is not None and number > spec.max:
        raise ValueError(f"must be at most {spec.max:g}")


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    try:
        number = float(value)
    except OverflowError:  # an integer past the largest double
        raise ValueError("must be a finite number") from None
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    return number


def _double(value: Any) -> float:
    return _number(value)


def _int(value: Any) -> int:
    number = _number(value)
    if not number.is_integer():
        raise ValueError("must be a whole number")
    return int(number)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if len(value) > MAX_STRING_LENGTH:
        raise ValueError(f"must be at most {MAX_STRING_LENGTH} characters")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _time(value: Any) -> str:
    if not isinstance(value, str) or not _TIME.match(value):
        raise ValueError("must be a local time as HH:MM (00:00 to 23:59)")
    return value


def _duration(value: Any) -> float:
    """Seconds, from a number of seconds or a string such as ``90m``, ``1h30m`` or ``2d``."""
    if isinstance(value, str):
        match = _DURATION.fullmatch(value.strip())
        if not match or not value.strip():
            raise ValueError("must be seconds or a duration such as 90m, 1h30m or 2d")
        parts = zip(match.groups(), _DURATION_UNITS, strict=True)
        value = sum(float(part) * unit for part, unit in parts if part is not None)
    seconds = _number(value)
    if seconds < 0:
        raise ValueError("must not be negative")
    return seconds


_COERCE: dict[str, Callable[[Any], Any]] = {
    "double": _double,
    "int": _int,
    "string": _string,
    "bool": _bool,
    "time": _time,
    "duration": _duration,
}
