"""SQL for rules and rule versions."""

from __future__ import annotations

from sqlmodel import Session, col, select

from engine.models import Rule, RuleStatus, RuleVersion


class RuleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: Rule | RuleVersion) -> None:
        self.session.add(row)
        self.session.flush()

    def get(self, tenant_id: str, key: str) -> Rule | None:
        query = select(Rule).where(Rule.tenant_id == tenant_id, Rule.key == key)
        return self.session.exec(query).first()

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
