"""The trigger state machine: fire on the edge (false → true), at most once per window.

State is kept per trigger *and window* (keyed by the window start), so late data for an older
window steps that window's own state. With ``on_leave`` a fired trigger re-arms when the
condition is false *and* would still be false with the watched aggregate moved ``hysteresis``
back toward the value at which it fired (``Observation.within_hysteresis``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from rules.condition import Evaluation
from rules.schema import RuleDefinition
from rules.windows import Window, iso_utc

Status = Literal["armed", "fired"]
Action = Literal["fire", "suppressed_late"]


# Built on every evaluation; frozen dataclasses would add about a microsecond each.
@dataclass(slots=True)
class TriggerState:
    """One trigger's state in one window; ``fires`` counts transitions (fired or suppressed)."""

    window_start: datetime
    status: Status = "armed"
    fires: int = 0
    last_value: float | None = None
    fired_value: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "window_start": iso_utc(self.window_start),
            "status": self.status,
            "fires": self.fires,
            "last_value": self.last_value,
            "fired_value": self.fired_value,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TriggerState:
        start = datetime.fromisoformat(data["window_start"].replace("Z", "+00:00"))
        return cls(start, data["status"], data["fires"], data["last_value"], data["fired_value"])


# Built on every evaluation; frozen dataclasses would add about a microsecond each.
@dataclass(slots=True)
class Observation:
    """One evaluation of a trigger in ``window``; ``value`` is the rule's watched aggregate."""

    window: Window
    evaluation: Evaluation
    value: float | None = None
    within_hysteresis: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """A transition to record: notify (``fire``) or record as too late (``suppressed_late``);
    what live evaluation decides and what a back-test says it would have decided."""

    action: Action
    transition_id: str
    window_start: datetime
    window_end: datetime
    at: datetime
    value: float | None
    values: dict[str, Any] = field(default_factory=dict)


def transition_id(window: Window, ordinal: int) -> str:
    """Deterministic id of the ``ordinal``-th transition in ``window``: ``w:<start>#<n>``."""
    return f"w:{window.key}#{ordinal}"


def step(
    state: TriggerState | None, obs: Observation, rule: RuleDefinition, now: datetime
) -> tuple[TriggerState, Decision | None]:
    """Advance ``state`` (None: new window) by one observation; a Decision on a rising edge."""
    current = state or TriggerState(obs.window.start)
    if current.window_start != obs.window.start:
        raise ValueError(
            f"state of window {iso_utc(current.window_start)} used for {obs.window.key}"
        )
    result, error = obs.evaluation.result, obs.evaluation.error
    if error is None and result and current.status == "armed":
        return _fire(current, obs, rule, now)
    if error is None and not result and _rearms(current, obs, rule):
        return TriggerState(current.window_start, "armed", current.fires, obs.value), None
    # A failed evaluation neither fires nor re-arms: errors must not cause extra notifications.
    return _observed(current, obs.value), None


def is_late(window: Window, rule: RuleDefinition, now: datetime) -> bool:
    """Whether a transition decided at ``now`` is past the rule's late-notification limit."""
    hours = rule.late_policy.notify_within_hours
    if hours is None or window.kind == "none":
        return False
    return now > window.end + timedelta(hours=hours)


def _fire(
    current: TriggerState, obs: Observation, rule: RuleDefinition, now: datetime
) -> tuple[TriggerState, Decision]:
    ordinal = current.fires + 1
    action: Action = "suppressed_late" if is_late(obs.window, rule, now) else "fire"
    decision = Decision(
        action=action,
        transition_id=transition_id(obs.window, ordinal),
        window_start=obs.window.start,
        window_end=obs.window.end,
        at=now,
        value=obs.value,
        values=obs.evaluation.values,
    )
    fired = TriggerState(obs.window.start, "fired", ordinal, obs.value, obs.value)
    return fired, decision


def _observed(current: TriggerState, value: float | None) -> TriggerState:
    return TriggerState(
        current.window_start, current.status, current.fires, value, current.fired_value
    )


def _rearms(current: TriggerState, obs: Observation, rule: RuleDefinition) -> bool:
    if current.status != "fired" or rule.rearm.mode != "on_leave":
        return False
    return not obs.within_hysteresis
