"""Every variable a condition can read holds exactly the value the author expects, with its
declared type, and the "why" stored with a notification carries all of them as JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from rules.aggregates import Baseline, Reading, WindowStats, aggregate
from rules.condition import compile_condition, evaluate
from rules.context import Context, Customer, Event, context_values, declarations
from rules.errors import ConditionCompileError
from rules.params import ParameterSpec
from rules.windows import window_for

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)  # 13:00 in Berlin
ANNA = Customer(locale="de-AT", timezone="Europe/Vienna", attributes={"tariff": "flex", "n": 3})
PARAMS = (
    ParameterSpec(name="limit", type="double"),
    ParameterSpec(name="times", type="int"),
    ParameterSpec(name="label", type="string"),
    ParameterSpec(name="on", type="bool"),
    ParameterSpec(name="at", type="time"),
    ParameterSpec(name="pause", type="duration"),
)
VALUES = {"limit": 12.5, "times": 3, "label": "Küche", "on": True, "at": "07:30", "pause": 5400.0}


def stats(day: datetime, *values: float) -> WindowStats:
    window = window_for("day", day, "Europe/Berlin")
    readings = [
        Reading(window.start + timedelta(hours=i), timedelta(hours=1), v)
        for i, v in enumerate(values)
    ]
    return aggregate(readings, window, NOW)


TODAY = stats(NOW, 2.0, 5.0, 1.0)  # 8 kWh in the first three hours of 1 March (Berlin)
YESTERDAY = stats(NOW - timedelta(days=1), 4.0, 6.0)
BASELINE = Baseline(sum=9.0, avg=4.5, min=4.0, max=6.0, last=6.0, count=2.0, windows=3)
BILL = Event(
    "bill.issued",
    datetime(2026, 2, 28, 9, 15, tzinfo=UTC),
    amount=61.5,
    due_date=date(2026, 3, 20),
    fields={"plan": "pro", "lines": [1, 2]},
)


def threshold(
    previous: WindowStats | None = YESTERDAY, baseline: Baseline | None = BASELINE
) -> Context:
    return Context(VALUES, ANNA, NOW, TODAY, previous, baseline)


def holds(source: str, ctx: Context, kind: str = "threshold") -> bool:
    evaluation = evaluate(compile_condition(source, kind, PARAMS), ctx)
    assert evaluation.error is None, evaluation.error
    return evaluation.result


@pytest.mark.parametrize(
    "source",
    [
        "now == timestamp('2026-03-01T12:00:00Z')",
        "customer.locale == 'de-AT'",
        "customer.timezone == 'Europe/Vienna'",
        "customer.attributes.tariff == 'flex' && customer.attributes.n == 3",
        "params.limit == 12.5",
        "params.times == 3",
        "params.label == 'Küche'",
        "params.on",
        "params.at == '07:30'",
        "params.pause == duration('90m')",
        "window.sum == 8.0",
        "window.avg == 8.0 / 3.0",
        "window.min == 1.0",
        "window.max == 5.0",
        "window.last == 1.0",
        "window.count == 3",
        "window.start == timestamp('2026-02-28T23:00:00Z')",
        "window.end == timestamp('2026-03-01T23:00:00Z')",
        "window.elapsed == 13.0 / 24.0",
        "window.projected > 8.0",
        "previous.sum == 10.0",
        "previous.avg == 5.0",
        "previous.min == 4.0",
        "previous.max == 6.0",
        "previous.last == 6.0",
        "previous.count == 2",
        "previous.start == timestamp('2026-02-27T23:00:00Z')",
        "previous.end == timestamp('2026-02-28T23:00:00Z')",
        "previous.elapsed == 1.0",
        "previous.projected == 10.0",
        "baseline.sum == 9.0",
        "baseline.avg == 4.5",
        "baseline.min == 4.0",
        "baseline.max == 6.0",
        "baseline.last == 6.0",
        "baseline.count == 2.0",
        "baseline.windows == 3",
    ],
)
def test_threshold_variables_read_their_values(source: str) -> None:
    assert holds(source, threshold())


@pytest.mark.parametrize(
    "source",
    [
        "previous.sum == 0.0 && previous.avg == 0.0 && previous.min == 0.0",
        "previous.max == 0.0 && previous.last == 0.0 && previous.count == 0",
        "previous.elapsed == 0.0 && previous.projected == 0.0",
        "previous.start == window.start && previous.end == window.start",
        "baseline.sum == 0.0 && baseline.avg == 0.0 && baseline.min == 0.0",
        "baseline.max == 0.0 && baseline.last == 0.0 && baseline.count == 0.0",
        "baseline.windows == 0",
    ],
)
def test_an_absent_previous_window_and_baseline_read_as_empty(source: str) -> None:
    assert holds(source, threshold(previous=None, baseline=None))


@pytest.mark.parametrize(
    "source",
    [
        "event.type == 'bill.issued'",
        "event.occurred_at == timestamp('2026-02-28T09:15:00Z')",
        "event.amount == 61.5",
        "event.due_date == '2026-03-20'",
        "event.fields.plan == 'pro' && size(event.fields.lines) == 2",
        "params.limit == 12.5 && customer.locale == 'de-AT'",
    ],
)
def test_event_variables_read_their_values(source: str) -> None:
    assert holds(source, Context(VALUES, ANNA, NOW, event=BILL), "event")


def test_an_event_without_amount_or_due_date_reads_zero_and_empty() -> None:
    bare = Event("checkup.due", NOW)
    source = "event.amount == 0.0 && event.due_date == '' && size(event.fields) == 0"
    assert holds(source, Context(VALUES, ANNA, NOW, event=bare), "event")


def test_an_amount_given_as_a_whole_number_reads_as_a_double() -> None:
    whole = Event("bill.issued", NOW, amount=60)
    assert holds("event.amount == 60.0", Context(VALUES, ANNA, NOW, event=whole), "event")


@pytest.mark.parametrize(
    ("source", "kind", "missing"),
    [
        ("window.sum > 1.0", "threshold", "'NoneType' object has no attribute 'sum'"),
        ("previous.start < now", "threshold", "this evaluation has no window"),
        ("event.type == 'x'", "event", "this evaluation has no event"),
        ("event.amount > 1.0", "event", "this evaluation has no event"),
        ("event.due_date == ''", "event", "this evaluation has no event"),
        ("size(event.fields) == 0", "event", "this evaluation has no event"),
        ("event.occurred_at < now", "event", "this evaluation has no event"),
    ],
)
def test_reading_what_the_evaluation_lacks_fails_closed(
    source: str, kind: str, missing: str
) -> None:
    evaluation = evaluate(compile_condition(source, kind, PARAMS), Context(VALUES, ANNA, NOW))
    assert (evaluation.result, evaluation.error) == (False, missing)


def test_each_kind_declares_its_own_variables_with_their_types() -> None:
    spec = tuple((p.name, p.type) for p in PARAMS)
    threshold_vars, event_vars = declarations("threshold", spec), declarations("event", spec)
    common = {"now", "customer.locale", "customer.timezone", "customer.attributes"}
    params = {f"params.{p.name}" for p in PARAMS}
    fields = ("sum", "avg", "min", "max", "last", "count", "start", "end", "elapsed", "projected")
    window = {f"{part}.{f}" for part in ("window", "previous") for f in fields}
    baseline = {f"baseline.{f}" for f in ("sum", "avg", "min", "max", "last", "count", "windows")}
    events = {f"event.{f}" for f in ("type", "occurred_at", "amount", "due_date", "fields")}
    assert set(threshold_vars) == common | params | window | baseline
    assert set(event_vars) == common | params | events
    names = {name: var.type.name() for name, var in threshold_vars.items()}
    assert {n for n, t in names.items() if t == "INT"} == {
        "params.times",
        "window.count",
        "previous.count",
        "baseline.windows",
    }
    assert names["params.pause"] == "DURATION"
    assert names["params.at"] == names["params.label"] == "STRING"
    assert names["params.on"] == "BOOL"
    assert names["baseline.count"] == names["params.limit"] == names["window.sum"] == "DOUBLE"
    assert names["window.start"] == names["previous.end"] == names["now"] == "TIMESTAMP"
    assert names["customer.attributes"] == "MAP<STRING, DYN>"


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("event.amount > 1.0", "threshold"),
        ("window.sum > 1.0", "event"),
        ("previous.sum > 1.0", "event"),
        ("baseline.sum > 1.0", "event"),
        ("params.times > 1.5", "threshold"),  # an int parameter is no double
        ("params.label > 1.0", "threshold"),
        ("baseline.windows > 1.5", "threshold"),
    ],
)
def test_variables_of_another_kind_or_type_do_not_compile(source: str, kind: str) -> None:
    with pytest.raises(ConditionCompileError):
        compile_condition(source, kind, PARAMS)


def test_the_why_holds_every_value_as_json() -> None:
    params: dict[str, Any] = {
        **VALUES,
        "since": date(2026, 2, 1),
        "at_": datetime(2026, 2, 1, 8, 0),
        "wait": timedelta(minutes=2),
        "list": (1, {"a": datetime(2026, 2, 1, tzinfo=UTC)}),
        3: "three",
    }
    ctx = Context(params, ANNA, NOW, TODAY, YESTERDAY, BASELINE, BILL)
    assert context_values(ctx) == {
        "now": "2026-03-01T12:00:00Z",
        "params": {
            **VALUES,
            "since": "2026-02-01",
            "at_": "2026-02-01T08:00:00",
            "wait": 120.0,
            "list": [1, {"a": "2026-02-01T00:00:00Z"}],
            "3": "three",
        },
        "window": {
            "sum": 8.0,
            "avg": 8.0 / 3,
            "min": 1.0,
            "max": 5.0,
            "last": 1.0,
            "count": 3,
            "start": "2026-02-28T23:00:00Z",
            "end": "2026-03-01T23:00:00Z",
            "elapsed": 13 / 24,
            "projected": TODAY.projected,
        },
        "previous": {
            "sum": 10.0,
            "avg": 5.0,
            "min": 4.0,
            "max": 6.0,
            "last": 6.0,
            "count": 2,
            "start": "2026-02-27T23:00:00Z",
            "end": "2026-02-28T23:00:00Z",
            "elapsed": 1.0,
            "projected": 10.0,
        },
        "baseline": {
            "sum": 9.0,
            "avg": 4.5,
            "min": 4.0,
            "max": 6.0,
            "last": 6.0,
            "count": 2.0,
            "windows": 3,
        },
        "event": {
            "type": "bill.issued",
            "occurred_at": "2026-02-28T09:15:00Z",
            "amount": 61.5,
            "due_date": "2026-03-20",
            "fields": {"plan": "pro", "lines": [1, 2]},
        },
    }


def test_the_why_leaves_out_what_the_evaluation_did_not_have() -> None:
    assert context_values(Context({}, ANNA, NOW)) == {"now": "2026-03-01T12:00:00Z", "params": {}}
