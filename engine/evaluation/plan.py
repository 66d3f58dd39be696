"""A threshold trigger with what evaluating it needs, worked out once and kept in the ingest
cache until the tenant's configuration changes."""

from __future__ import annotations

from typing import NamedTuple, TypeVar

import msgspec

from engine.catalog.compiled import CompiledRule, compiled_version
from engine.customers.refs import CustomerRef
from engine.evaluation.active import ActiveTrigger
from engine.evaluation.context import customer_context
from rules.context import Customer as CustomerContext
from rules.shapes import Bound, Shape, shape_of


class Plan(msgspec.Struct, frozen=True, gc=False):
    """A trigger, its compiled rule version, its customer and the aggregate stream it reads.
    Kept in the ingest cache, one per trigger: never part of a reference cycle (nothing it
    holds refers back to it), so the garbage collector need not walk it."""

    trigger: ActiveTrigger
    rule: CompiledRule
    customer: CustomerContext
    stream: tuple[str, str, str]  # customer id, metric, window kind
    earlier: int  # earlier windows the condition reads (previous, baseline)
    # A recognised condition with this trigger's bounds: windows where it is false are
    # counted without running it. None for rules that re-arm on leave (a false result
    # steps their state) and where the bounds cannot be worked out.
    shape: Shape | None = None
    bounds: tuple[Bound, ...] | None = None

    @classmethod
    def of(cls, trigger: ActiveTrigger, customer: CustomerRef) -> Plan:
        common = _common(trigger)
        version = common.version
        return cls(
            trigger,
            version.rule,
            customer_context(customer),
            (trigger.customer_id, version.metric, version.window),
            version.earlier,
            common.shape,
            common.bounds,
        )

    @property
    def metric(self) -> str:
        return self.stream[1]

    @property
    def reads_baseline(self) -> bool:
        return self.rule.reads_baseline

    @property
    def rearms_on_leave(self) -> bool:
        return self.rule.definition.rearm.mode == "on_leave"


class _Version(NamedTuple):
    """What every trigger of one rule version has in common."""

    rule: CompiledRule
    metric: str
    window: str
    earlier: int
    shape: Shape | None


class _Common(NamedTuple):
    """What every trigger of one rule version with one parameters text has in common."""

    version: _Version
    shape: Shape | None  # None where the bounds cannot be worked out
    bounds: tuple[Bound, ...] | None


# A published rule version never changes, and neither do the bounds its shape gives for one
# parameters text: both are worked out once, not once per trigger (a tenant's first batches
# plan one trigger per reading, mostly of one version and a few distinct parameters).
_VERSIONS: dict[tuple[str, int], _Version] = {}
_COMMON: dict[tuple[str, int, str], _Common] = {}
_MAX_ENTRIES = 4096

K = TypeVar("K")
V = TypeVar("V")


def _common(trigger: ActiveTrigger) -> _Common:
    """Once per version and distinct parameters text (each time for a trigger without one)."""
    text = trigger.params_text
    if text is None:
        return _with_bounds(trigger)
    key = (trigger.rule_version_id, trigger.version, text)
    found = _COMMON.get(key)
    if found is None:
        found = _remember(_COMMON, key, _with_bounds(trigger))
    return found


def _with_bounds(trigger: ActiveTrigger) -> _Common:
    version = _version(trigger)
    shape = version.shape
    bounds = None if shape is None else shape.bounds(trigger.params)
    return _Common(version, shape if bounds is not None else None, bounds)


def _version(trigger: ActiveTrigger) -> _Version:
    key = (trigger.rule_version_id, trigger.version)
    found = _VERSIONS.get(key)
    if found is None:
        found = _remember(_VERSIONS, key, _worked_out(trigger))
    return found


def _worked_out(trigger: ActiveTrigger) -> _Version:
    rule = compiled_version(trigger.rule_version_id, trigger.version, trigger.definition)
    d = rule.definition
    earlier = d.baseline_windows if rule.reads_baseline else int(rule.reads_previous)
    on_leave = d.rearm.mode == "on_leave"
    return _Version(
        rule,
        d.metric or "",
        d.window or "none",
        0 if d.window == "none" else earlier,
        None if on_leave else shape_of(rule.core),
    )


def _remember(memo: dict[K, V], key: K, value: V) -> V:
    if len(memo) >= _MAX_ENTRIES:
        memo.clear()
    memo[key] = value
    return value
