"""The trigger state machine: edge firing, once per window, re-arm, hysteresis, late data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.aggregates import Reading, aggregate
from rules.backtest import backtest
from rules.condition import Evaluation
from rules.context import Context, Customer
from rules.schema import RuleDefinition
from rules.state import Decision, Observation, TriggerState, step
from rules.trigger import CompiledRule, assess, compile_rule
from rules.windows import window_for

BERLIN = Customer(locale="de-DE", timezone="Europe/Berlin")
DAY1 = window_for("day", datetime(2026, 3, 2, 12, tzinfo=UTC), "Europe/Berlin")
HOUR = timedelta(hours=1)


def rule(**changes: Any) -> CompiledRule:
    data: dict[str, Any] = {
        "key": "energy.daily_above",
        "title": {"en": "Daily use above a limit"},
        "topic": "energy",
        "kind": "threshold",
        "metric": "electricity",
        "window": "day",
        "aggregate": "sum",
        "parameters": [{"name": "limit", "type": "double", "default": 12}],
        "condition": "window.sum > params.limit",
        "template_key": "energy.daily_above",
    }
    return compile_rule(RuleDefinition.model_validate(data | changes), version=1)


ON_LEAVE = {
    "aggregate": "last",
    "condition": "window.last > params.limit",
    "rearm": {"mode": "on_leave"},
}


class Live:
    """The engine's loop in miniature: store readings by key, re-evaluate the touched window."""

    def __init__(self, compiled: CompiledRule, params: dict[str, Any] | None = None) -> None:
        self.rule = compiled
        self.params = compiled.definition.validate_params(params or {})
        self.stored: dict[tuple[datetime, timedelta], Reading] = {}
        self.states: dict[datetime, TriggerState] = {}
        self.decisions: list[Decision] = []

    def receive(self, reading: Reading, now: datetime | None = None) -> Decision | None:
        self.stored[(reading.start, reading.duration)] = reading
        window = window_for(self.rule.window_kind, reading.start, BERLIN.timezone)
        arrival = now or reading.start + reading.duration
        stats = aggregate(self.stored.values(), window, arrival)
        ctx = Context(self.params, BERLIN, arrival, stats)
        state, decision, _ = assess(self.rule, ctx, self.states.get(window.start))
        # What the engine persists, read back as after a restart.
        self.states[window.start] = TriggerState.from_json(state.to_json())
        if decision is not None:
            self.decisions.append(decision)
        return decision


def at(hour: float, value: float, window_start: datetime = DAY1.start) -> Reading:
    return Reading(window_start + hour * HOUR, HOUR, value)


def test_fires_once_when_the_sum_crosses_and_not_again_in_that_window() -> None:
    live = Live(rule())
    assert live.receive(at(0, 5.0)) is None
    fired = live.receive(at(1, 8.0))
    assert live.receive(at(2, 3.0)) is None
    assert fired is not None and fired.action == "fire"
    assert fired.transition_id == "w:2026-03-01T23:00:00Z#1"
    assert fired.value == 13.0
    assert fired.values["window"]["sum"] == 13.0


def test_re_arms_in_the_next_window() -> None:
    live = Live(rule())
    live.receive(at(0, 13.0))
    second = live.receive(at(0, 13.0, window_start=DAY1.end))
    assert second is not None
    assert second.transition_id == f"w:{DAY1.next().key}#1"


def test_identical_reading_again_changes_nothing() -> None:
    live = Live(rule())
    live.receive(at(0, 13.0))
    assert live.receive(at(0, 13.0)) is None
    assert len(live.decisions) == 1


def test_correction_that_crosses_the_limit_fires() -> None:
    live = Live(rule())
    live.receive(at(0, 6.0))
    assert live.receive(at(1, 5.0)) is None
    corrected = live.receive(at(1, 7.0))
    assert corrected is not None and corrected.value == 13.0


def test_correction_back_below_does_not_re_fire_a_cumulative_rule() -> None:
    live = Live(rule())
    live.receive(at(0, 13.0))
    live.receive(at(0, 2.0))
    assert live.receive(at(0, 14.0)) is None
    assert [d.transition_id for d in live.decisions] == ["w:2026-03-01T23:00:00Z#1"]


def test_on_leave_re_arms_when_the_condition_turns_false() -> None:
    live = Live(rule(**ON_LEAVE), {"limit": 30})
    fired = [live.receive(at(h, v)) for h, v in enumerate([31.0, 32.0, 29.0, 31.0])]
    assert [d.transition_id[-2:] if d else None for d in fired] == ["#1", None, None, "#2"]


def test_hysteresis_delays_re_arming_until_the_value_moves_back_far_enough() -> None:
    compiled = rule(**ON_LEAVE | {"rearm": {"mode": "on_leave", "hysteresis": 1.0}})
    live = Live(compiled, {"limit": 30})
    values = [31.0, 29.5, 31.0, 28.9, 30.5]
    fired = [live.receive(at(h, v)) is not None for h, v in enumerate(values)]
    # 29.5 is within 1.0 of the limit, so 31.0 after it is the same excursion; 28.9 is not.
    assert fired == [True, False, False, False, True]


def test_hysteresis_applies_in_the_direction_of_the_condition() -> None:
    below = ON_LEAVE | {
        "condition": "window.last < params.limit",
        "rearm": {"mode": "on_leave", "hysteresis": 2.0},
    }
    live = Live(rule(**below), {"limit": 10})
    values = [9.0, 11.0, 9.5, 12.5, 9.0]
    assert [live.receive(at(h, v)) is not None for h, v in enumerate(values)] == [
        True,
        False,
        False,
        False,
        True,
    ]


def test_on_leave_correction_re_arms_and_fires_again() -> None:
    live = Live(rule(**ON_LEAVE), {"limit": 30})
    live.receive(at(0, 31.0))
    live.receive(at(0, 20.0))  # correction: the value never was above
    again = live.receive(at(0, 35.0))
    assert again is not None and again.transition_id.endswith("#2")


def test_late_data_updates_its_own_window_and_respects_late_policy() -> None:
    compiled = rule(late_policy={"notify_within_hours": 6})
    live = Live(compiled)
    live.receive(at(0, 1.0, window_start=DAY1.end))  # today is being tracked
    in_time = live.receive(at(3, 13.0), now=DAY1.end + 5 * HOUR)
    assert in_time is not None and in_time.action == "fire"
    assert in_time.window_start == DAY1.start

    late_live = Live(compiled)
    late = late_live.receive(at(3, 13.0), now=DAY1.end + 7 * HOUR)
    assert late is not None and late.action == "suppressed_late"
    assert late_live.receive(at(4, 1.0), now=DAY1.end + 8 * HOUR) is None


def test_without_late_policy_late_data_still_notifies() -> None:
    late = Live(rule()).receive(at(3, 13.0), now=DAY1.end + timedelta(days=30))
    assert late is not None and late.action == "fire"


def observation(result: bool, error: str | None = None) -> Observation:
    return Observation(DAY1, Evaluation(result, error=error), value=1.0)


def test_failed_evaluation_neither_fires_nor_re_arms() -> None:
    definition = rule(**ON_LEAVE).definition
    now = DAY1.start
    fired, _ = step(None, observation(True), definition, now)
    after_error, decision = step(fired, observation(False, error="boom"), definition, now)
    assert decision is None and after_error.status == "fired"
    state, decision = step(None, observation(False, error="boom"), definition, now)
    assert decision is None and state.status == "armed"


def test_state_of_another_window_is_refused() -> None:
    other = TriggerState(DAY1.end)
    with pytest.raises(ValueError, match="window"):
        step(other, observation(True), rule().definition, DAY1.start)


def test_state_survives_a_json_round_trip() -> None:
    state = TriggerState(DAY1.start, "fired", 2, 13.5, 12.5)
    assert TriggerState.from_json(state.to_json()) == state


# Quarter-kWh steps add up exactly in any order, so the limit comparison cannot flip on rounding.
hourly_values = st.lists(st.integers(0, 16).map(lambda q: q / 4), min_size=1, max_size=48)


@given(values=hourly_values, data=st.data())
def test_any_arrival_order_with_duplicates_fires_once_in_the_windows_the_data_warrants(
    values: list[float], data: st.DataObject
) -> None:
    readings = [at(h, v) for h, v in enumerate(values)]
    duplicates = data.draw(st.lists(st.sampled_from(readings), max_size=20))
    arrivals = data.draw(st.permutations(readings + duplicates))
    compiled = rule()
    live = Live(compiled)
    for reading in arrivals:
        live.receive(reading, now=DAY1.start + 72 * HOUR)

    ids = [d.transition_id for d in live.decisions]
    assert len(ids) == len(set(ids))
    fired_windows = {d.window_start for d in live.decisions}
    assert len(fired_windows) == len(live.decisions)
    totals: dict[datetime, float] = {}
    for reading in readings:
        start = window_for("day", reading.start, BERLIN.timezone).start
        totals[start] = totals.get(start, 0.0) + reading.value
    assert fired_windows == {start for start, total in totals.items() if total > 12}
    replayed = backtest(compiled, {}, BERLIN, readings)
    assert fired_windows == {hit.window_start for hit in replayed}
    assert all(tid.endswith("#1") for tid in ids)


@given(st.lists(st.floats(min_value=0, max_value=50, allow_nan=False), min_size=1, max_size=24))
def test_on_leave_fires_once_per_excursion_above_the_limit(values: list[float]) -> None:
    live = Live(rule(**ON_LEAVE), {"limit": 30})
    for hour, value in enumerate(values):
        live.receive(at(hour, value))
    above = [v > 30 for v in values]
    excursions = sum(1 for i, up in enumerate(above) if up and (i == 0 or not above[i - 1]))
    assert len(live.decisions) == excursions
    assert [d.transition_id for d in live.decisions] == [
        f"w:{DAY1.key}#{n}" for n in range(1, excursions + 1)
    ]
