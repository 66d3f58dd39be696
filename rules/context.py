"""What a condition can see, declared as typed CEL variables, and how it is read from plain values.

Every field is its own qualified variable (``window.sum`` is DOUBLE, ``window.count`` INT,
``params.limit_kwh`` as declared), so the checker rejects misspelt fields and mixed types.
An absent ``previous`` window or ``baseline`` reads as zeros with ``count``/``windows`` 0; an
event without an amount or due date reads ``event.amount`` 0.0 and ``event.due_date`` "".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Any

from cel_expr_python import cel

from rules.aggregates import Baseline, WindowStats
from rules.params import ParamType
from rules.windows import iso_utc

Getter = Callable[["Context"], Any]
T = cel.Type


@dataclass(frozen=True, slots=True)
class Customer:
    """The customer facts a condition or template may use."""

    locale: str = "en"
    timezone: str = "UTC"
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    """A business event (``bill.issued``) or a dated item (``checkup.due``)."""

    type: str
    occurred_at: datetime
    amount: float | None = None
    due_date: date | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)


# Built on every evaluation; frozen dataclasses would add about a microsecond each.
@dataclass(slots=True)
class Context:
    """Everything one evaluation sees; threshold rules fill the window parts, others ``event``."""

    params: Mapping[str, Any]
    customer: Customer
    now: datetime
    window: WindowStats | None = None
    previous: WindowStats | None = None
    baseline: Baseline | None = None
    event: Event | None = None


@dataclass(frozen=True, slots=True)
class Variable:
    """A declared CEL variable and how to read its value from a Context."""

    type: cel.Type
    get: Getter


_STATS_TYPES = {
    "sum": T.DOUBLE,
    "avg": T.DOUBLE,
    "min": T.DOUBLE,
    "max": T.DOUBLE,
    "last": T.DOUBLE,
    "count": T.INT,
    "start": T.TIMESTAMP,
    "end": T.TIMESTAMP,
    "elapsed": T.DOUBLE,
    "projected": T.DOUBLE,
}
_BASELINE_TYPES = {name: T.DOUBLE for name in ("sum", "avg", "min", "max", "last", "count")}
_PARAM_TYPES = {
    "double": T.DOUBLE,
    "int": T.INT,
    "string": T.STRING,
    "bool": T.BOOL,
    "time": T.STRING,
    "duration": T.DURATION,
}


def declarations(kind: str, parameters: Sequence[tuple[str, ParamType]]) -> dict[str, Variable]:
    """The variables a condition of rule ``kind`` with these (name, type) parameters may read."""
    variables = {
        "now": Variable(T.TIMESTAMP, lambda c: c.now),
        "customer.locale": Variable(T.STRING, lambda c: c.customer.locale),
        "customer.timezone": Variable(T.STRING, lambda c: c.customer.timezone),
        "customer.attributes": Variable(T.Map(T.STRING, T.DYN), lambda c: c.customer.attributes),
    }
    variables.update({f"params.{name}": _param_variable(name, type_) for name, type_ in parameters})
    if kind == "threshold":
        variables.update(_window_variables())
    else:
        variables.update(_event_variables())
    return variables


def context_values(ctx: Context) -> dict[str, Any]:
    """The context as JSON-ready values (datetimes as ISO strings), stored as the "why"."""
    values: dict[str, Any] = {"now": iso_utc(ctx.now), "params": _jsonable_map(ctx.params)}
    for part in ("window", "previous"):
        stats: WindowStats | None = getattr(ctx, part)
        if stats is not None:
            values[part] = _stats_values(stats)
    if ctx.baseline is not None:
        values["baseline"] = _fields(ctx.baseline)
    if ctx.event is not None:
        values["event"] = _fields(ctx.event)
    return values


def _param_variable(name: str, param_type: ParamType) -> Variable:
    if param_type == "duration":
        return Variable(T.DURATION, lambda c: timedelta(seconds=c.params[name]))
    return Variable(_PARAM_TYPES[param_type], lambda c: c.params[name])


def _window_variables() -> dict[str, Variable]:
    variables = {f"window.{name}": _window_field(name, t) for name, t in _STATS_TYPES.items()}
    variables.update(
        {f"previous.{name}": _previous_field(name, t) for name, t in _STATS_TYPES.items()}
    )
    variables.update(
        {f"baseline.{name}": _baseline_field(name, t) for name, t in _BASELINE_TYPES.items()}
    )
    variables["baseline.windows"] = _baseline_field("windows", T.INT)
    return variables


def _window_field(name: str, cel_type: cel.Type) -> Variable:
    # attrgetter runs in C: this getter is on the path of every threshold evaluation.
    return Variable(cel_type, attrgetter(f"window.{name}"))


def _previous_field(name: str, cel_type: cel.Type) -> Variable:
    absent: Any = 0 if name == "count" else 0.0

    def get(ctx: Context) -> Any:
        if ctx.previous is not None:
            return getattr(ctx.previous, name)
        if name in ("start", "end"):
            return _window(ctx).start  # an absent previous window is empty: start == end
        return absent

    return Variable(cel_type, get)


def _window(ctx: Context) -> WindowStats:
    if ctx.window is None:
        raise LookupError("this evaluation has no window")
    return ctx.window


def _baseline_field(name: str, cel_type: cel.Type) -> Variable:
    return Variable(cel_type, lambda c: getattr(c.baseline or _NO_BASELINE, name))


def _event_variables() -> dict[str, Variable]:
    return {
        "event.type": Variable(T.STRING, lambda c: _event(c).type),
        "event.occurred_at": Variable(T.TIMESTAMP, lambda c: _event(c).occurred_at),
        "event.amount": Variable(T.DOUBLE, lambda c: _or(_event(c).amount, 0.0)),
        "event.due_date": Variable(T.STRING, _due_date),
        "event.fields": Variable(T.Map(T.STRING, T.DYN), lambda c: _event(c).fields),
    }


def _event(ctx: Context) -> Event:
    if ctx.event is None:
        raise LookupError("this evaluation has no event")
    return ctx.event


def _due_date(ctx: Context) -> str:
    due = _event(ctx).due_date
    return due.isoformat() if due else ""


def _or(value: float | None, absent: float) -> float:
    return absent if value is None else float(value)


def _stats_values(stats: WindowStats) -> dict[str, Any]:
    return {name: _jsonable(getattr(stats, name)) for name in _STATS_TYPES}


def _fields(obj: Any) -> dict[str, Any]:
    return {name: _jsonable(getattr(obj, name)) for name in obj.__slots__}


def _jsonable_map(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {str(key): _jsonable(item) for key, item in mapping.items()}


_PLAIN = frozenset({float, int, str, bool, type(None)})


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # most values: a window's numbers, parameters
        return value
    if isinstance(value, datetime):
        return iso_utc(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Mapping):
        return _jsonable_map(value)
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


_NO_BASELINE = Baseline()
