"""CEL conditions: compile-time errors with positions, type checks, and fail-closed evaluation."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from rules.aggregates import Baseline, Reading, aggregate
from rules.condition import compile_condition, evaluate
from rules.context import Context, Customer, Event
from rules.errors import ConditionCompileError
from rules.params import ParameterSpec
from rules.windows import window_for

LIMIT = (ParameterSpec(name="limit_kwh", type="double"),)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
BERLIN = Customer(locale="de-DE", timezone="Europe/Berlin", attributes={"tariff": "flex"})


def day_stats(*values: float) -> Context:
    window = window_for("day", NOW, "Europe/Berlin")
    readings = [
        Reading(window.start + timedelta(hours=i), timedelta(hours=1), v)
        for i, v in enumerate(values)
    ]
    return Context({"limit_kwh": 12.0}, BERLIN, NOW, aggregate(readings, window, NOW))


def compile_error(source: str, params: tuple[ParameterSpec, ...] = LIMIT) -> ConditionCompileError:
    with pytest.raises(ConditionCompileError) as info:
        compile_condition(source, "threshold", params)
    return info.value


def test_syntax_error_reports_line_and_column() -> None:
    error = compile_error("window.sum >\n  (params.limit_kwh")
    assert (error.line, error.column) == (2, 20)
    assert "Syntax error" in error.message


@pytest.mark.parametrize(
    ("source", "column", "fragment"),
    [
        ("window.summ > params.limit_kwh", 7, "window.summ"),
        ("window.sum > params.unknown", 20, "params.unknown"),
        ("window.sum > 12", 12, "(double, int)"),
        ('window.sum > "x"', 12, "(double, string)"),
        ("previous.count > 1.5", 16, "(int, double)"),
        ("event.amount > 1.0", 6, "event.amount"),
    ],
)
def test_type_errors_are_rejected_at_compile_time(source: str, column: int, fragment: str) -> None:
    error = compile_error(source)
    assert error.column == column
    assert fragment in error.message


@pytest.mark.parametrize("source", ["window.sum", "customer.attributes.tariff", "'yes'"])
def test_condition_must_return_bool(source: str) -> None:
    assert "must be a bool" in compile_error(source).message


def test_threshold_condition_is_true_above_limit_and_false_below() -> None:
    condition = compile_condition("window.sum > params.limit_kwh", "threshold", LIMIT)
    above, below = evaluate(condition, day_stats(8, 5)), evaluate(condition, day_stats(8, 3))
    assert (above.result, above.error) == (True, None)
    assert (below.result, below.error) == (False, None)
    assert above.values["window"]["sum"] == 13.0
    assert above.values["params"] == {"limit_kwh": 12.0}


def test_values_are_json_with_iso_timestamps() -> None:
    condition = compile_condition("window.sum > params.limit_kwh", "threshold", LIMIT)
    values = evaluate(condition, day_stats(13)).values
    assert json.loads(json.dumps(values)) == values
    assert values["window"]["start"] == "2026-02-28T23:00:00Z"
    assert values["now"] == "2026-03-01T12:00:00Z"


def test_compiling_the_same_condition_twice_reuses_the_compiled_form() -> None:
    first = compile_condition("window.max > params.limit_kwh", "threshold", LIMIT)
    assert compile_condition("window.max > params.limit_kwh", "threshold", LIMIT) is first
    assert set(first.variables) == {"window.max", "params.limit_kwh"}


@pytest.mark.parametrize(
    "source",
    [
        "customer.attributes.missing == 'x'",
        "window.sum / 0.0 > 1.0 && int(window.sum) / 0 > 1",
    ],
)
def test_runtime_errors_fail_closed_and_are_reported(source: str) -> None:
    condition = compile_condition(source, "threshold", LIMIT)
    evaluation = evaluate(condition, day_stats(13))
    assert evaluation.result is False
    assert evaluation.error


def test_comprehensions_nested_in_comprehensions_are_refused_where_they_start() -> None:
    nested = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"
    source = f"{nested}.all(a, {nested}.all(b, {nested}.all(c, {nested}.all(d, a > 0))))"
    with pytest.raises(ConditionCompileError) as caught:
        compile_condition(source, "threshold", LIMIT)
    assert (caught.value.line, caught.value.column) == (1, source.index(".all(b") + 1)
    assert "inside another comprehension" in caught.value.message


def test_missing_window_fails_closed() -> None:
    condition = compile_condition("window.sum > params.limit_kwh", "threshold", LIMIT)
    evaluation = evaluate(condition, Context({"limit_kwh": 1.0}, BERLIN, NOW))
    assert evaluation.result is False and evaluation.error


def test_absent_previous_and_baseline_read_as_zero() -> None:
    source = "previous.count == 0 && previous.sum == 0.0 && baseline.windows == 0"
    condition = compile_condition(source, "threshold", LIMIT)
    assert evaluate(condition, day_stats(1)).result is True


def test_baseline_and_now_are_visible() -> None:
    source = "window.sum > 1.5 * baseline.sum && now > window.start && window.elapsed > 0.5"
    condition = compile_condition(source, "threshold", LIMIT)
    ctx = day_stats(20)
    low = Context(ctx.params, BERLIN, NOW, ctx.window, baseline=Baseline(sum=10.0, windows=4))
    high = Context(ctx.params, BERLIN, NOW, ctx.window, baseline=Baseline(sum=15.0, windows=4))
    assert evaluate(condition, low).result is True
    assert evaluate(condition, high).result is False


def test_customer_attributes_and_duration_params() -> None:
    params = (ParameterSpec(name="quiet", type="duration"), ParameterSpec(name="on", type="bool"))
    source = "customer.attributes.tariff == 'flex' && params.quiet > duration('1h') && params.on"
    condition = compile_condition(source, "threshold", params)
    ctx = day_stats(1)
    ctx = Context({"quiet": 5400.0, "on": True}, BERLIN, NOW, ctx.window)
    assert evaluate(condition, ctx).result is True


def test_event_conditions_see_amount_fields_and_due_date() -> None:
    params = (ParameterSpec(name="limit", type="double"),)
    source = "event.amount > params.limit && event.fields.plan == 'pro' && event.due_date != ''"
    condition = compile_condition(source, "event", params)
    bill = Event(
        "bill.issued", NOW, amount=61.5, due_date=date(2026, 3, 20), fields={"plan": "pro"}
    )
    ctx = Context({"limit": 50.0}, BERLIN, NOW, event=bill)
    evaluation = evaluate(condition, ctx)
    assert evaluation.result is True
    assert evaluation.values["event"]["due_date"] == "2026-03-20"


def test_event_rules_cannot_read_window_fields() -> None:
    with pytest.raises(ConditionCompileError, match="window.sum"):
        compile_condition("window.sum > 1.0", "event", ())
