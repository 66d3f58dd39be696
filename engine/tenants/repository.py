"""SQL for tenants and API keys."""

from __future__ import annotations

from sqlmodel import Session, select

from engine.models import ApiKey, Tenant


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

    def epoch(self, tenant_id: str, *, hold: bool = False) -> int:
        """The tenant's configuration epoch (bumped by every change to its customers, triggers
        and rules). ``hold`` keeps the tenant's row share-locked until the transaction ends
        (PostgreSQL): such a change waits for this transaction, and this one for a change in
        progress, so a batch never works from a set of triggers that changes under it."""
        query = select(Tenant.config_epoch).where(Tenant.id == tenant_id)
        if hold:
            query = query.with_for_update(read=True)
        return int(self.session.exec(query).one())
