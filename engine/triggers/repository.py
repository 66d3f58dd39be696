"""SQL for triggers as customers own them (their per-window state is evaluation's)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from engine.models import Notification, Trigger, TriggerState


class TriggerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, trigger: Trigger) -> None:
        self.session.add(trigger)
        self.session.flush()

    def get(self, customer_id: str, trigger_id: str, *, for_update: bool = False) -> Trigger | None:
        """The customer's trigger; ``for_update`` locks its row until the transaction ends
        (on PostgreSQL) so that concurrent changes queue instead of overwriting each other."""
        row = (
            self.session.get(Trigger, trigger_id, with_for_update=True, populate_existing=True)
            if for_update
            else self.session.get(Trigger, trigger_id)
        )
        if row is None or row.customer_id != customer_id or row.deleted_at is not None:
            return None
        return row

    def for_customer(self, customer_id: str) -> list[Trigger]:
        query = select(Trigger).where(
            Trigger.customer_id == customer_id, col(Trigger.deleted_at).is_(None)
        )
        return list(self.session.exec(query.order_by(col(Trigger.id))))

    def ids_for_rule(self, tenant_id: str, rule_key: str) -> list[str]:
        query = select(Trigger.id).where(
            Trigger.tenant_id == tenant_id, Trigger.rule_key == rule_key
        )
        return list(self.session.exec(query))

    def remove(self, trigger: Trigger, at: datetime) -> None:
        """Delete a trigger with its state. One that has notifications stays, disabled and
        marked deleted: they keep referring to it (the history must say what caused them)."""
        self.session.execute(delete(TriggerState).where(col(TriggerState.trigger_id) == trigger.id))
        notified = select(Notification.id).where(Notification.trigger_id == trigger.id).limit(1)
        if self.session.exec(notified).first() is None:
            self.session.delete(trigger)
        else:
            trigger.enabled, trigger.deleted_at = False, at
            self.session.add(trigger)
        self.session.flush()
