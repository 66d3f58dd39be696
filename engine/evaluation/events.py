"""Event rules: a matching business event fires once."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from engine.catalog.compiled import CompiledRule
from engine.customers.refs import CustomerRef
from engine.evaluation.active import ActiveTrigger
from engine.evaluation.context import event_condition_context
from engine.evaluation.kinds import Verdict
from engine.evaluation.notices import Notices
from engine.models import Event
from engine.templating.locales import localized
from rules.condition import evaluate


class EventRule:
    name: ClassVar[str] = "event"

    def __init__(self, notices: Notices) -> None:
        self.notices = notices

    def decide(
        self,
        trigger: ActiveTrigger,
        rule: CompiledRule,
        event: Event,
        customer: CustomerRef,
        now: datetime,
    ) -> Verdict:
        if event.status != "active":
            return Verdict(now, False)
        result = evaluate(rule.condition, event_condition_context(trigger, event, customer, now))
        return Verdict(now, bool(result.result), dict(result.values))

    def apply(
        self,
        trigger: ActiveTrigger,
        rule: CompiledRule,
        event: Event,
        customer: CustomerRef,
        verdict: Verdict,
    ) -> int:
        if not verdict.holds:
            return 0
        title = localized(dict(rule.definition.title), customer.locale)
        summary = f"{title}: event {event.type} matched"
        return self.notices.write(
            trigger, rule, event, "fire", verdict.now, verdict.values, summary
        )
