"""Recognised condition shapes decide exactly as the CEL runtime does, one window at a time and
in bulk; conditions outside the shapes are refused."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from cel_expr_python import cel
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from rules.aggregates import AGGREGATES, Accumulator, Reading, WindowStats, stats_at
from rules.cel_subset import INT64_MAX, INT64_MIN
from rules.condition import compile_condition, evaluate
from rules.context import Context, Customer
from rules.params import ParameterSpec
from rules.shapes import Shape, recognize, window_columns
from rules.windows import window_for

PARAMS = (
    ParameterSpec(name="d1", type="double"),
    ParameterSpec(name="d2", type="double"),
    ParameterSpec(name="i1", type="int"),
    ParameterSpec(name="i2", type="int"),
    ParameterSpec(name="label", type="string"),
    ParameterSpec(name="wait", type="duration"),
    ParameterSpec(name="on", type="bool"),
)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
WINDOW = window_for("day", NOW, "Europe/Berlin")
DOUBLE_FIELDS = tuple(a for a in AGGREGATES if a != "count")

# ---------------------------------------------------------------- conditions of every shape


def _spaced(draw: st.DrawFn, text: str) -> str:
    return draw(st.sampled_from(["", " ", "  ", "\n", "\t"])) + text


def _double_text(value: float, style: int) -> str:
    text = repr(value)  # a CEL double literal for finite non-negative values
    if style == 1 and text.startswith("0."):
        return text[1:]  # ``.5``
    if style == 2 and "e" not in text:
        return f"{value:e}"  # ``1.500000e+00``
    return text


@st.composite
def double_literal(draw: st.DrawFn) -> str:
    value = draw(
        st.one_of(
            st.sampled_from([0.0, 0.5, 1.0, 1.1, 3.0, 1e308, 5e-324, 1e-3]),
            st.floats(min_value=0, allow_nan=False, allow_infinity=False),
        )
    )
    return _double_text(value, draw(st.integers(0, 2)))


@st.composite
def int_literal(draw: st.DrawFn) -> str:
    value = draw(
        st.one_of(
            st.integers(0, 10),
            st.sampled_from([INT64_MAX, 2**62, 2**32]),
            st.integers(0, INT64_MAX),
        )
    )
    return hex(value) if draw(st.booleans()) else str(value)


def term(kind: str) -> st.SearchStrategy[str]:
    """CEL text of an arithmetic expression of ``kind`` (int or double) over params and numbers."""
    names = ["params.d1", "params.d2"] if kind == "double" else ["params.i1", "params.i2"]
    ops = ["+", "-", "*", "/"] + (["%"] if kind == "int" else [])
    leaves = st.one_of(
        st.sampled_from(names), double_literal() if kind == "double" else int_literal()
    )

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.builds(lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from(ops), inner),
            st.builds(lambda a: f"({a})", inner),
            st.builds(lambda a: f"-{a}", inner),
        )

    return st.recursive(leaves, extend, max_leaves=4)


@st.composite
def comparison(draw: st.DrawFn, aggregates: tuple[str, ...] = AGGREGATES) -> str:
    aggregate = draw(st.sampled_from(aggregates))
    dot = draw(st.sampled_from([".", " . ", "."]))
    field = f"window{dot}{aggregate}"
    if draw(st.booleans()):
        field = f"({field})"
    bound = draw(term("int" if aggregate == "count" else "double"))
    op = draw(st.sampled_from([">", ">=", "<", "<="]))
    left, right = (field, bound) if draw(st.booleans()) else (bound, field)
    text = f"{left}{_spaced(draw, op)}{_spaced(draw, right)}"
    return f"({text})" if draw(st.booleans()) else text


@st.composite
def recognised_condition(draw: st.DrawFn, aggregates: tuple[str, ...] = AGGREGATES) -> str:
    parts = draw(st.lists(comparison(aggregates), min_size=1, max_size=3))
    if len(parts) == 3 and draw(st.booleans()):
        return f"({parts[0]} && {parts[1]}) && {parts[2]}"
    return " && ".join(parts)


# ------------------------------------------------------------ data: parameters and windows

_DOUBLES = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e308, -1e308, 5e-324, 20.0]),
    st.floats(allow_nan=False, allow_infinity=False),
)
_INTS = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([INT64_MAX, INT64_MIN, 2**62]),
    st.integers(INT64_MIN, INT64_MAX),
)
_AGG_DOUBLES = st.one_of(
    _DOUBLES, st.sampled_from([math.nan, math.inf, -math.inf]), st.floats(allow_nan=True)
)


@st.composite
def params(draw: st.DrawFn, ints: st.SearchStrategy[int] = _INTS) -> dict[str, Any]:
    values: dict[str, Any] = {
        "d1": draw(_DOUBLES),
        "d2": draw(st.one_of(_DOUBLES, st.integers(-100, 100))),  # CEL reads an int as a double
        "i1": draw(ints),
        "i2": draw(ints),
        "label": "x",
        "wait": 60.0,
        "on": True,
    }
    if draw(st.integers(0, 19)) == 0:
        del values[draw(st.sampled_from(["d1", "i1"]))]  # a missing value fails the evaluation
    return values


def _neighbours(bound: Any, integer: bool) -> list[Any]:
    if integer:
        return [b for b in (bound - 1, bound, bound + 1) if INT64_MIN <= b <= INT64_MAX]
    return [math.nextafter(bound, -math.inf), bound, math.nextafter(bound, math.inf)]


@st.composite
def windows(
    draw: st.DrawFn, shape: Shape | None, bounds: tuple[Any, ...] | None
) -> list[WindowStats]:
    """1 to 6 windows; some sit exactly at (or one step from) a comparison's bound."""
    found = []
    for _ in range(draw(st.integers(1, 6))):
        values: dict[str, Any] = {a: draw(_AGG_DOUBLES) for a in DOUBLE_FIELDS}
        values["count"] = draw(_INTS)
        if shape is not None and bounds is not None and draw(st.booleans()):
            for c, bound in zip(shape.comparisons, bounds, strict=True):
                values[c.aggregate] = draw(st.sampled_from(_neighbours(bound, c.integer)))
        found.append(WindowStats(WINDOW, elapsed=0.5, projected=0.0, **values))
    return found


def run_cel(condition: str, params: dict[str, Any], window: WindowStats) -> tuple[bool, str | None]:
    compiled = compile_condition(condition, "threshold", PARAMS)
    result = evaluate(compiled, Context(params, Customer(), NOW, window))
    return result.result, result.error


def columns(shape: Shape, found: list[WindowStats]) -> dict[str, np.ndarray]:
    return {
        a: np.array([getattr(w, a) for w in found], dtype=np.int64 if a == "count" else np.float64)
        for a in shape.aggregates
    }


# ------------------------------------------------------------------------------ properties

PROPERTY = settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@PROPERTY
@given(condition=recognised_condition(), data=st.data())
def test_recognised_shapes_decide_as_cel_does(condition: str, data: st.DataObject) -> None:
    shape = recognize(condition, "threshold", PARAMS)
    assert shape is not None, condition
    values = data.draw(params())
    bounds = shape.bounds(values)
    found = data.draw(windows(shape, bounds))
    truth = [run_cel(condition, values, w) for w in found]
    if bounds is None:
        # No claim is made: the full evaluation decides (here it fails or short-circuits).
        event("bounds undecidable: full evaluation")
        return
    event("decided")
    assert all(error is None for _, error in truth), (condition, values, truth)
    expected = [result for result, _ in truth]
    assert [shape.holds(w, bounds) for w in found] == expected, (condition, values, bounds)
    bulk = shape.decide(
        columns(shape, found), [np.repeat(b, len(found)) for b in shape.stack([bounds])]
    )
    assert bulk.tolist() == expected, (condition, values, bounds)


@PROPERTY
@given(condition=recognised_condition(("count",)), data=st.data())
def test_int_arithmetic_decides_as_cel_does(condition: str, data: st.DataObject) -> None:
    """Small ints of both signs, where truncating division and the remainder's sign show."""
    shape = recognize(condition, "threshold", PARAMS)
    assert shape is not None
    values = data.draw(params(st.integers(-12, 12)))
    bounds = shape.bounds(values)
    found = data.draw(windows(shape, bounds))
    truth = [run_cel(condition, values, w) for w in found]
    if bounds is not None:
        assert [shape.holds(w, bounds) for w in found] == [r for r, _ in truth]
        assert all(error is None for _, error in truth)


@PROPERTY
@given(
    condition=recognised_condition(),
    rows=st.lists(params(), min_size=1, max_size=8),
    data=st.data(),
)
def test_bulk_decisions_over_many_triggers_match_cel(
    condition: str, rows: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Many triggers of one rule, each with its own parameters and window, in one call."""
    shape = recognize(condition, "threshold", PARAMS)
    assert shape is not None
    decided = [(values, b) for values in rows if (b := shape.bounds(values)) is not None]
    if not decided:
        return
    found = [data.draw(windows(shape, b))[0] for _, b in decided]
    bulk = shape.decide(columns(shape, found), shape.stack([b for _, b in decided]))
    expected = [
        run_cel(condition, values, w) for (values, _), w in zip(decided, found, strict=True)
    ]
    assert bulk.tolist() == [result for result, _ in expected]
    assert all(error is None for _, error in expected)


_ENV = cel.NewEnv(
    variables={
        "params.d1": cel.Type.DOUBLE,
        "params.d2": cel.Type.DOUBLE,
        "params.i1": cel.Type.INT,
        "params.i2": cel.Type.INT,
    }
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["int", "double"]),
    data=st.data(),
    ints=st.sampled_from([st.integers(-12, 12), _INTS]),
)
def test_bounds_are_the_values_cel_computes(
    kind: str, data: st.DataObject, ints: st.SearchStrategy[int]
) -> None:
    """A bound is CEL's value of the same expression, bit for bit; it is undecided exactly
    where CEL fails (overflow, division by zero, a missing value)."""
    expression = data.draw(term(kind))
    shape = recognize(
        f"window.{'count' if kind == 'int' else 'sum'} > {expression}", "threshold", PARAMS
    )
    assert shape is not None
    values = data.draw(params(ints))
    bounds = shape.bounds(values)
    wanted = {f"params.{k}": v for k, v in values.items() if f"params.{k}" in expression}
    try:
        expected = _ENV.compile(expression).eval(data=wanted).value()
    except RuntimeError:  # a missing value
        expected = None
    failed = not isinstance(expected, int | float)  # the runtime returns errors as values
    if bounds is None:
        assert failed, (expression, values, expected)
    else:
        assert _same(bounds[0], expected), (expression, values, bounds, expected)


# ------------------------------------------------------------------- refused conditions

UNRECOGNISED = [
    "window.sum > baseline.sum",
    "window.sum > baseline.sum * params.d1",
    "previous.sum < window.sum",
    "window.sum > params.d1 && previous.count > 0",
    "now > window.start",
    'customer.locale == "de" && window.sum > params.d1',
    "window.sum > double(params.i1)",
    "double(window.count) > params.d1",
    "size(params.label) > 3 && window.sum > params.d1",
    "window.sum > params.d1 || window.max > params.d2",
    "window.sum > params.d1 ? true : false",
    "!(window.sum > params.d1)",
    "window.sum == params.d1",
    "window.sum != params.d1",
    "window.sum > window.max",
    "window.sum > window.max * 2.0",
    "window.sum * 2.0 > params.d1",
    "-window.sum < params.d1",
    "window.sum - params.d2 > params.d1",
    "window.elapsed > 0.5",
    "window.projected > params.d1",
    "window.sum > params.d1 < true",
    "(window.sum > params.d1) == true",
    "true",
    "true && window.sum > params.d1",
    "params.on && window.sum > params.d1",
    "window.sum > params.d1 && params.on",
    "window.count > 1 && params.label == 'x'",
    "params.wait > duration('1h') && window.sum > 1.0",
    "window.count > -9223372036854775808",
    "window.sum > params.d1 && [1, 2].exists(x, x > 1)",
    "int(window.sum) > params.i1",
    "window.start < window.end && window.sum > 1.0",
]


@pytest.mark.parametrize("condition", UNRECOGNISED)
def test_conditions_outside_the_shapes_are_refused(condition: str) -> None:
    compile_condition(condition, "threshold", PARAMS)  # each is a valid condition
    assert recognize(condition, "threshold", PARAMS) is None


def test_event_rules_have_no_shape() -> None:
    spec = (ParameterSpec(name="limit", type="double"),)
    assert recognize("event.amount > params.limit", "event", spec) is None


_REFUSALS: list[Callable[[str], str]] = [
    lambda c: f"{c} || window.max > 1.0",
    lambda c: f"!({c})",
    lambda c: f"{c} && previous.sum > params.d1",
    lambda c: f"baseline.windows > 0 && {c}",
    lambda c: f"({c}) ? window.sum > 1.0 : false",
    lambda c: f"{c} && now < window.end",
    lambda c: f"{c} && customer.timezone != 'UTC'",
]


@settings(max_examples=150, deadline=None)
@given(condition=recognised_condition(), refusal=st.sampled_from(_REFUSALS))
def test_recognised_shapes_combined_with_anything_else_are_refused(
    condition: str, refusal: Callable[[str], str]
) -> None:
    mixed = refusal(condition)
    compile_condition(mixed, "threshold", PARAMS)
    assert recognize(mixed, "threshold", PARAMS) is None


# ----------------------------------------------------------------------------- examples


def test_bounds_are_the_values_at_which_the_condition_turns_true() -> None:
    shape = recognize(
        "params.d1 * 1.1 <= window.max && window.count >= params.i1 + 2", "threshold", PARAMS
    )
    assert shape is not None
    assert [(c.aggregate, c.op) for c in shape.comparisons] == [("max", ">="), ("count", ">=")]
    assert shape.bounds({"d1": 10.0, "i1": 3}) == (11.0, 5)
    assert shape.aggregates == ("max", "count")


def test_bounds_where_cel_would_fail_leave_the_decision_to_cel() -> None:
    shape = recognize("window.count > params.i1 / params.i2", "threshold", PARAMS)
    assert shape is not None
    assert shape.bounds({"i1": 4, "i2": 0}) is None  # divide by zero
    assert shape.bounds({"i1": INT64_MAX, "i2": 1}) == (INT64_MAX,)
    overflow = recognize("window.count > params.i1 * 2", "threshold", PARAMS)
    assert overflow is not None and overflow.bounds({"i1": INT64_MAX}) is None
    assert shape.bounds({"i1": 1.0, "i2": 1}) is None  # not an int: CEL fails
    assert shape.bounds({"i1": INT64_MIN, "i2": -1}) is None  # overflow
    assert shape.bounds({"i1": -7, "i2": 2}) == (-3,)  # truncated toward zero
    remainder = recognize("window.count > params.i1 % params.i2", "threshold", PARAMS)
    assert remainder is not None and remainder.bounds({"i1": -7, "i2": 2}) == (-1,)


def test_double_division_by_zero_is_infinite_as_in_cel() -> None:
    shape = recognize("window.sum > params.d1 / 0.0", "threshold", PARAMS)
    assert shape is not None
    assert shape.bounds({"d1": -1.0}) == (-math.inf,)
    zero_by_zero = shape.bounds({"d1": 0.0})
    assert zero_by_zero is not None and math.isnan(zero_by_zero[0])


def test_latching_shapes() -> None:
    def latches(condition: str, nonnegative: bool = True) -> bool:
        shape = recognize(condition, "threshold", PARAMS)
        assert shape is not None
        return shape.latches(nonnegative)

    assert latches("window.sum > params.d1")
    assert not latches("window.sum > params.d1", nonnegative=False)
    assert latches("window.max >= params.d1 && window.count > 3")
    assert latches("window.min < params.d1")
    assert not latches("window.avg > params.d1")
    assert not latches("window.sum < params.d1")


def test_bulk_decisions_refuse_arrays_of_the_wrong_type() -> None:
    shape = recognize("window.count > params.i1", "threshold", PARAMS)
    assert shape is not None
    with pytest.raises(TypeError):
        shape.decide({"count": np.array([1.0])}, shape.stack([(0,)]))


def test_double_literals_parse_as_cel_reads_them() -> None:
    for text in ["0.1", ".1", "1e-1", "1.0e-1", "1E-1"]:
        shape = recognize(f"window.sum > {text}", "threshold", PARAMS)
        assert shape is not None and shape.bounds({}) == (0.1,), text
    beyond = recognize("window.sum >= 1e400", "threshold", PARAMS)  # CEL reads infinity
    assert beyond is not None and beyond.bounds({}) == (math.inf,)
    commented = "window.sum > params.d1 // the customer's limit\n  && window.count >= 0x2"
    shape = recognize(commented, "threshold", PARAMS)
    assert shape is not None and shape.bounds({"d1": 1.5}) == (1.5, 2)
    window = WindowStats(WINDOW, 2.0, 1.0, 1.0, 1.0, 1.0, 2, 0.5, 0.0)
    assert shape.holds(window, (1.5, 2)) == run_cel(commented, {"d1": 1.5}, window)[0] is True
    tiny = struct.unpack("<d", struct.pack("<Q", 1))[0]
    shape = recognize(f"window.sum >= {tiny!r}", "threshold", PARAMS)
    assert shape is not None and shape.bounds({}) == (tiny,)


_TOTALS = st.tuples(_AGG_DOUBLES, st.integers(0, 50), _AGG_DOUBLES, _AGG_DOUBLES, _AGG_DOUBLES)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(_TOTALS, min_size=1, max_size=8),
    scale=st.sampled_from([1.0, 0.01, 0.001, 1e-5]),
)
def test_window_columns_are_the_aggregates_a_condition_sees(
    rows: list[tuple[float, int, float, float, float]], scale: float
) -> None:
    """Stored totals turned into columns equal the WindowStats the full evaluation builds
    (scaled as money in major units; an empty window reads 0)."""
    total, count, low, high, last = (np.array(column) for column in zip(*rows, strict=True))
    found = window_columns(
        AGGREGATES, total.astype(np.float64), count.astype(np.int64), low, high, last, scale
    )
    for i, (t, n, lo, hi, la) in enumerate(rows):
        stats = (
            stats_at(WINDOW, 0.5, 0.5, t * scale, n, lo * scale, hi * scale, la * scale)
            if n
            else WindowStats.empty(WINDOW, NOW)
        )
        for name in AGGREGATES:
            assert _same(found[name][i].item(), getattr(stats, name)), (name, rows[i], scale)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    condition=recognised_condition(("sum", "count", "max", "min")),
    nonnegative=st.booleans(),
    data=st.data(),
)
def test_latching_shapes_stay_true_as_readings_arrive(
    condition: str, nonnegative: bool, data: st.DataObject
) -> None:
    """Where a shape says it latches, CEL never finds it true and then false again while a
    window fills (from its first reading on)."""
    shape = recognize(condition, "threshold", PARAMS)
    assert shape is not None
    assume(shape.latches(nonnegative))
    values = data.draw(params(st.integers(-12, 12)))
    if shape.bounds(values) is None:
        return
    low = 0.0 if nonnegative else -1e6
    numbers = st.floats(low, 1e6, allow_nan=False)
    acc = Accumulator()
    seen_true = False
    for i, value in enumerate(data.draw(st.lists(numbers, min_size=1, max_size=12))):
        acc.add(Reading(WINDOW.start + timedelta(minutes=i), timedelta(minutes=1), value))
        result, error = run_cel(condition, values, acc.stats(WINDOW, NOW))
        assert error is None
        assert result or not seen_true, (condition, values, i)
        seen_true = seen_true or result
    event("became true while filling" if seen_true else "stayed false")
