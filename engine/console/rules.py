"""Rules as the console shows them: versions with their trigger counts, side-by-side
comparison of two versions, and moving triggers to the latest version."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.catalog.service import CatalogService
from engine.console.repository import ConsoleRepository
from engine.errors import InvalidInput, NotFound
from engine.history.service import HistoryService
from engine.models import HistoryKind, Rule
from engine.platform.clock import Clock
from engine.triggers.service import check_params


@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    triggers: dict[int, int] = field(default_factory=dict)  # version -> live triggers

    @property
    def on_older(self) -> int:
        return sum(n for v, n in self.triggers.items() if v != self.rule.latest_version)


@dataclass(frozen=True)
class Difference:
    field: str
    left: str
    right: str

    @property
    def changed(self) -> bool:
        return self.left != self.right


@dataclass(frozen=True)
class Moved:
    version: int
    moved: int
    kept: int


class ConsoleRules:
    def __init__(
        self,
        catalog: CatalogService,
        repo: ConsoleRepository,
        history: HistoryService,
        clock: Clock,
    ) -> None:
        self.catalog = catalog
        self._repo = repo
        self.history = history
        self.clock = clock

    def overview(self, tenant_id: str) -> list[RuleRow]:
        counts = self._repo.triggers_per_version(tenant_id)
        rows = []
        for rule in sorted(self.catalog.all(tenant_id), key=lambda r: r.key):
            mine = {v: n for (key, v), n in counts.items() if key == rule.key}
            rows.append(RuleRow(rule, mine))
        return rows

    def row(self, tenant_id: str, key: str) -> RuleRow:
        rule = self.catalog.get(tenant_id, key)
        counts = self._repo.triggers_per_version(tenant_id)
        return RuleRow(rule, {v: n for (k, v), n in counts.items() if k == key})

    def definition(self, rule: Rule, version: int) -> dict[str, Any]:
        """A version's definition; 0 is the draft."""
        if version == 0:
            return dict(rule.draft)
        row = self.catalog.version(rule, version)
        if row is None:
            raise NotFound(f"rule {rule.key!r} has no version {version}")
        return dict(row.definition)

    def compare(self, rule: Rule, left: int, right: int) -> list[Difference]:
        a, b = self.definition(rule, left), self.definition(rule, right)
        flat_a, flat_b = _flatten(a), _flatten(b)
        names = sorted(set(flat_a) | set(flat_b))
        return [Difference(n, flat_a.get(n, ""), flat_b.get(n, "")) for n in names]

    def move_triggers(self, tenant_id: str, key: str, who: str) -> Moved:
        """Every live trigger on an older version moves to the latest one, if its values
        fit the latest version's parameters; the others stay where they are."""
        rule = self.catalog.get(tenant_id, key, for_update=True)
        latest = self.catalog.version(rule, rule.latest_version)
        if latest is None:
            raise InvalidInput.at(("path", "key"), "the rule has no published version")
        compiled = self.catalog.compiled(rule, rule.latest_version)
        moved = kept = 0
        now = self.clock.now()
        for trigger in self._repo.triggers_before(tenant_id, key, latest.id):
            try:
                params = check_params(compiled.definition, trigger.params)
            except InvalidInput:
                kept += 1
                continue
            trigger.rule_version_id, trigger.params, trigger.updated_at = latest.id, params, now
            self._repo.save(trigger)
            self.history.record(
                tenant_id,
                trigger.customer_id,
                HistoryKind.trigger,
                f"moved to version {latest.version} of {key}",
                {"trigger_id": trigger.id, "version": latest.version, "by": who},
            )
            moved += 1
        return Moved(latest.version, moved, kept)


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """``{"rearm": {"mode": "x"}}`` → ``{"rearm.mode": "x"}``; lists as JSON-ish text."""
    import json

    if isinstance(value, dict):
        flat: dict[str, str] = {}
        for k, v in value.items():
            flat.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return flat
    if isinstance(value, list):
        return {prefix: json.dumps(value, ensure_ascii=False, indent=1)}
    return {prefix: "" if value is None else str(value)}
