"""SQL for delivery: claim due notifications under a lease, load what sending them needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, true, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from engine.consent.resolution import ConsentEntry
from engine.models import (
    OPEN_STATUSES,
    Consent,
    ContactPoint,
    Customer,
    DeliveryAttempt,
    Notification,
    NotificationStatus,
    Preferences,
    Rule,
    RuleVersion,
    Tenant,
)

_NOTIFICATIONS = Notification.__table__  # type: ignore[attr-defined]
# Built once: the dispatcher runs these for every group of sends.
_MARK_SENT = (
    update(_NOTIFICATIONS)
    .where(
        _NOTIFICATIONS.c.id == bindparam("n_id"), _NOTIFICATIONS.c.lease_owner == bindparam("owner")
    )
    .values(
        status=NotificationStatus.sent,
        sent_at=bindparam("sent_at"),
        reason=None,
        channel=bindparam("n_channel"),
        channel_index=bindparam("n_index"),
        escalate_at=bindparam("n_escalate"),
        lease_owner=None,
        lease_expires_at=None,
        updated_at=bindparam("sent_at"),
    )
)
_INSERT_ATTEMPT = insert(DeliveryAttempt.__table__)  # type: ignore[attr-defined]

# How many claims' worth of the earliest due notifications are ranked across tenants.
FAIR_WINDOW = 20


class DeliveryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def claim(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        skip_tenants: Sequence[str] = (),
        one_of: Sequence[str] = (),
    ) -> list[Notification]:
        """Take up to ``limit`` due notifications (or ones whose lease expired) for ``owner``,
        fairly across tenants: each tenant's due notifications are ranked by due time and the
        lowest ranks go first, so one tenant's backlog does not keep another's first one
        waiting. Ranked are the earliest ``FAIR_WINDOW`` × ``limit`` due notifications: a
        notification due after more than that many of others' waits for them. None of the
        ``skip_tenants``' are taken (the caller is still preparing their last ones), and at
        most one of each of the ``one_of`` tenants' (whose messages are slow to render).

        PostgreSQL skips rows other workers hold (``FOR UPDATE SKIP LOCKED``); SQLite runs
        one writer at a time, so its claim is exclusive by itself."""
        t = _NOTIFICATIONS.c
        due = or_(
            and_(t.status.in_(OPEN_STATUSES), t.due_at <= now),
            and_(t.status == NotificationStatus.sending, t.lease_expires_at < now),
        )
        if skip_tenants:
            due = and_(due, t.tenant_id.not_in(list(skip_tenants)))
        # Ranked among the earliest due only: the index gives them in due order, and ranking
        # every due row (100,000 in a backlog) costs a sort of all of them on each claim.
        earliest = (
            sa_select(t.id, t.tenant_id, t.due_at)
            .where(due)
            .order_by(t.due_at, t.id)
            .limit(limit * FAIR_WINDOW)
            .subquery("earliest")
        )
        e = earliest.c
        rank = func.row_number().over(partition_by=e.tenant_id, order_by=(e.due_at, e.id))
        ranked = sa_select(e.id, e.tenant_id, e.due_at, rank.label("rank")).subquery("ranked")
        order = (ranked.c.rank, ranked.c.due_at, ranked.c.id)
        allowed = (
            or_(ranked.c.rank == 1, ranked.c.tenant_id.not_in(list(one_of))) if one_of else true()
        )
        if self.postgres:
            # Row locks cannot be taken where the window is computed: lock the table's own
            # rows, still due when locked, in rank order.
            ids = (
                sa_select(t.id)
                .join(ranked, ranked.c.id == t.id)
                .where(due, allowed)
                .order_by(*order)
                .limit(limit)
                .with_for_update(skip_locked=True, of=_NOTIFICATIONS)
            )
        else:
            ids = sa_select(ranked.c.id).where(allowed).order_by(*order).limit(limit)
        statement = (
            update(Notification)
            .where(col(Notification.id).in_(ids.scalar_subquery()))
            .values(
                status=NotificationStatus.sending,
                lease_owner=owner,
                lease_expires_at=lease_until,
                updated_at=now,
            )
            .returning(Notification)
        )
        claimed = list(
            self.session.scalars(statement, execution_options={"synchronize_session": False})
        )
        return _fair_order(claimed)

    def release(self, ids: Sequence[str], owner: str, now: datetime) -> int:
        """Give claimed notifications back (graceful stop): due again at once."""
        if not ids:
            return 0
        result = self.session.execute(
            update(Notification)
            .where(
                col(Notification.id).in_(ids),
                col(Notification.lease_owner) == owner,
                col(Notification.status) == NotificationStatus.sending,
            )
            .values(
                status=NotificationStatus.pending,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def next_due(self) -> datetime | None:
        """When the earliest open notification is due, or an expired lease may be taken."""
        open_due = select(func.min(Notification.due_at)).where(
            col(Notification.status).in_(OPEN_STATUSES)
        )
        lease = select(func.min(Notification.lease_expires_at)).where(
            col(Notification.status) == NotificationStatus.sending
        )
        escalation = select(func.min(Notification.escalate_at)).where(
            col(Notification.escalate_at).is_not(None)
        )
        found = [self.session.execute(q).scalar() for q in (open_due, lease, escalation)]
        times = [t for t in found if t is not None]
        return min(times) if times else None

    def due_escalations(self, now: datetime, limit: int) -> list[Notification]:
        query = (
            select(Notification)
            .where(
                col(Notification.escalate_at) <= now, col(Notification.acknowledged_at).is_(None)
            )
            .order_by(col(Notification.escalate_at))
            .limit(limit)
        )
        if self.postgres:
            query = query.with_for_update(skip_locked=True)
        return list(self.session.exec(query))

    def customers(self, ids: Sequence[str]) -> dict[str, Customer]:
        query = select(Customer).where(col(Customer.id).in_(ids))
        return {c.id: c for c in self.session.exec(query)}

    def tenants(self, ids: Sequence[str]) -> dict[str, Tenant]:
        return {t.id: t for t in self.session.exec(select(Tenant).where(col(Tenant.id).in_(ids)))}

    def contacts(self, customer_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        query = select(ContactPoint).where(col(ContactPoint.customer_id).in_(customer_ids))
        for point in self.session.exec(query):
            found.setdefault(point.customer_id, {})[str(point.kind)] = point.address
        return found

    def consents(self, customer_ids: Sequence[str]) -> dict[str, list[ConsentEntry]]:
        found: dict[str, list[ConsentEntry]] = {}
        table = Consent.__table__  # type: ignore[attr-defined]
        columns = ("customer_id", "channel", "topic", "granted", "revision", "actor")
        query = sa_select(*(table.c[name] for name in columns)).where(
            table.c.customer_id.in_(customer_ids)
        )
        for customer_id, *fields in self.session.execute(query):
            found.setdefault(customer_id, []).append(ConsentEntry(*fields))
        return found

    def preferences(self, customer_ids: Sequence[str]) -> dict[str, Preferences]:
        query = select(Preferences).where(col(Preferences.customer_id).in_(customer_ids))
        return {p.customer_id: p for p in self.session.exec(query)}

    def rule_definitions(
        self, keys: Sequence[tuple[str, str, int]]
    ) -> dict[tuple[str, str, int], dict[str, Any]]:
        """Definitions by (tenant, rule key, version)."""
        found: dict[tuple[str, str, int], dict[str, Any]] = {}
        tenants = {k[0] for k in keys}
        query = (
            select(Rule.tenant_id, Rule.key, RuleVersion.version, RuleVersion.definition)
            .join(RuleVersion, col(RuleVersion.rule_id) == col(Rule.id))
            .where(col(Rule.tenant_id).in_(tenants), col(Rule.key).in_({k[1] for k in keys}))
        )
        for tenant_id, key, version, definition in self.session.execute(query):
            if (tenant_id, key, version) in keys:
                found[(tenant_id, key, version)] = dict(definition)
        return found

    def sent_times(
        self, customer_ids: Sequence[str], since: datetime
    ) -> list[tuple[str, str, datetime]]:
        """(customer, channel, when) of every message that left for these customers since
        ``since`` (for frequency caps)."""
        found: list[tuple[str, str, datetime]] = []
        for i in range(0, len(customer_ids), 500):
            query = (
                select(
                    col(Notification.customer_id),
                    col(DeliveryAttempt.channel),
                    col(DeliveryAttempt.started_at),
                )
                .join(Notification, col(Notification.id) == col(DeliveryAttempt.notification_id))
                .where(
                    col(Notification.customer_id).in_(customer_ids[i : i + 500]),
                    col(DeliveryAttempt.status) == "sent",
                    col(DeliveryAttempt.started_at) >= since,
                )
            )
            found.extend((c, ch, at) for c, ch, at in self.session.execute(query))
        return found

    def attempt_counts(self, notification_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        """How many attempts each notification has made on each channel, from its stored
        delivery attempts: the number of the next one, retry limits and backoff follow."""
        query = (
            sa_select(
                col(DeliveryAttempt.notification_id), col(DeliveryAttempt.channel), func.count()
            )
            .where(col(DeliveryAttempt.notification_id).in_(notification_ids))
            .group_by(col(DeliveryAttempt.notification_id), col(DeliveryAttempt.channel))
        )
        return {(n_id, channel): count for n_id, channel, count in self.session.execute(query)}

    def get(self, notification_id: str) -> Notification | None:
        return self.session.get(Notification, notification_id)

    def by_ids(self, ids: Sequence[str]) -> dict[str, Notification]:
        query = select(Notification).where(col(Notification.id).in_(ids))
        return {n.id: n for n in self.session.exec(query)}

    def save(self, row: Notification | DeliveryAttempt) -> None:
        self.session.add(row)

    def renew(self, ids: Sequence[str], owner: str, until: datetime) -> None:
        """Extend the leases this worker holds, so slow sends are not taken over."""
        if ids:
            self.session.execute(
                update(Notification)
                .where(
                    col(Notification.id).in_(ids),
                    col(Notification.lease_owner) == owner,
                    col(Notification.status) == NotificationStatus.sending,
                )
                .values(lease_expires_at=until)
            )

    def mark_sent(self, rows: Sequence[dict[str, Any]], owner: str) -> int:
        """Record many successful sends at once; only rows whose lease ``owner`` still holds."""
        if not rows:
            return 0
        params = [{**row, "owner": owner} for row in rows]
        result = self.session.connection().execute(_MARK_SENT, params)
        return int(getattr(result, "rowcount", 0) or 0)

    def add_attempts(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.session.connection().execute(_INSERT_ATTEMPT, list(rows))


def _fair_order(claimed: Sequence[Notification]) -> list[Notification]:
    """Each tenant's notifications by due time, the tenants taking turns: the order the
    claim ranked them in (``RETURNING`` keeps none)."""
    by_tenant: dict[str, list[Notification]] = {}
    for n in sorted(claimed, key=lambda n: (n.due_at, n.id)):
        by_tenant.setdefault(n.tenant_id, []).append(n)
    turns = [
        (rank, n.due_at, n.id, n) for rows in by_tenant.values() for rank, n in enumerate(rows)
    ]
    return [n for *_, n in sorted(turns, key=lambda turn: turn[:3])]
