"""Locale-aware Jinja filters (numbers, units, money, dates, times) built on Babel.

The locale and timezone are the customer's: the renderer puts a `Formatter` into each render
context and the filters read it from there, so one environment serves every customer, and a
value shown in several parts of a message is formatted once.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel import units as babel_units
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from engine.errors import InvalidInput
from engine.templating.locales import babel_locale

FORMATTER_VAR = "_nudge_formatter"
Number = int | float | Decimal
# Babel separates with (narrow) no-break spaces; GSM-7 has neither, so one would turn a whole
# SMS into UCS-2 and halve its length. Plain spaces read the same in every channel.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})
# What the filters format (and take as arguments); a datetime is a date.
_PLAIN = (str, int, float, Decimal, dt.date, type(None))
UNIT_LENGTHS: dict[str, Literal["short", "long", "narrow"]] = {
    "short": "short",
    "long": "long",
    "narrow": "narrow",
}
# The units readings are normalised to (and a few more), by their CLDR names.
CLDR_UNITS = {
    "Wh": "energy-watt-hour",
    "kWh": "energy-kilowatt-hour",
    "MWh": "energy-megawatt-hour",
    "kW": "power-kilowatt",
    "therm": "energy-therm-us",
    "m3": "volume-cubic-meter",
    "m³": "volume-cubic-meter",
    "l": "volume-liter",
    "day": "duration-day",
}


def _plain(text: str) -> str:
    return text.translate(_SPACES)


@dataclass(frozen=True)
class Formatter:
    """Formats values for one customer's locale and timezone."""

    locale: Locale
    tz: dt.tzinfo
    _formatted: dict[Hashable, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def for_customer(cls, locale: str, tz: dt.tzinfo) -> Formatter:
        return cls(babel_locale(locale), tz)

    def _cached(
        self,
        method: Callable[..., Any],
        value: Any,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
    ) -> Any:
        """``method`` (one of the formatting methods below) applied to ``value``, computed
        once per distinct call: the renderer makes one formatter per message, whose parts (an
        email's subject, text and HTML) show the same values again and again.

        It takes the function, never a name: a template reaches the formatter object, and a
        name looked up here would bypass the sandbox's checks on attribute names."""
        key = _call_key(method.__name__, value, args, kwargs)
        if key is None:
            return method(self, value, *args, **kwargs)
        if key not in self._formatted:
            self._formatted[key] = method(self, value, *args, **kwargs)
        return self._formatted[key]

    def number(self, value: Number, decimals: int | None = None) -> str:
        """``12.5`` → ``12,5`` (de); ``decimals`` caps the fraction digits."""
        pattern = self.locale.decimal_formats[None]
        return _plain(_with_decimals(pattern, decimals).apply(_decimal(value), self.locale))

    def unit(
        self, value: Number, unit: str, decimals: int | None = None, length: str = "short"
    ) -> str:
        """``12.5, "kWh"`` → ``12,5 kWh``; ``length="long"`` spells the unit out with the
        language's plural rules (CLDR): ``1 Kilowattstunde``, ``2 Kilowattstunden``."""
        spelled_as = UNIT_LENGTHS.get(length)
        if spelled_as is None:
            raise ValueError(f"length must be one of {', '.join(UNIT_LENGTHS)}, not {length!r}")
        cldr_unit = CLDR_UNITS.get(unit)
        if spelled_as == "short" or cldr_unit is None:
            return f"{self.number(value, decimals)} {unit}"
        shown = _as_shown(_decimal(value), decimals)
        spelled = babel_units.format_unit(
            shown, cldr_unit, length=spelled_as, format="#,##0.##########", locale=self.locale
        )
        return _plain(spelled)

    def kwh(self, value: Number, decimals: int = 1, length: str = "short") -> str:
        return self.unit(value, "kWh", decimals, length)

    def currency(self, amount: Number, code: str) -> str:
        """Major units: ``51.2, "EUR"`` → ``51,20 €`` (de), ``€51.20`` (en)."""
        return _plain(babel_numbers.format_currency(_decimal(amount), code, locale=self.locale))

    def percent(self, fraction: Number, decimals: int = 0) -> str:
        """A fraction: ``0.25`` → ``25 %`` (de), ``0.125`` with ``decimals=1`` → ``12,5 %``."""
        pattern = self.locale.percent_formats[None]
        return _plain(_with_decimals(pattern, decimals).apply(_decimal(fraction), self.locale))

    def local_date(self, value: dt.datetime | str) -> dt.date:
        """The calendar date of an instant in the customer's zone (for day arithmetic)."""
        return _local(_parse(value), self.tz).date()

    def date(self, value: dt.date | dt.datetime | str, format: str = "long") -> str:
        """``3. März 2027`` (de), ``March 3, 2027`` (en); datetimes in the customer's zone."""
        day = _local(_parse(value), self.tz).date() if _is_datetime(value) else _as_date(value)
        return _plain(babel_dates.format_date(day, format, locale=self.locale))

    def time(self, value: dt.datetime | str, format: str = "short") -> str:
        """``18:30`` (de), ``6:30 PM`` (en), in the customer's zone."""
        local = _local(_parse(value), self.tz)
        return _plain(babel_dates.format_time(local, format, tzinfo=self.tz, locale=self.locale))

    def datetime(self, value: dt.datetime | str, format: str | None = None) -> str:
        """Long date and short time by default: ``17. Februar 2027, 18:30``."""
        local = _local(_parse(value), self.tz)
        if format is not None:
            return _plain(
                babel_dates.format_datetime(local, format, tzinfo=self.tz, locale=self.locale)
            )
        joined = str(babel_dates.get_datetime_format("long", locale=self.locale))
        return _plain(
            joined.replace("'", "")
            .replace("{0}", self.time(local))
            .replace("{1}", self.date(local))
        )


def zone(name: str | dt.tzinfo) -> dt.tzinfo:
    """An IANA zone by name; an unknown name is invalid input."""
    if isinstance(name, dt.tzinfo):
        return name
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput.at(("timezone",), f"unknown IANA timezone: {name!r}") from None


def _with_decimals(
    pattern: babel_numbers.NumberPattern, decimals: int | None
) -> babel_numbers.NumberPattern:
    if decimals is None:
        return pattern
    if not 0 <= decimals <= 10:
        raise ValueError(f"decimals must be between 0 and 10, not {decimals}")
    return _capped(pattern, decimals)


@lru_cache(maxsize=512)
def _capped(pattern: babel_numbers.NumberPattern, decimals: int) -> babel_numbers.NumberPattern:
    """A copy of a locale's pattern with at most ``decimals`` fraction digits (made once)."""
    adjusted = copy.copy(pattern)
    adjusted.frac_prec = (0, decimals)
    return adjusted


def _as_shown(value: Decimal, decimals: int | None) -> Decimal:
    """The value as it will be printed, so the plural form matches the digits: ``1.04`` with
    one decimal shows as ``1`` and takes the singular; ``1.5`` stays plural."""
    if decimals is not None:
        if not 0 <= decimals <= 10:
            raise ValueError(f"decimals must be between 0 and 10, not {decimals}")
        value = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    if value == value.to_integral_value():
        return value.to_integral_value()
    return value.normalize()


def _decimal(value: Number) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _is_datetime(value: object) -> bool:
    return isinstance(value, dt.datetime) or (isinstance(value, str) and "T" in value)


def _parse(value: object) -> dt.datetime:
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value
    raise TypeError(f"expected a datetime, got {type(value).__name__}")


def _as_date(value: object) -> dt.date:
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"expected a date, got {type(value).__name__}")


def _local(value: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: render contexts hold timezone-aware datetimes")
    return value.astimezone(tz)


def _call_key(
    name: str, value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[Hashable, ...] | None:
    """What a filter's output depends on; None unless every argument is a plain value (an
    undefined or unhashable one fails in the filter itself, with its own message)."""
    values = (value, *args, *kwargs.values())
    if not all(isinstance(v, _PLAIN) for v in values):
        return None
    return (name, tuple(kwargs), *map(_exact, values))


def _exact(value: Any) -> Hashable:
    # Equal values may format differently: True == 1, -0.0 == 0.0, Decimal("1.0") == 1, and
    # the same local time in either fold of a change from daylight saving time.
    if isinstance(value, float | Decimal):
        return type(value), repr(value)
    if isinstance(value, dt.datetime):
        return type(value), value, value.fold
    return type(value), value


def formatter_of(context: Context) -> Formatter:
    """The customer's formatter that the renderer put into this render context."""
    formatter = context.get(FORMATTER_VAR)
    if not isinstance(formatter, Formatter):
        raise RuntimeError("render context has no formatter; render through engine.templating")
    return formatter


def _filter(method: Callable[..., Any]) -> Callable[..., Any]:
    @pass_context
    def apply(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        return formatter_of(context)._cached(method, value, args, kwargs)

    return apply


FILTERS: dict[str, Callable[..., Any]] = {
    m.__name__: _filter(m)
    for m in (
        Formatter.number,
        Formatter.unit,
        Formatter.kwh,
        Formatter.currency,
        Formatter.percent,
        Formatter.date,
        Formatter.local_date,
        Formatter.time,
        Formatter.datetime,
    )
}


def register_filters(env: Environment) -> None:
    """Install the locale-aware filters into ``env``."""
    env.filters.update(FILTERS)
