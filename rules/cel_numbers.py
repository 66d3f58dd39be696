"""CEL's arithmetic on ints and doubles, exactly: int64 that errors on overflow and division by
zero and truncates toward zero; IEEE doubles where ``x / 0.0`` is infinite or NaN, not an error.

Where CEL would fail (or where a value is not what CEL would accept without conversion) these
raise `Undecidable`: the caller then leaves the decision to the CEL runtime.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from rules.cel_subset import INT64_MAX, INT64_MIN

Number = int | float
_EXACT_INT_IN_DOUBLE = 2**53


class Undecidable(Exception):
    """CEL would fail here, or might read the value differently: take the full evaluation."""


def as_double(value: object) -> float:
    """A parameter value as the double CEL would see, when that is certain."""
    if type(value) is float:
        return value
    if type(value) is int and -_EXACT_INT_IN_DOUBLE <= value <= _EXACT_INT_IN_DOUBLE:
        return float(value)
    raise Undecidable(f"not a double: {value!r}")


def as_int(value: object) -> int:
    """A parameter value as the int64 CEL would see, when that is certain."""
    if type(value) is int and INT64_MIN <= value <= INT64_MAX:
        return value
    raise Undecidable(f"not an int64: {value!r}")


def _checked(value: int) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise Undecidable("integer overflow")
    return value


def int_divide(a: int, b: int) -> int:
    if b == 0 or (a == INT64_MIN and b == -1):
        raise Undecidable("divide by zero or overflow")
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


def int_modulo(a: int, b: int) -> int:
    if b == 0 or (a == INT64_MIN and b == -1):
        raise Undecidable("modulus by zero or overflow")
    remainder = abs(a) % abs(b)
    return -remainder if a < 0 else remainder


def double_divide(a: float, b: float) -> float:
    if b != 0.0:
        return a / b
    if math.isnan(a) or a == 0.0:
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


INT_OPS: dict[str, Callable[[int, int], int]] = {
    "+": lambda a, b: _checked(a + b),
    "-": lambda a, b: _checked(a - b),
    "*": lambda a, b: _checked(a * b),
    "/": int_divide,
    "%": int_modulo,
}
DOUBLE_OPS: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": double_divide,
}


def negate_int(a: int) -> int:
    return _checked(-a)


def negate_double(a: float) -> float:
    return -a
