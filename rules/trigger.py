"""A compiled rule and the one call the engine makes per threshold evaluation: ``assess``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rules.condition import CompiledCondition, Evaluation, compile_condition, evaluate
from rules.context import Context
from rules.errors import RuleError
from rules.schema import RuleDefinition
from rules.state import Decision, Observation, TriggerState, step
from rules.windows import WindowKind


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A validated rule version with its type-checked condition."""

    definition: RuleDefinition
    version: int
    condition: CompiledCondition

    @property
    def key(self) -> str:
        return self.definition.key

    @property
    def window_kind(self) -> WindowKind:
        return self.definition.window or "none"


def compile_rule(rule: RuleDefinition, version: int = 0) -> CompiledRule:
    """Type-check the rule's condition (cached by condition, kind and parameter types)."""
    condition = compile_condition(rule.condition, rule.kind, rule.parameters)
    return CompiledRule(rule, version, condition)


def assess(
    rule: CompiledRule,
    ctx: Context,
    state: TriggerState | None,
    evaluation: Evaluation | None = None,
) -> tuple[TriggerState, Decision | None, Evaluation]:
    """Evaluate a threshold rule on ``ctx`` and step the state of ``ctx.window``'s window.
    ``evaluation``: the condition's outcome on this very ``ctx``, if the caller has it already
    (it is not run again)."""
    if ctx.window is None or rule.definition.kind != "threshold":
        raise RuleError("assess needs a threshold rule and a context with a window")
    if evaluation is None:
        evaluation = evaluate(rule.condition, ctx)
    value = _watched(rule, ctx)
    within = _within_hysteresis(rule, ctx, state, evaluation, value)
    obs = Observation(ctx.window.window, evaluation, value, within)
    new_state, decision = step(state, obs, rule.definition, ctx.now)
    return new_state, decision, evaluation


def evaluate_event(rule: CompiledRule, ctx: Context) -> Evaluation:
    """Evaluate an event or schedule rule on ``ctx`` (the caller dedupes by event or occurrence)."""
    if ctx.event is None:
        raise RuleError("event and schedule rules need a context with an event")
    return evaluate(rule.condition, ctx)


def _watched(rule: CompiledRule, ctx: Context) -> float | None:
    aggregate = rule.definition.aggregate
    if ctx.window is None or aggregate is None:
        return None
    return ctx.window.value(aggregate)


def _within_hysteresis(
    rule: CompiledRule,
    ctx: Context,
    state: TriggerState | None,
    evaluation: Evaluation,
    value: float | None,
) -> bool:
    """Whether the condition would hold again with the value moved back by the hysteresis."""
    margin = rule.definition.rearm.hysteresis
    aggregate = rule.definition.aggregate
    if not margin or state is None or state.status != "fired" or evaluation.result:
        return False
    if value is None or state.fired_value is None or aggregate is None:
        return False
    toward = math.copysign(margin, state.fired_value - value)
    overrides: Mapping[str, Any] = {f"window.{aggregate}": value + toward}
    probe = evaluate(rule.condition, ctx, overrides)
    # A probe that fails counts as holding: an error must not re-arm and cause a repeat.
    return probe.result or probe.error is not None
