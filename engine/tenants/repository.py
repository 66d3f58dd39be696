"""SQL for tenants and API keys."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import NoResultFound
from sqlmodel import Session, col, select

from engine.models import ApiKey, Tenant
from engine.platform.db import after_commit
from engine.platform.driver_sql import DriverStatements


class _TenantRows(DriverStatements):
    def epoch(self, tenant_id: str, hold: bool) -> int:
        """Through the driver: every ingested batch reads it twice, and the ORM's statement
        machinery cost more than the query (a third of a small batch's time)."""
        share = " FOR SHARE" if hold and not self.sqlite else ""
        sql = f"SELECT config_epoch FROM tenants WHERE id = {self.mark}{share}"
        found = self._query(sql, [tenant_id])
        if len(found) != 1:
            raise NoResultFound(f"no tenant {tenant_id!r}")
        return int(found[0][0])


class TenantRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: Tenant | ApiKey) -> None:
        self.session.add(row)
        self.session.flush()

    def get(self, tenant_id: str) -> Tenant | None:
        return self.session.get(Tenant, tenant_id)

    def get_key(self, key_id: str) -> ApiKey | None:
        return self.session.get(ApiKey, key_id)

    def feed_allowance_of_key(self, key_id: str) -> tuple[str, int | None] | None:
        """(tenant id, its feed allowance) of a tenant's unrevoked key; None for any other."""
        query = (
            select(Tenant.id, Tenant.feed_rows_per_second)
            .join(ApiKey, col(ApiKey.tenant_id) == Tenant.id)
            .where(ApiKey.id == key_id, col(ApiKey.revoked_at).is_(None))
        )
        row = self.session.exec(query).first()
        return None if row is None else (row[0], row[1])

    def after_commit(self, callback: Callable[[], None]) -> None:
        after_commit(self.session, callback)

    def epoch(self, tenant_id: str, *, hold: bool = False) -> int:
        """The tenant's configuration epoch (bumped by every change to its customers, triggers
        and rules). ``hold`` keeps the tenant's row share-locked until the transaction ends
        (PostgreSQL): such a change waits for this transaction, and this one for a change in
        progress, so a batch never works from a set of triggers that changes under it."""
        self.session.flush()  # a change pending in this session bumps the epoch once flushed
        return _TenantRows(self.session).epoch(tenant_id, hold)
