"""SQL the console needs beyond the services it calls: triggers counted and moved by version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, text
from sqlalchemy.orm import undefer
from sqlmodel import Session, col, select

from engine.models import (
    Customer,
    DeliveryAttempt,
    HistoryEntry,
    Notification,
    RuleVersion,
    Trigger,
)
from engine.models.types import decoded


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


class ImpactRow(NamedTuple):
    """One complete window's final totals for one customer."""

    customer_id: str
    start: int
    end: int
    total: float
    samples: int
    low: float
    high: float
    last: float


class Subscriber(NamedTuple):
    customer_id: str
    params: dict[str, Any]
    timezone: str
    locale: str
    attributes: dict[str, Any]


class ImpactRepository:
    """The impact of a draft reads many rows: plain SQL, no ORM objects."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def subscribers(self, tenant_id: str, rule_key: str) -> list[Subscriber]:
        sql = text(
            "SELECT t.customer_id, t.params, c.timezone, c.locale, c.attributes "
            "FROM triggers t JOIN customers c ON c.id = t.customer_id "
            "WHERE t.tenant_id = :t AND t.rule_key = :k AND t.deleted_at IS NULL "
            "AND t.enabled = :on ORDER BY t.customer_id"
        )
        rows = self.session.execute(sql, {"t": tenant_id, "k": rule_key, "on": True})
        return [Subscriber(c, decoded(p), z, lo, decoded(a) or {}) for c, p, z, lo, a in rows]

    def customers_with_data(self, tenant_id: str, metric: str, since: int) -> list[Subscriber]:
        """Customers with readings of ``metric`` since ``since`` (epoch seconds)."""
        sql = text(
            "SELECT c.id, c.timezone, c.locale, c.attributes FROM customers c WHERE "
            "c.tenant_id = :t AND c.erased_at IS NULL AND EXISTS (SELECT 1 FROM readings r "
            "WHERE r.customer_id = c.id AND r.metric = :m AND r.start >= :s) ORDER BY c.id"
        )
        rows = self.session.execute(sql, {"t": tenant_id, "m": metric, "s": since})
        return [Subscriber(c, {}, z, lo, decoded(a) or {}) for c, z, lo, a in rows]

    def readings(
        self, customer_ids: Sequence[str], metric: str, since: int, until: int
    ) -> list[tuple[str, int, float]]:
        """(customer, start, value) of the readings starting in ``[since, until)``, in order."""
        sql = text(
            "SELECT customer_id, start, value FROM readings WHERE metric = :m AND start >= :s "
            "AND start < :u AND customer_id IN :ids ORDER BY customer_id, start"
        ).bindparams(bindparam("ids", expanding=True))
        params = {"m": metric, "s": since, "u": until, "ids": list(customer_ids)}
        return [(c, int(st), float(v)) for c, st, v in self.session.execute(sql, params).all()]

    def windows(
        self, customer_ids: Sequence[str], metric: str, window: str, since: int, until: int
    ) -> list[ImpactRow]:
        """Complete windows (ending by ``until``) starting from ``since``, by customer and
        start."""
        sql = text(
            'SELECT customer_id, start, "end", sum, count, min, max, last_value '
            'FROM window_aggregates WHERE metric = :m AND "window" = :w AND start >= :s '
            'AND "end" <= :u AND customer_id IN :ids ORDER BY customer_id, start'
        ).bindparams(bindparam("ids", expanding=True))
        params = {"m": metric, "w": window, "s": since, "u": until, "ids": list(customer_ids)}
        return [ImpactRow(*row) for row in self.session.execute(sql, params).all()]

    def decided_since(
        self, tenant_id: str, rule_key: str, since: datetime
    ) -> list[tuple[str, datetime, str, str]]:
        """(occurrence, created_at, customer, their zone) of every notification the rule
        decided since ``since``."""
        query = (
            select(
                Notification.occurrence,
                Notification.created_at,
                Notification.customer_id,
                Customer.timezone,
            )
            .join(Customer, col(Customer.id) == col(Notification.customer_id))
            .where(
                Notification.tenant_id == tenant_id,
                Notification.rule_key == rule_key,
                col(Notification.created_at) >= since,
            )
        )
        return [tuple(row) for row in self.session.exec(query)]  # type: ignore[misc]


@dataclass(frozen=True)
class DeliveryFilter:
    status: str | None = None
    channel: str | None = None
    rule_key: str | None = None
    customer_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class DeliveryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def notifications(
        self, tenant_id: str, where: DeliveryFilter, before_id: str | None, limit: int
    ) -> list[Notification]:
        """Newest first, strictly older than ``before_id``."""
        query = select(Notification).where(Notification.tenant_id == tenant_id)
        if where.status:
            query = query.where(Notification.status == where.status)
        if where.channel:
            query = query.where(Notification.channel == where.channel)
        if where.rule_key:
            query = query.where(Notification.rule_key == where.rule_key)
        if where.customer_id:
            query = query.where(Notification.customer_id == where.customer_id)
        if where.since:
            query = query.where(col(Notification.created_at) >= where.since)
        if where.until:
            query = query.where(col(Notification.created_at) < where.until)
        if before_id:
            query = query.where(Notification.id < before_id)
        query = query.order_by(col(Notification.id).desc()).limit(limit)
        return list(self.session.exec(query.options(undefer(Notification.attempts))))

    def get(
        self, tenant_id: str, notification_id: str, *, for_update: bool = False
    ) -> Notification | None:
        query = select(Notification).where(
            Notification.tenant_id == tenant_id, Notification.id == notification_id
        )
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.exec(query).first()

    def attempts(self, notification_id: str) -> list[DeliveryAttempt]:
        query = select(DeliveryAttempt).where(DeliveryAttempt.notification_id == notification_id)
        return list(self.session.exec(query.order_by(col(DeliveryAttempt.number))))

    def history(self, tenant_id: str, notification_id: str) -> list[HistoryEntry]:
        query = select(HistoryEntry).where(
            HistoryEntry.tenant_id == tenant_id, HistoryEntry.notification_id == notification_id
        )
        return list(self.session.exec(query.order_by(col(HistoryEntry.id))))

    def counts(self, tenant_id: str, since: datetime) -> list[tuple[str, str, int]]:
        """(channel or "", status, count) of the notifications decided since ``since``."""
        query = (
            select(Notification.channel, Notification.status, func.count())
            .where(Notification.tenant_id == tenant_id, col(Notification.created_at) >= since)
            .group_by(col(Notification.channel), col(Notification.status))
        )
        return [(str(c or ""), str(s), int(n)) for c, s, n in self.session.exec(query)]

    def save(self, row: Notification) -> None:
        self.session.add(row)
        self.session.flush()
