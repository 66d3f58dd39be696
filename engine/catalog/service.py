"""Authoring rules: create and edit drafts, publish immutable versions, retire."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.catalog.compiled import CompiledRule, check_definition, compiled_version
from engine.catalog.repository import RuleRepository
from engine.catalog.schemas import RulePublic, RuleVersionPublic
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import Rule, RuleStatus, RuleVersion
from engine.platform.clock import Clock
from engine.platform.ids import new_id


class CatalogService:
    def __init__(
        self,
        repo: RuleRepository,
        clock: Clock,
        on_retire: Callable[[Rule], None] = lambda rule: None,
    ) -> None:
        self._repo = repo
        self.clock = clock
        self.on_retire = on_retire

    def create(self, tenant_id: str, data: dict[str, Any]) -> Rule:
        definition = check_definition(data)
        exists = Conflict(f"a rule with key {definition.key!r} exists; PATCH it instead")
        if self._repo.get(tenant_id, definition.key) is not None:
            raise exists
        now = self.clock.now()
        rule = Rule(
            id=new_id("rul"),
            tenant_id=tenant_id,
            key=definition.key,
            status=RuleStatus.draft,
            draft=definition.model_dump(mode="json"),
            created_at=now,
            updated_at=now,
        )
        if not self._repo.insert(rule):
            raise exists
        return rule

    def get(self, tenant_id: str, key: str, *, for_update: bool = False) -> Rule:
        """The rule; ``for_update`` before changing it (concurrent changes queue)."""
        rule = self._repo.get(tenant_id, key, for_update=for_update)
        if rule is None:
            raise NotFound(f"rule {key!r} not found")
        return rule

    def update(self, tenant_id: str, key: str, changes: dict[str, Any]) -> Rule:
        """Merge ``changes`` into the draft (published versions never change)."""
        rule = self.get(tenant_id, key, for_update=True)
        if rule.status == RuleStatus.retired:
            raise Conflict(f"rule {key!r} is retired")
        if "key" in changes and changes["key"] != key:
            raise InvalidInput.at(("body", "key"), "a rule's key cannot change")
        definition = check_definition({**rule.draft, **changes})
        rule.draft = definition.model_dump(mode="json")
        rule.updated_at = self.clock.now()
        self._repo.add(rule)
        return rule

    def publish(self, tenant_id: str, key: str) -> Rule:
        rule = self.get(tenant_id, key, for_update=True)
        if rule.status == RuleStatus.retired:
            raise Conflict(f"rule {key!r} is retired")
        check_definition(rule.draft)
        latest = self._repo.version(rule.id, rule.latest_version)
        if latest is not None and latest.definition == rule.draft:
            raise Conflict(f"version {rule.latest_version} already has this definition")
        now = self.clock.now()
        rule.latest_version += 1
        self._repo.add(
            RuleVersion(
                id=new_id("rlv"),
                tenant_id=tenant_id,
                rule_id=rule.id,
                version=rule.latest_version,
                definition=rule.draft,
                published_at=now,
            )
        )
        rule.status, rule.updated_at = RuleStatus.published, now
        self._repo.add(rule)
        return rule

    def retire(self, tenant_id: str, key: str) -> Rule:
        """Retired rules are no longer offered, their triggers stop firing and what they had
        decided but not yet sent is cancelled."""
        rule = self.get(tenant_id, key, for_update=True)
        rule.status, rule.updated_at = RuleStatus.retired, self.clock.now()
        self._repo.add(rule)
        self.on_retire(rule)
        return rule

    def latest_published(self, tenant_id: str, key: str) -> CompiledRule:
        rule = self._repo.get(tenant_id, key)
        if rule is None or rule.status != RuleStatus.published:
            raise NotFound(f"no published rule {key!r}")
        return self.compiled(rule, rule.latest_version)

    def compiled(self, rule: Rule, version: int) -> CompiledRule:
        row = self._repo.version(rule.id, version)
        if row is None:
            raise NotFound(f"rule {rule.key!r} has no version {version}")
        return compiled_version(row.id, row.version, row.definition)

    def published(self, tenant_id: str) -> list[CompiledRule]:
        return [
            self.compiled(r, r.latest_version)
            for r in self._repo.all(tenant_id, RuleStatus.published)
        ]

    def all(self, tenant_id: str) -> list[Rule]:
        """Every rule of the tenant, whatever its status, by key."""
        return self._repo.all(tenant_id)

    def find(self, tenant_id: str, key: str) -> Rule | None:
        return self._repo.get(tenant_id, key)

    def version(self, rule: Rule, version: int) -> RuleVersion | None:
        return self._repo.version(rule.id, version)

    def version_by_id(self, version_id: str) -> RuleVersion | None:
        return self._repo.version_by_id(version_id)

    def save_tests(self, rule: Rule, tests: str | None) -> None:
        """The rule's test cases as the console's editor keeps them beside the draft."""
        rule.tests = tests
        self._repo.add(rule)

    def public(self, rule: Rule) -> RulePublic:
        versions = [
            RuleVersionPublic(
                version=v.version, published_at=v.published_at, definition=v.definition
            )
            for v in self._repo.versions(rule.id)
        ]
        return RulePublic(
            key=rule.key,
            status=rule.status,
            draft=rule.draft,
            latest_version=rule.latest_version,
            created_at=rule.created_at,
            updated_at=rule.updated_at,
            versions=versions,
        )
