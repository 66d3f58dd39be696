"""SQL for rules and rule versions."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.models import Rule, RuleStatus, RuleVersion


class RuleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: Rule | RuleVersion) -> None:
        self.session.add(row)
        self.session.flush()

    def get(self, tenant_id: str, key: str, *, for_update: bool = False) -> Rule | None:
        """The rule; with ``for_update`` its row stays locked until the transaction ends, so
        a read-modify-write never overwrites a concurrent one (PostgreSQL; SQLite runs one
        writer at a time anyway)."""
        query = select(Rule).where(Rule.tenant_id == tenant_id, Rule.key == key)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.exec(query).first()

    def insert(self, rule: Rule) -> bool:
        """Insert a new rule; False if one with its key exists (or was just committed)."""
        try:
            with self.session.begin_nested():
                self.session.add(rule)
        except IntegrityError:
            return False
        return True

    def all(self, tenant_id: str, status: RuleStatus | None = None) -> list[Rule]:
        query = select(Rule).where(Rule.tenant_id == tenant_id)
        if status is not None:
            query = query.where(Rule.status == status)
        return list(self.session.exec(query.order_by(col(Rule.key))))

    def versions(self, rule_id: str) -> list[RuleVersion]:
        query = select(RuleVersion).where(RuleVersion.rule_id == rule_id)
        return list(self.session.exec(query.order_by(col(RuleVersion.version))))

    def version(self, rule_id: str, version: int) -> RuleVersion | None:
        query = select(RuleVersion).where(
            RuleVersion.rule_id == rule_id, RuleVersion.version == version
        )
        return self.session.exec(query).first()

    def version_by_id(self, version_id: str) -> RuleVersion | None:
        return self.session.get(RuleVersion, version_id)

    def rule_by_id(self, rule_id: str) -> Rule | None:
        return self.session.get(Rule, rule_id)
