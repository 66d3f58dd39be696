"""SQL the console needs beyond the services it calls: triggers counted and moved by version."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from engine.models import RuleVersion, Trigger


class ConsoleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def triggers_per_version(self, tenant_id: str) -> dict[tuple[str, int], int]:
        """Live triggers by (rule key, version)."""
        query = (
            select(Trigger.rule_key, RuleVersion.version, func.count())
            .join(RuleVersion, col(RuleVersion.id) == col(Trigger.rule_version_id))
            .where(Trigger.tenant_id == tenant_id, col(Trigger.deleted_at).is_(None))
            .group_by(col(Trigger.rule_key), col(RuleVersion.version))
        )
        return {(key, version): count for key, version, count in self.session.exec(query)}

    def triggers_before(self, tenant_id: str, rule_key: str, version_id: str) -> list[Trigger]:
        """Live triggers of a rule on any version but ``version_id``, locked to be moved."""
        query = (
            select(Trigger)
            .where(
                Trigger.tenant_id == tenant_id,
                Trigger.rule_key == rule_key,
                col(Trigger.deleted_at).is_(None),
                Trigger.rule_version_id != version_id,
            )
            .order_by(col(Trigger.id))
            .with_for_update()
        )
        return list(self.session.exec(query))

    def save(self, trigger: Trigger) -> None:
        self.session.add(trigger)
        self.session.flush()
