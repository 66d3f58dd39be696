"""The rule definition that operations staff author, with its cross-field checks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rules.aggregates import CUMULATIVE, AggregateName
from rules.errors import ParameterError
from rules.params import LocalizedText, ParameterSpec, validate_params
from rules.windows import WindowKind

RuleKind = Literal["threshold", "event", "schedule"]
Urgency = Literal["normal", "urgent"]
RearmMode = Literal["once_per_window", "on_leave"]
CapPolicy = Literal["defer", "suppress"]  # beyond a customer's frequency cap

MAX_CONDITION_LENGTH = 4000
DEFAULT_BASELINE_WINDOWS = 4
_DOTTED = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
_NAME = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_SCHEDULE_PARAMS = {"days_before": ("int", "double"), "local_time": ("time",)}


class RearmPolicy(BaseModel):
    """When a fired trigger may fire again inside the same window (``on_leave``) or not."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: RearmMode = "once_per_window"
    hysteresis: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class LatePolicy(BaseModel):
    """How long after a window's end a condition that turns true still notifies (None: always)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notify_within_hours: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class RuleDefinition(BaseModel):
    """A rule as authored: what it watches, its parameters, condition and delivery options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=_DOTTED, max_length=120)
    title: LocalizedText
    description: LocalizedText = Field(default_factory=dict)
    topic: str = Field(pattern=_NAME, max_length=80)
    kind: RuleKind
    metric: str | None = Field(default=None, pattern=_NAME, max_length=80)
    event_type: str | None = Field(default=None, pattern=_NAME, max_length=80)
    window: WindowKind | None = None
    aggregate: AggregateName | None = None
    baseline_windows: int = Field(default=DEFAULT_BASELINE_WINDOWS, ge=1, le=366)
    parameters: tuple[ParameterSpec, ...] = ()
    condition: str = Field(default="true", min_length=1, max_length=MAX_CONDITION_LENGTH)
    urgency: Urgency = "normal"
    rearm: RearmPolicy = Field(default_factory=RearmPolicy)
    late_policy: LatePolicy = Field(default_factory=LatePolicy)
    template_key: str = Field(pattern=_NAME, max_length=120)
    requires_ack: bool = False
    escalation_delay_minutes: float = Field(default=60.0, gt=0, le=7 * 24 * 60)
    cap_policy: CapPolicy = "defer"

    @field_validator("title", "description")
    @classmethod
    def _locales(cls, text: LocalizedText) -> LocalizedText:
        bad = [locale for locale in text if not _LOCALE.match(locale)]
        if bad:
            raise ValueError(f"not BCP 47 locales: {', '.join(bad)}")
        return text

    @field_validator("title")
    @classmethod
    def _title_present(cls, text: LocalizedText) -> LocalizedText:
        if not any(value.strip() for value in text.values()):
            raise ValueError("needs a title in at least one locale")
        return text

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = _parameter_problems(self) + _KIND_CHECKS[self.kind](self)
        if self.rearm.hysteresis is not None and self.rearm.mode != "on_leave":
            problems.append("rearm.hysteresis: applies only to rearm mode on_leave")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.parameters)

    def validate_params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A customer's parameter values checked against this rule (raises ParameterError)."""
        checked = validate_params(self.parameters, values)
        days = checked.get("days_before") if self.kind == "schedule" else None
        if days is not None and (days < 0 or not float(days).is_integer()):
            raise ParameterError([("days_before", "must be a whole number of days, 0 or more")])
        return checked


def _parameter_problems(rule: RuleDefinition) -> list[str]:
    names = rule.parameter_names
    duplicates = sorted({name for name in names if names.count(name) > 1})
    return [f"parameters: duplicate name {name!r}" for name in duplicates]


def _threshold_problems(rule: RuleDefinition) -> list[str]:
    problems = [
        f"{name}: required for threshold rules"
        for name in ("metric", "window", "aggregate")
        if getattr(rule, name) is None
    ]
    if rule.event_type is not None:
        problems.append("event_type: threshold rules watch a metric, not events")
    if rule.rearm.mode == "on_leave" and rule.aggregate in CUMULATIVE:
        problems.append(
            f"rearm.mode: on_leave needs a non-cumulative aggregate (avg, min, max, last), "
            f"not {rule.aggregate}"
        )
    return problems


def _event_problems(rule: RuleDefinition) -> list[str]:
    problems = [] if rule.event_type else [f"event_type: required for {rule.kind} rules"]
    problems += [
        f"{name}: only threshold rules use it"
        for name in ("metric", "window", "aggregate")
        if getattr(rule, name) is not None
    ]
    if rule.rearm.mode != "once_per_window":
        problems.append("rearm.mode: only threshold rules re-arm")
    return problems


def _schedule_problems(rule: RuleDefinition) -> list[str]:
    declared = {spec.name: spec.type for spec in rule.parameters}
    problems = _event_problems(rule)
    for name, types in _SCHEDULE_PARAMS.items():
        if declared.get(name) not in types:
            problems.append(
                f"parameters: schedule rules need {name!r} of type {' or '.join(types)}"
            )
    return problems


_KIND_CHECKS = {
    "threshold": _threshold_problems,
    "event": _event_problems,
    "schedule": _schedule_problems,
}
