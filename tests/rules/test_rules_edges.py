"""What operations staff and customers read when a rule or its parameters are wrong, and the
edges of windows, aggregates, event rules and back-tests that the other rule tests pass by."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from engine.processes.demo.rules import CHECKUP_REMINDER
from engine.units import is_currency, normalise
from rules.aggregates import Reading, WindowStats, aggregate, stats_from_totals
from rules.backtest import BacktestHit, backtest, backtest_events
from rules.condition import Evaluation, _compile_error, compile_condition, evaluate
from rules.context import Context, Customer, Event, context_values
from rules.errors import ParameterError, RuleError
from rules.params import ParameterSpec, coerce_value, validate_params
from rules.schedule import local_to_utc, parse_local_time, reminder_at
from rules.schema import RuleDefinition
from rules.state import Decision, Observation, TriggerState, is_late, step, transition_id
from rules.trigger import assess, compile_rule, evaluate_event
from rules.windows import as_utc, window_for, zone_of

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
VIENNA = Customer(locale="de-AT", timezone="Europe/Vienna")
BILL_RULE = {
    "key": "billing.bill_above",
    "title": {"en": "Bill above"},
    "topic": "billing",
    "kind": "event",
    "event_type": "bill.issued",
    "parameters": [{"name": "limit", "type": "double", "default": 50}],
    "condition": "event.amount > params.limit && customer.locale == 'de-AT'",
    "template_key": "billing.bill_above",
}
DAILY_RULE = {
    "key": "energy.daily_above",
    "title": {"en": "Daily use"},
    "topic": "energy",
    "kind": "threshold",
    "metric": "electricity",
    "window": "day",
    "aggregate": "sum",
    "parameters": [{"name": "limit", "type": "double", "min": 0, "default": 10}],
    "condition": "window.sum > params.limit && customer.timezone == 'Europe/Vienna'",
    "template_key": "energy.daily_above",
}


def spec(type_: str, **fields: Any) -> ParameterSpec:
    return ParameterSpec(name="p", type=type_, **fields)  # type: ignore[arg-type]


def reason(type_: str, value: Any, **fields: Any) -> str:
    with pytest.raises(ValueError) as info:
        coerce_value(spec(type_, **fields), value)
    return str(info.value)


# --- parameters: every reason a customer can be given --------------------------------------


@pytest.mark.parametrize(
    ("type_", "value", "fields", "expected"),
    [
        ("double", "12", {}, "must be a number"),
        ("double", True, {}, "must be a number"),
        ("double", float("nan"), {}, "must be a finite number"),
        ("double", float("inf"), {}, "must be a finite number"),
        ("double", -0.5, {"min": 0}, "must be at least 0"),
        ("double", 100.5, {"max": 100}, "must be at most 100"),
        ("int", 2.5, {}, "must be a whole number"),
        ("int", 11, {"max": 10}, "must be at most 10"),
        ("string", 5, {}, "must be a string"),
        ("string", "x" * 501, {}, "must be at most 500 characters"),
        ("bool", "true", {}, "must be true or false"),
        ("bool", 1, {}, "must be true or false"),
        ("time", "7:30", {}, "must be a local time as HH:MM (00:00 to 23:59)"),
        ("time", "24:00", {}, "must be a local time as HH:MM (00:00 to 23:59)"),
        ("time", 730, {}, "must be a local time as HH:MM (00:00 to 23:59)"),
        ("duration", "soon", {}, "must be seconds or a duration such as 90m, 1h30m or 2d"),
        ("duration", "  ", {}, "must be seconds or a duration such as 90m, 1h30m or 2d"),
        ("duration", -1, {}, "must not be negative"),
        ("duration", "2h", {"max": 3600}, "must be at most 3600"),
    ],
)
def test_each_bad_value_gets_its_reason(
    type_: str, value: Any, fields: dict[str, Any], expected: str
) -> None:
    assert reason(type_, value, **fields) == expected


@pytest.mark.parametrize(
    ("type_", "value", "fields", "expected"),
    [
        ("double", 100, {"max": 100}, 100.0),  # bounds are inclusive
        ("double", 0, {"min": 0}, 0.0),
        ("int", 10.0, {"max": 10}, 10),
        ("string", "x" * 500, {}, "x" * 500),
        ("string", "", {}, ""),
        ("bool", False, {}, False),
        ("time", "23:59", {}, "23:59"),
        ("time", "00:00", {}, "00:00"),
        ("duration", 0, {}, 0.0),
        ("duration", "0s", {}, 0.0),
        ("duration", "90m", {}, 5400.0),
        ("duration", " 1h30m ", {}, 5400.0),
        ("duration", "2d", {}, 172800.0),
        ("duration", "1d2h3m4s", {}, 93784.0),
        ("duration", "1.5h", {}, 5400.0),
        ("duration", 3600, {"max": 3600}, 3600.0),
    ],
)
def test_good_values_are_coerced(
    type_: str, value: Any, fields: dict[str, Any], expected: Any
) -> None:
    coerced = coerce_value(spec(type_, **fields), value)
    assert coerced == expected and type(coerced) is type(expected)


def test_every_fault_is_reported_at_once() -> None:
    specs = [
        ParameterSpec(name="limit", type="double", min=0),
        ParameterSpec(name="times", type="int", default=3),
        ParameterSpec(name="label", type="string"),
    ]
    with pytest.raises(ParameterError) as info:
        validate_params(specs, {"limit": -1, "colour": "red", "label": None})
    assert info.value.errors == [
        ("colour", "unknown parameter"),
        ("limit", "must be at least 0"),
        ("label", "required"),
    ]
    assert (
        str(info.value) == "colour: unknown parameter; limit: must be at least 0; label: required"
    )
    assert validate_params(specs, {"limit": 2, "label": "x"}) == {
        "limit": 2.0,
        "times": 3,
        "label": "x",
    }


# --- schedule rules --------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["7:30", "24:00", "12:60", "noon", "12:30 "])
def test_a_reminder_time_must_be_hh_mm(text: str) -> None:
    with pytest.raises(ParameterError) as info:
        parse_local_time(text)
    assert info.value.errors == [("local_time", "must be a local time as HH:MM")]


@pytest.mark.parametrize("days", [-1, 1.5])
def test_days_before_must_be_whole_and_not_negative(days: float) -> None:
    with pytest.raises(ParameterError) as info:
        reminder_at(date(2027, 3, 3), days, "09:00", "Europe/Berlin")
    assert info.value.errors == [("days_before", "must be a whole number of days, 0 or more")]


def test_a_reminder_at_an_ambiguous_time_takes_its_first_occurrence() -> None:
    # Berlin repeats 02:00–03:00 on 25 October 2026: 02:30 CEST comes first.
    at = local_to_utc(datetime(2026, 10, 25, 2, 30), "Europe/Berlin")
    assert at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC) and at.tzinfo is UTC
    assert reminder_at(date(2026, 10, 25), 0, time(2, 30), "Europe/Berlin") == at


# --- windows ---------------------------------------------------------------------------------


def test_the_all_time_window_keeps_its_zone_and_never_elapses() -> None:
    window = window_for("none", NOW, "Europe/Vienna")
    assert window.zone == ZoneInfo("Europe/Vienna")
    assert window.elapsed(NOW) == 0.0 and window.key == "all"


def test_an_hour_cut_by_a_zone_change_ends_at_the_change() -> None:
    # Caracas moved from UTC-4:30 to UTC-4 at 02:30 local on 1 May 2016.
    before = window_for("hour", datetime(2016, 5, 1, 6, 45, tzinfo=UTC), "America/Caracas")
    after = window_for("hour", datetime(2016, 5, 1, 7, 10, tzinfo=UTC), "America/Caracas")
    assert (before.start, before.end) == (
        datetime(2016, 5, 1, 6, 30, tzinfo=UTC),
        datetime(2016, 5, 1, 7, 0, tzinfo=UTC),
    )
    assert (after.start, after.end) == (
        datetime(2016, 5, 1, 7, 0, tzinfo=UTC),
        datetime(2016, 5, 1, 8, 0, tzinfo=UTC),
    )


def test_zones_and_instants_are_checked() -> None:
    with pytest.raises(TypeError, match="expected a ZoneInfo or an IANA name, got 5"):
        zone_of(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="naive datetime: windows need timezone-aware instants"):
        as_utc(datetime(2026, 1, 1))
    assert as_utc(datetime(2026, 1, 1, 1, tzinfo=ZoneInfo("Europe/Vienna"))).tzinfo is UTC
    all_time = window_for("none", NOW, "UTC")
    with pytest.raises(ValueError, match="the 'none' window covers all time: it has no neighbours"):
        all_time.next()


# --- aggregates ------------------------------------------------------------------------------


def test_an_empty_window_reads_zeros_with_its_elapsed_fraction() -> None:
    window = window_for("day", NOW, "UTC")
    assert WindowStats.empty(window, NOW) == WindowStats(
        window, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0.5, 0.0
    )
    assert stats_from_totals(
        window, NOW, total=0.0, count=0, minimum=0.0, maximum=0.0, last=0.0, covered_until=None
    ) == WindowStats.empty(window, NOW)


def test_negative_readings_keep_their_minimum_maximum_and_last() -> None:
    window = window_for("day", NOW, "UTC")
    readings = [
        Reading(window.start + timedelta(hours=1), timedelta(hours=1), -2.0),
        Reading(window.start, timedelta(hours=1), -5.0),
    ]
    stats = aggregate(readings, window, NOW)
    assert (stats.min, stats.max, stats.last, stats.count) == (-5.0, -2.0, -2.0, 2)
    assert stats.projected == -7.0 / (2 / 24)


def test_projection_without_coverage_is_the_total_so_far() -> None:
    window = window_for("day", NOW, "UTC")
    kwargs: dict[str, Any] = {"total": 6.0, "count": 2, "minimum": 1.0, "maximum": 5.0, "last": 5.0}
    assert stats_from_totals(window, NOW, covered_until=None, **kwargs).projected == 6.0
    start = stats_from_totals(window, NOW, covered_until=window.start, **kwargs)
    assert start.projected == 6.0
    quarter = stats_from_totals(
        window, NOW, covered_until=window.start + timedelta(hours=6), **kwargs
    )
    assert quarter.projected == 24.0
    all_time = window_for("none", NOW, "UTC")
    assert stats_from_totals(all_time, NOW, covered_until=NOW, **kwargs).projected == 6.0


def test_a_reading_ending_at_the_same_time_as_another_leaves_coverage_alone() -> None:
    window = window_for("day", NOW, "UTC")
    readings = [
        Reading(window.start, timedelta(hours=6), 1.0),
        Reading(window.start + timedelta(hours=3), timedelta(hours=3), 1.0),
        Reading(window.start + timedelta(hours=1), timedelta(hours=1), 1.0),
    ]
    assert aggregate(readings, window, NOW).projected == 3.0 / (6 / 24)


# --- event rules and back-tests --------------------------------------------------------------


def test_an_event_rule_reads_the_event_and_the_customer() -> None:
    rule = compile_rule(RuleDefinition.model_validate(BILL_RULE), version=4)
    assert rule.version == 4 and rule.key == "billing.bill_above" and rule.window_kind == "none"
    bill = Event("bill.issued", NOW, amount=61.0)
    assert evaluate_event(rule, Context({"limit": 50.0}, VIENNA, NOW, event=bill)).result is True
    other = Customer(locale="en", timezone="UTC")
    assert evaluate_event(rule, Context({"limit": 50.0}, other, NOW, event=bill)).result is False
    with pytest.raises(RuleError) as info:
        evaluate_event(rule, Context({"limit": 50.0}, VIENNA, NOW))
    assert str(info.value) == "event and schedule rules need a context with an event"


def test_assess_refuses_what_is_not_a_threshold_window() -> None:
    event_rule = compile_rule(RuleDefinition.model_validate(BILL_RULE))
    daily = compile_rule(RuleDefinition.model_validate(DAILY_RULE))
    window = window_for("day", NOW, "UTC")
    stats = WindowStats.empty(window, NOW)
    message = "assess needs a threshold rule and a context with a window"
    with pytest.raises(RuleError) as info:
        assess(event_rule, Context({"limit": 50.0}, VIENNA, NOW, stats), None)
    assert str(info.value) == message
    with pytest.raises(RuleError) as info:
        assess(daily, Context({"limit": 50.0}, VIENNA, NOW), None)
    assert str(info.value) == message


def test_event_back_tests_report_each_hit_in_full() -> None:
    rule = compile_rule(RuleDefinition.model_validate(BILL_RULE))
    at = datetime(2026, 2, 1, 8, tzinfo=UTC)
    hits = backtest_events(rule, {"limit": 60}, VIENNA, [Event("bill.issued", at, amount=61.0)])
    assert hits == [
        BacktestHit(
            "fire",
            "e:bill.issued@2026-02-01T08:00:00Z",
            at,
            at,
            at,
            61.0,
            {
                "now": "2026-02-01T08:00:00Z",
                "params": {"limit": 60.0},
                "event": {
                    "type": "bill.issued",
                    "occurred_at": "2026-02-01T08:00:00Z",
                    "amount": 61.0,
                    "due_date": None,
                    "fields": {},
                },
            },
        )
    ]
    other = Customer(locale="en", timezone="UTC")
    assert backtest_events(rule, {}, other, [Event("bill.issued", at, amount=99.0)]) == []


def test_threshold_back_tests_see_the_customer_and_refuse_event_rules() -> None:
    daily = compile_rule(RuleDefinition.model_validate(DAILY_RULE))
    day = datetime(2026, 2, 1, 23, tzinfo=UTC)  # 2 February in Vienna
    readings = [Reading(day + timedelta(hours=h), timedelta(hours=1), 4.0) for h in range(3)]
    [hit] = backtest(daily, {"limit": 10}, VIENNA, readings)
    assert (hit.action, hit.window_start, hit.window_end) == (
        "fire",
        day,
        day + timedelta(days=1),
    )
    assert (hit.at, hit.value) == (day + timedelta(hours=3), 12.0)
    assert (
        backtest(daily, {"limit": 10}, Customer(timezone="Europe/Berlin", locale="de-AT"), readings)
        == []
    )
    with pytest.raises(RuleError) as info:
        backtest(compile_rule(RuleDefinition.model_validate(BILL_RULE)), {}, VIENNA, readings)
    assert str(info.value) == "backtest replays readings: use backtest_events for event rules"


def test_state_read_back_from_json_with_a_z_suffix() -> None:
    state = TriggerState.from_json(
        {
            "window_start": "2026-03-01T23:00:00Z",
            "status": "fired",
            "fires": 1,
            "last_value": 12.5,
            "fired_value": 12.5,
        }
    )
    assert state.window_start == datetime(2026, 3, 1, 23, tzinfo=UTC)


# --- conditions that fail at run time --------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("customer.attributes.missing == 'x'", 'NOT_FOUND: Key not found in map : "missing"'),
        ("int(window.sum) / 0 > 1", "INVALID_ARGUMENT: divide by zero"),
    ],
)
def test_a_failing_condition_is_false_and_keeps_what_it_saw(source: str, error: str) -> None:
    rule = compile_rule(RuleDefinition.model_validate({**DAILY_RULE, "condition": source}))
    window = window_for("day", NOW, "UTC")
    ctx = Context({"limit": 10.0}, VIENNA, NOW, WindowStats.empty(window, NOW))
    _, _, evaluation = assess(rule, ctx, None)
    assert (evaluation.result, evaluation.error) == (False, error)
    assert evaluation.values == context_values(ctx)


# --- rule definitions and trigger state ------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({**BILL_RULE, "rearm": {"mode": "on_leave"}}, "rearm.mode: only threshold rules re-arm"),
        (
            {**DAILY_RULE, "event_type": "bill.issued"},
            "event_type: threshold rules watch a metric, not events",
        ),
    ],
)
def test_a_rule_that_mixes_kinds_is_refused_with_its_reason(
    changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValidationError) as info:
        RuleDefinition.model_validate(changes)
    assert [e["msg"] for e in info.value.errors()] == [f"Value error, {problem}"]


def test_a_reminder_may_come_on_the_day_itself_but_not_after_it() -> None:
    unbounded = [{"name": "days_before", "type": "int", "default": 14}]
    local_time = [p for p in CHECKUP_REMINDER["parameters"] if p["name"] == "local_time"]
    reminder = RuleDefinition.model_validate(
        {**CHECKUP_REMINDER, "parameters": unbounded + local_time}
    )
    assert reminder.validate_params({"days_before": 0})["days_before"] == 0
    with pytest.raises(ParameterError) as info:
        reminder.validate_params({"days_before": -1})
    assert info.value.errors == [("days_before", "must be a whole number of days, 0 or more")]


def test_a_late_transition_is_one_past_the_allowed_hours() -> None:
    rule = RuleDefinition.model_validate({**DAILY_RULE, "late_policy": {"notify_within_hours": 6}})
    window = window_for("day", NOW, "UTC")
    limit = window.end + timedelta(hours=6)
    assert not is_late(window, rule, limit)
    assert is_late(window, rule, limit + timedelta(seconds=1))
    assert not is_late(window_for("none", NOW, "UTC"), rule, limit + timedelta(days=999))


def test_firing_records_the_window_and_the_value_it_fired_at() -> None:
    rule = RuleDefinition.model_validate(DAILY_RULE)
    window = window_for("day", NOW, "UTC")
    fired = Observation(window, Evaluation(True, {"x": 1}), value=12.0)
    state, decision = step(None, fired, rule, NOW)
    assert state == TriggerState(window.start, "fired", 1, 12.0, 12.0)
    assert decision == Decision(
        "fire", transition_id(window, 1), window.start, window.end, NOW, 12.0, {"x": 1}
    )
    later = Observation(window, Evaluation(True), value=13.0)
    assert step(state, later, rule, NOW) == (
        TriggerState(window.start, "fired", 1, 13.0, 12.0),
        None,
    )
    failed = Observation(window, Evaluation(False, error="boom"), value=14.0)
    assert step(state, failed, rule, NOW)[0] == TriggerState(window.start, "fired", 1, 14.0, 12.0)


def test_re_arming_keeps_the_value_it_left_at() -> None:
    rule = RuleDefinition.model_validate(
        {**DAILY_RULE, "aggregate": "last", "rearm": {"mode": "on_leave"}}
    )
    window = window_for("day", NOW, "UTC")
    state = TriggerState(window.start, "fired", 1, 12.0, 12.0)
    left = Observation(window, Evaluation(False), value=3.0)
    assert step(state, left, rule, NOW) == (TriggerState(window.start, "armed", 1, 3.0, None), None)


def test_only_schedule_rules_limit_days_before() -> None:
    param = [{"name": "days_before", "type": "int", "min": -5, "default": 0}]
    rule = RuleDefinition.model_validate(
        {**DAILY_RULE, "parameters": param, "condition": "window.sum > 1.0"}
    )
    assert rule.validate_params({"days_before": -1}) == {"days_before": -1}


def test_a_compiler_message_without_a_position_points_at_the_start() -> None:
    error = _compile_error("  something broke  ")
    assert (error.message, error.line, error.column) == ("something broke", 1, 1)
    empty = _compile_error("")
    assert (empty.message, empty.line, empty.column) == ("condition does not compile", 1, 1)


def test_a_failure_with_an_unreadable_context_still_answers() -> None:
    condition = compile_condition("window.sum > 1.0", "threshold", ())
    naive = Context({}, VIENNA, datetime(2026, 3, 1, 12))  # no window, and a naive clock
    evaluation = evaluate(condition, naive)
    assert (evaluation.result, evaluation.values) == (False, {})
    assert evaluation.error == "'NoneType' object has no attribute 'sum'"


HYSTERESIS_RULE = {
    **DAILY_RULE,
    "aggregate": "last",
    "condition": "window.last > params.limit",
    "rearm": {"mode": "on_leave", "hysteresis": 1.0},
}


@pytest.mark.parametrize(
    ("last", "fired_value", "status"),
    [
        (9.5, 12.0, "fired"),  # 9.5 + 1 is still above 10: too close to re-arm
        (8.5, 12.0, "armed"),  # a full step below: re-armed
        (9.5, None, "armed"),  # nothing to measure against: re-armed
    ],
)
def test_hysteresis_keeps_a_trigger_fired_until_the_value_has_really_left(
    last: float, fired_value: float | None, status: str
) -> None:
    rule = compile_rule(RuleDefinition.model_validate(HYSTERESIS_RULE))
    window = window_for("day", NOW, "UTC")
    stats = aggregate([Reading(window.start, timedelta(hours=1), last)], window, NOW)
    state = TriggerState(window.start, "fired", 1, 12.0, fired_value)
    new_state, decision, evaluation = assess(
        rule, Context({"limit": 10.0}, VIENNA, NOW, stats), state
    )
    assert (new_state.status, decision, evaluation.result) == (status, None, False)
    assert new_state.last_value == last


def test_units_and_currencies_are_told_apart() -> None:
    assert is_currency("EUR") and not is_currency("kWh") and not is_currency("eur")
    assert normalise(1.0, " MWh ") == (1000.0, "kWh")
