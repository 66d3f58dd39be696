"""Customers choose published rules and turn them into triggers with their own parameters."""

from __future__ import annotations

import builtins
from typing import Any

from engine.catalog.compiled import CompiledRule, compiled_version
from engine.catalog.params import check_params as check_params  # also the pages' check
from engine.catalog.service import CatalogService
from engine.customers.refs import CustomerRef
from engine.errors import InvalidInput, NotFound
from engine.evaluation.active import ActiveTrigger
from engine.evaluation.occurrences import OccurrenceEvaluator
from engine.evaluation.status import TriggerWindows
from engine.history.service import HistoryService
from engine.ingest.catchup import Reminders, ScheduleCatchUp
from engine.ingest.phases import ATTEMPTS
from engine.models import Customer, HistoryKind, Rule, RuleStatus, Trigger
from engine.platform.clock import Clock
from engine.platform.ids import new_id
from engine.templating.locales import localized
from engine.triggers.repository import TriggerRepository
from engine.triggers.schemas import (
    ParameterPublic,
    RuleOffer,
    TriggerCreate,
    TriggerPublic,
    TriggerStatePublic,
    TriggerUpdate,
)


class TriggerService:
    def __init__(
        self,
        repo: TriggerRepository,
        catalog: CatalogService,
        history: HistoryService,
        clock: Clock,
        occurrences: OccurrenceEvaluator,
        windows: TriggerWindows,
        catch_up: ScheduleCatchUp,
    ) -> None:
        self._repo = repo
        self.occurrences = occurrences
        self.catalog = catalog
        self.history = history
        self.clock = clock
        self.windows = windows
        self.catch_up = catch_up

    def offers(self, customer: Customer) -> list[RuleOffer]:
        return [
            self._offer(rule, customer.locale)
            for rule in self.catalog.published(customer.tenant_id)
        ]

    def create(self, customer: Customer, data: TriggerCreate) -> Trigger:
        rule = self._published(customer.tenant_id, data.rule)
        params = check_params(rule.definition, data.params)
        trigger_id = new_id("trg")
        channels = [c.value for c in data.channels] if data.channels else None
        for attempt in range(ATTEMPTS):
            now, d = self.clock.now(), rule.definition
            trigger = Trigger(
                id=trigger_id,
                tenant_id=customer.tenant_id,
                customer_id=customer.id,
                rule_version_id=rule.version_id,
                rule_key=d.key,
                kind=d.kind,
                metric=d.metric,
                event_type=d.event_type,
                params=params,
                channels=channels,
                enabled=data.enabled,
                created_at=now,
                updated_at=now,
            )
            decided = self._decide(trigger, rule)
            self._repo.add(trigger)
            self._record(trigger, f"trigger created for rule {d.key}", {"params": params})
            if self._catch_up(customer, trigger, rule, decided):
                return trigger
            self.catch_up.again(attempt)
        raise AssertionError("unreachable: the last attempt raises Busy")

    def get(self, customer: Customer, trigger_id: str, *, for_update: bool = False) -> Trigger:
        trigger = self._repo.get(customer.id, trigger_id, for_update=for_update)
        if trigger is None:
            raise NotFound(f"trigger {trigger_id} not found")
        return trigger

    def list(self, customer: Customer) -> list[Trigger]:
        return self._repo.for_customer(customer.id)

    def update(self, customer: Customer, trigger_id: str, change: TriggerUpdate) -> Trigger:
        for attempt in range(ATTEMPTS):
            # Decided on a copy of the trigger as changed, then the change is made again on
            # the row locked for writing; the reminders apply only if the two agree.
            planned = Trigger.model_validate(self.get(customer, trigger_id).model_dump())
            planned_rule = self._change(planned, change)
            decided = self._decide(planned, planned_rule) if planned.enabled else None
            trigger = self.get(customer, trigger_id, for_update=True)
            rule = self._change(trigger, change)
            self._repo.add(trigger)
            self._record(
                trigger,
                f"trigger for rule {trigger.rule_key} changed",
                {"changes": change.model_dump(mode="json", exclude_unset=True)},
            )
            if not trigger.enabled:
                self.occurrences.cancel_open(trigger.id, "the trigger was turned off")
                return trigger
            if self._catch_up(customer, trigger, rule, decided):
                return trigger
            self.catch_up.again(attempt)
        raise AssertionError("unreachable: the last attempt raises Busy")

    def _change(self, trigger: Trigger, change: TriggerUpdate) -> CompiledRule:
        """Make ``change`` to ``trigger`` (not written yet); the rule version it then follows."""
        rule = self._rule_of(trigger)
        kept = trigger.params
        if change.upgrade:
            rule = self._published(trigger.tenant_id, trigger.rule_key)
            d = rule.definition
            trigger.rule_version_id = rule.version_id
            # The new version may watch another metric or event type, or drop a parameter.
            trigger.kind, trigger.metric, trigger.event_type = d.kind, d.metric, d.event_type
            kept = {k: v for k, v in trigger.params.items() if k in d.parameter_names}
        if change.params is not None or change.upgrade:
            trigger.params = check_params(rule.definition, {**kept, **(change.params or {})})
        if "channels" in change.model_fields_set:
            trigger.channels = [c.value for c in change.channels] if change.channels else None
        if change.enabled is not None:
            trigger.enabled = change.enabled
        trigger.updated_at = self.clock.now()
        return rule

    def delete(self, customer: Customer, trigger_id: str) -> None:
        trigger = self.get(customer, trigger_id, for_update=True)
        trigger.enabled = False
        self._record(trigger, f"trigger for rule {trigger.rule_key} deleted", {})
        self.occurrences.cancel_open(trigger.id, "the trigger was deleted")
        self._repo.remove(trigger, self.clock.now())

    def customer_moved(self, customer: Customer) -> None:
        """Rebuild the window totals a customer's threshold triggers read, in their new zone."""
        for trigger in self._repo.for_customer(customer.id):
            rule = self._rule_of(trigger)
            if trigger.enabled and rule.definition.kind == "threshold":
                self.windows.backfill(CustomerRef.of(customer), rule, self.clock.now())

    def erase_for(self, customer: Customer) -> None:
        """Erasure: the customer's triggers and the window totals they read go."""
        now = self.clock.now()
        for trigger in self._repo.for_customer(customer.id):
            self._repo.remove(trigger, now)
        self.windows.erase_for(customer.id)

    def export_for(self, customer: Customer) -> builtins.list[dict[str, Any]]:
        return [
            self.public(t, customer).model_dump(mode="json")
            for t in self._repo.for_customer(customer.id)
        ]

    def rule_retired(self, rule: Rule) -> None:
        """Cancel what the rule's triggers decided but did not send yet."""
        for trigger_id in self._repo.ids_for_rule(rule.tenant_id, rule.key):
            self.occurrences.cancel_open(trigger_id, "the rule was retired")

    def public(self, trigger: Trigger, customer: Customer) -> TriggerPublic:
        rule = self._rule_of(trigger)
        row = self.catalog.find(trigger.tenant_id, trigger.rule_key)
        return TriggerPublic(
            id=trigger.id,
            rule=trigger.rule_key,
            rule_version=rule.version,
            latest_version=row.latest_version if row else rule.version,
            rule_retired=row is None or row.status == RuleStatus.retired,
            kind=trigger.kind,
            params=trigger.params,
            channels=trigger.channels,
            enabled=trigger.enabled,
            state=self._state(trigger, rule, customer),
            created_at=trigger.created_at,
            updated_at=trigger.updated_at,
        )

    def _state(
        self, trigger: Trigger, rule: CompiledRule, customer: Customer
    ) -> TriggerStatePublic:
        found = self.windows.status(trigger.id, rule, CustomerRef.of(customer), self.clock.now())
        return TriggerStatePublic(
            status=found.status,
            last_value=found.last_value,
            window_start=found.window.start if found.window else None,
            window_end=found.window.end if found.window else None,
        )

    def _decide(self, trigger: Trigger, rule: CompiledRule) -> Reminders | None:
        """A schedule trigger's reminders for the due dates already known, decided on a
        snapshot before anything is written (no condition runs in a write transaction)."""
        if rule.definition.kind != "schedule":
            return None
        return self.catch_up.decide(_active(trigger, rule), trigger.event_type or "")

    def _catch_up(
        self, customer: Customer, trigger: Trigger, rule: CompiledRule, decided: Reminders | None
    ) -> bool:
        """Threshold: build the aggregates it reads. Schedule: remind of known due dates, as
        decided; False when what they were decided on has changed since."""
        if rule.definition.kind == "threshold":
            self.windows.backfill(CustomerRef.of(customer), rule, self.clock.now())
        elif decided is not None:
            return self.catch_up.apply(_active(trigger, rule), trigger.event_type or "", decided)
        return True

    def _published(self, tenant_id: str, key: str) -> CompiledRule:
        try:
            return self.catalog.latest_published(tenant_id, key)
        except NotFound:
            raise InvalidInput.at(("body", "rule"), f"no published rule {key!r}") from None

    def _rule_of(self, trigger: Trigger) -> CompiledRule:
        version = self.catalog.version_by_id(trigger.rule_version_id)
        assert version is not None
        return compiled_version(version.id, version.version, version.definition)

    def _record(self, trigger: Trigger, summary: str, data: dict[str, Any]) -> None:
        self.history.record(
            trigger.tenant_id,
            trigger.customer_id,
            HistoryKind.trigger,
            summary,
            {"trigger_id": trigger.id, **data},
        )

    @staticmethod
    def _offer(rule: CompiledRule, locale: str) -> RuleOffer:
        d = rule.definition
        return RuleOffer(
            key=d.key,
            version=rule.version,
            title=localized(dict(d.title), locale),
            description=localized(dict(d.description), locale),
            topic=d.topic,
            kind=d.kind,
            parameters=[
                ParameterPublic(
                    name=p.name,
                    type=p.type,
                    unit=p.unit,
                    min=p.min,
                    max=p.max,
                    default=p.default,
                    label=localized(dict(p.label), locale) or p.name,
                )
                for p in d.parameters
            ],
        )


def _active(trigger: Trigger, rule: CompiledRule) -> ActiveTrigger:
    return ActiveTrigger(
        trigger.id,
        trigger.tenant_id,
        trigger.customer_id,
        rule.version_id,
        rule.version,
        rule.definition.model_dump(mode="json"),
        trigger.params,
        trigger.channels,
    )
