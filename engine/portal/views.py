"""What the customer's page shows of their alerts and of the rules they may choose, in the
page's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.catalog.compiled import CompiledRule, compiled_version
from engine.catalog.service import CatalogService
from engine.models import Customer, Notification, Trigger
from engine.portal.preview import limit_parameter
from engine.portal.repository import PortalRepository
from engine.templating.locales import localized
from engine.triggers.schemas import TriggerPublic
from engine.triggers.service import TriggerService


@dataclass(frozen=True)
class RuleView:
    key: str
    title: str
    description: str
    kind: str
    window: str | None
    compiled: CompiledRule


@dataclass(frozen=True)
class AlertView:
    trigger: TriggerPublic
    rule: RuleView
    limit: float | None
    unit: str | None
    next_reminder: datetime | None


class PortalViews:
    def __init__(
        self, triggers: TriggerService, catalog: CatalogService, repo: PortalRepository
    ) -> None:
        self.triggers = triggers
        self.catalog = catalog
        self._repo = repo

    def offers(self, customer: Customer, lang: str) -> list[RuleView]:
        return [rule_view(r, lang) for r in self.catalog.published(customer.tenant_id)]

    def offer(self, customer: Customer, key: str, lang: str) -> RuleView:
        """A published rule (NotFound otherwise)."""
        return rule_view(self.catalog.latest_published(customer.tenant_id, key), lang)

    def alerts(self, customer: Customer, lang: str) -> list[AlertView]:
        rows = self.triggers.list(customer)
        due = self._repo.next_due([t.id for t in rows])
        return [self._alert(customer, t, lang, due.get(t.id)) for t in rows]

    def alert(self, customer: Customer, trigger_id: str, lang: str) -> AlertView:
        """One of the customer's alerts (NotFound for anyone else's)."""
        trigger = self.triggers.get(customer, trigger_id)
        due = self._repo.next_due([trigger.id])
        return self._alert(customer, trigger, lang, due.get(trigger.id))

    def notification(self, customer: Customer, notification_id: str) -> Notification | None:
        """One of the customer's own notifications (None for anyone else's)."""
        return self._repo.notification(customer.id, notification_id)

    def rule_of(self, trigger: Trigger, lang: str) -> RuleView:
        version = self.catalog.version_by_id(trigger.rule_version_id)
        assert version is not None
        return rule_view(compiled_version(version.id, version.version, version.definition), lang)

    def rule_title(self, tenant_id: str, key: str, version: int, lang: str) -> str:
        """A rule version's title (its key if the rule is gone)."""
        definition = self._definition(tenant_id, key, version)
        return localized(dict(definition.get("title") or {}), lang) or key

    def parameter_labels(self, tenant_id: str, key: str, version: int, lang: str) -> dict[str, str]:
        """A rule version's parameters by their labels in ``lang``, with their units."""
        labels = {}
        for spec in self._definition(tenant_id, key, version).get("parameters") or []:
            label = localized(dict(spec.get("label") or {}), lang) or spec["name"]
            labels[spec["name"]] = f"{label} ({spec['unit']})" if spec.get("unit") else label
        return labels

    def _definition(self, tenant_id: str, key: str, version: int) -> dict[str, Any]:
        rule = self.catalog.find(tenant_id, key)
        found = self.catalog.version(rule, version) if rule is not None else None
        return dict(found.definition) if found is not None else {}

    def _alert(
        self, customer: Customer, trigger: Trigger, lang: str, due: datetime | None
    ) -> AlertView:
        rule = self.rule_of(trigger, lang)
        limit = limit_parameter(rule.compiled)
        value: Any = trigger.params.get(limit[0]) if limit else None
        return AlertView(
            self.triggers.public(trigger, customer),
            rule,
            float(value) if isinstance(value, int | float) else None,
            limit[1] if limit else None,
            due,
        )


def rule_view(rule: CompiledRule, lang: str) -> RuleView:
    d = rule.definition
    return RuleView(
        d.key,
        localized(dict(d.title), lang),
        localized(dict(d.description), lang),
        d.kind,
        d.window,
        rule,
    )
