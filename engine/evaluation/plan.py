"""A threshold trigger with what evaluating it needs, worked out once and kept in the ingest
cache until the tenant's configuration changes."""

from __future__ import annotations

from typing import NamedTuple

from engine.catalog.compiled import CompiledRule, compiled_version
from engine.customers.refs import CustomerRef
from engine.evaluation.active import ActiveTrigger
from engine.evaluation.context import customer_context
from rules.context import Customer as CustomerContext
from rules.shapes import Bound, Shape, shape_of


class Plan(NamedTuple):
    """A trigger, its compiled rule version, its customer and the aggregate stream it reads."""

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
        rule = compiled_version(trigger.rule_version_id, trigger.version, trigger.definition)
        d = rule.definition
        earlier = d.baseline_windows if rule.reads_baseline else int(rule.reads_previous)
        stream = (trigger.customer_id, d.metric or "", d.window or "none")
        shape = _shape(trigger, rule)
        bounds = shape.bounds(trigger.params) if shape is not None else None
        return cls(
            trigger,
            rule,
            customer_context(customer),
            stream,
            0 if d.window == "none" else earlier,
            shape if bounds is not None else None,
            bounds,
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


# A rule version never changes: its shape is worked out once, not once per trigger.
_SHAPES: dict[tuple[str, int], Shape | None] = {}
_MAX_SHAPES = 4096


def _shape(trigger: ActiveTrigger, rule: CompiledRule) -> Shape | None:
    key = (trigger.rule_version_id, trigger.version)
    if key not in _SHAPES:
        if len(_SHAPES) >= _MAX_SHAPES:
            _SHAPES.clear()
        on_leave = rule.definition.rearm.mode == "on_leave"
        _SHAPES[key] = None if on_leave else shape_of(rule.core)
    return _SHAPES[key]
