"""Back-test over a small hand-computed series, for threshold and event rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from rules.aggregates import Reading
from rules.backtest import backtest, backtest_events
from rules.context import Customer, Event
from rules.errors import ParameterError
from rules.schema import RuleDefinition
from rules.trigger import CompiledRule, compile_rule

LA = Customer(locale="en-US", timezone="America/Los_Angeles")
H = timedelta(hours=1)


def threshold(condition: str, **changes: Any) -> CompiledRule:
    data: dict[str, Any] = {
        "key": "energy.daily_above",
        "title": {"en": "Daily use"},
        "topic": "energy",
        "kind": "threshold",
        "metric": "electricity",
        "window": "day",
        "aggregate": "sum",
        "parameters": [{"name": "limit", "type": "double", "min": 0, "default": 10}],
        "condition": condition,
        "template_key": "energy.daily_above",
    }
    return compile_rule(RuleDefinition.model_validate(data | changes))


def six_hourly(day: datetime, *values: float) -> list[Reading]:
    return [Reading(day + 6 * i * H, 6 * H, v) for i, v in enumerate(values)]


# Local days in Los Angeles: 2011-03-12 (24 h), 2011-03-13 (23 h, DST), 2011-03-14 (24 h).
D12 = datetime(2011, 3, 12, 8, tzinfo=UTC)
D13 = datetime(2011, 3, 13, 8, tzinfo=UTC)
D14 = datetime(2011, 3, 14, 7, tzinfo=UTC)
SHORT_DAY = [Reading(D13 + 6 * i * H, (5 if i == 3 else 6) * H, 1.0) for i in range(4)]
SERIES = six_hourly(D12, 2, 3, 4, 2) + SHORT_DAY + six_hourly(D14, 5, 6, 1, 1)


def test_fires_in_each_local_day_whose_sum_crosses_the_limit() -> None:
    hits = backtest(threshold("window.sum > params.limit"), {}, LA, SERIES)
    # Day 12 reaches 11 with its fourth reading; day 13 totals 4; day 14 reaches 11 with its second.
    assert [(h.window_start, h.value, h.at) for h in hits] == [
        (D12, 11.0, D12 + 24 * H),
        (D14, 11.0, D14 + 12 * H),
    ]
    assert hits[1].transition_id == "w:2011-03-14T07:00:00Z#1"
    assert hits[1].values["window"]["count"] == 2


def test_parameters_change_the_outcome() -> None:
    hits = backtest(threshold("window.sum > params.limit"), {"limit": 3.5}, LA, SERIES)
    assert [h.window_start for h in hits] == [D12, D13, D14]
    assert [h.value for h in hits] == [5.0, 4.0, 5.0]


def test_previous_and_baseline_come_from_earlier_local_days() -> None:
    compiled = threshold(
        "previous.count > 0 && window.sum > 2.0 * previous.sum && window.sum > baseline.sum",
        baseline_windows=2,
    )
    hits = backtest(compiled, {}, LA, SERIES)
    # Day 14 passes twice day 13 (4 kWh) at 11 kWh, also above the 2-day baseline of 7.5.
    assert [(h.window_start, h.value) for h in hits] == [(D14, 11.0)]
    assert hits[0].values["baseline"] == {
        "sum": 7.5,
        "avg": 1.875,
        "min": 1.5,
        "max": 2.5,
        "last": 1.5,
        "count": 4.0,
        "windows": 2,
    }


def test_corrections_in_the_input_replace_earlier_values() -> None:
    corrected = [*SERIES, Reading(D13, 6 * H, 9.0)]  # day 13 becomes 12 kWh
    hits = backtest(threshold("window.sum > params.limit"), {}, LA, corrected)
    assert [h.window_start for h in hits] == [D12, D13, D14]


def test_invalid_parameters_are_rejected() -> None:
    with pytest.raises(ParameterError):
        backtest(threshold("window.sum > params.limit"), {"limit": -1}, LA, SERIES)


def test_event_rules_back_test_over_events() -> None:
    rule = compile_rule(
        RuleDefinition.model_validate(
            {
                "key": "billing.bill_above",
                "title": {"en": "Bill above"},
                "topic": "billing",
                "kind": "event",
                "event_type": "bill.issued",
                "parameters": [{"name": "limit", "type": "double", "default": 50}],
                "condition": "event.amount > params.limit",
                "template_key": "billing.bill_above",
            }
        )
    )
    events = [
        Event("bill.issued", datetime(2026, 2, 1, tzinfo=UTC), amount=61.0),
        Event("bill.issued", datetime(2026, 1, 1, tzinfo=UTC), amount=40.0),
        Event(
            "bill.issued", datetime(2026, 3, 1, tzinfo=UTC), amount=75.0, due_date=date(2026, 3, 20)
        ),
    ]
    hits = backtest_events(rule, {}, LA, events)
    assert [h.value for h in hits] == [61.0, 75.0]
    assert hits[0].transition_id == "e:bill.issued@2026-02-01T00:00:00Z"
