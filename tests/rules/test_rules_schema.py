"""Rule definitions: field formats and the cross-field checks per kind."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from rules.errors import ParameterError
from rules.schema import RuleDefinition

BASE: dict[str, Any] = {
    "key": "energy.daily_above",
    "title": {"en": "Daily use above a limit", "de-AT": "Tagesverbrauch über Grenze"},
    "topic": "energy",
    "template_key": "energy.daily_above",
}
THRESHOLD: dict[str, Any] = BASE | {
    "kind": "threshold",
    "metric": "electricity",
    "window": "day",
    "aggregate": "sum",
    "parameters": [{"name": "limit_kwh", "type": "double", "min": 0, "default": 12}],
    "condition": "window.sum > params.limit_kwh",
}
SCHEDULE: dict[str, Any] = BASE | {
    "key": "health.checkup_reminder",
    "kind": "schedule",
    "event_type": "checkup.due",
    "parameters": [
        {"name": "days_before", "type": "double", "min": 0, "default": 14},
        {"name": "local_time", "type": "time", "default": "09:00"},
    ],
}


def rejection(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as info:
        RuleDefinition.model_validate(data)
    return str(info.value)


def test_valid_threshold_rule_has_documented_defaults() -> None:
    rule = RuleDefinition.model_validate(THRESHOLD)
    assert rule.rearm.mode == "once_per_window"
    assert rule.late_policy.notify_within_hours is None
    assert rule.urgency == "normal" and rule.requires_ack is False


@pytest.mark.parametrize("missing", ["metric", "window", "aggregate"])
def test_threshold_rules_need_metric_window_and_aggregate(missing: str) -> None:
    data = {k: v for k, v in THRESHOLD.items() if k != missing}
    assert f"{missing}: required for threshold rules" in rejection(data)


def test_event_rules_need_an_event_type_and_no_metric() -> None:
    message = rejection(BASE | {"kind": "event", "metric": "electricity"})
    assert "event_type: required" in message
    assert "metric: only threshold rules use it" in message


def test_schedule_rules_need_days_before_and_local_time() -> None:
    data = SCHEDULE | {"parameters": [{"name": "days_before", "type": "string"}]}
    message = rejection(data)
    assert "'days_before' of type int or double" in message
    assert "'local_time' of type time" in message
    assert RuleDefinition.model_validate(SCHEDULE).kind == "schedule"


def test_on_leave_needs_a_non_cumulative_aggregate() -> None:
    data = THRESHOLD | {"rearm": {"mode": "on_leave", "hysteresis": 0.5}}
    assert "on_leave needs a non-cumulative aggregate" in rejection(data)
    fine = data | {"aggregate": "max", "condition": "window.max > params.limit_kwh"}
    assert RuleDefinition.model_validate(fine).rearm.hysteresis == 0.5


def test_hysteresis_only_with_on_leave() -> None:
    data = THRESHOLD | {"rearm": {"mode": "once_per_window", "hysteresis": 1.0}}
    assert "hysteresis: applies only to rearm mode on_leave" in rejection(data)


def test_negative_late_window_is_rejected() -> None:
    assert "notify_within_hours" in rejection(
        THRESHOLD | {"late_policy": {"notify_within_hours": -1}}
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("key", "Energy.Daily"),
        ("key", "energy"),
        ("title", {"english": "x"}),
        ("title", {"en": "  "}),
        ("window", "fortnight"),
        ("aggregate", "median"),
        ("urgency", "critical"),
        ("escalation_delay_minutes", 0),
    ],
)
def test_malformed_fields_are_rejected(field: str, value: Any) -> None:
    assert field in rejection(THRESHOLD | {field: value})


def test_duplicate_parameter_names_are_rejected() -> None:
    spec = {"name": "limit_kwh", "type": "double"}
    assert "duplicate name 'limit_kwh'" in rejection(THRESHOLD | {"parameters": [spec, spec]})


def test_schedule_days_before_must_be_whole_days() -> None:
    rule = RuleDefinition.model_validate(SCHEDULE)
    assert rule.validate_params({"days_before": 7}) == {"days_before": 7.0, "local_time": "09:00"}
    with pytest.raises(ParameterError) as info:
        rule.validate_params({"days_before": 1.5})
    assert info.value.errors[0][0] == "days_before"
