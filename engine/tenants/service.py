"""Creating tenants and issuing keys."""

from __future__ import annotations

from collections.abc import Callable

from engine.errors import NotFound
from engine.models import ApiKey, Role, Tenant
from engine.platform.clock import Clock
from engine.platform.ids import new_id
from engine.platform.security import KEY_PREFIX, issue_key
from engine.tenants.allowances import KeyTenant
from engine.tenants.repository import TenantRepository
from engine.tenants.schemas import KeyCreate, KeyIssued, TenantCreate, TenantUpdate


class TenantService:
    def __init__(self, repo: TenantRepository, clock: Clock) -> None:
        self._repo = repo
        self.clock = clock

    def create_tenant(self, data: TenantCreate) -> Tenant:
        tenant = Tenant(id=new_id("ten"), created_at=self.clock.now(), **data.model_dump())
        self._repo.add(tenant)
        return tenant

    def get_tenant(self, tenant_id: str) -> Tenant:
        tenant = self._repo.get(tenant_id)
        if tenant is None:
            raise NotFound(f"tenant {tenant_id} not found")
        return tenant

    def update_tenant(
        self,
        tenant_id: str,
        data: TenantUpdate,
        on_committed: Callable[[str], None] = lambda _: None,
    ) -> Tenant:
        """Change the fields ``data`` sets (null: back to the default); ``on_committed`` is
        told the tenant's id once the change is committed (caches forget it then)."""
        tenant = self.get_tenant(tenant_id)
        for name, value in data.model_dump(exclude_unset=True).items():
            setattr(tenant, name, value)
        self._repo.add(tenant)
        self._repo.after_commit(lambda: on_committed(tenant_id))
        return tenant

    def feed_allowance_of_key(self, key_id: str) -> KeyTenant | None:
        """The tenant of a feed (or ops) key and its own feed allowance; None for a key that
        is unknown, revoked or the platform's."""
        found = self._repo.feed_allowance_of_key(key_id)
        return None if found is None else KeyTenant(*found)

    def find(self, tenant_id: str) -> Tenant | None:
        return self._repo.get(tenant_id)

    def find_key(self, key_id: str) -> ApiKey | None:
        return self._repo.get_key(key_id)

    def create_tenant_key(self, tenant_id: str, data: KeyCreate) -> KeyIssued:
        self.get_tenant(tenant_id)
        return self._issue(tenant_id, data.role, data.name)

    def create_admin_key(self, name: str = "") -> KeyIssued:
        return self._issue(None, Role.admin, name)

    def _issue(self, tenant_id: str | None, role: Role, name: str) -> KeyIssued:
        issued = issue_key(new_id(KEY_PREFIX.rstrip("_")))
        row = ApiKey(
            id=issued.key_id,
            tenant_id=tenant_id,
            role=role,
            name=name,
            secret_hash=issued.secret_hash,
            created_at=self.clock.now(),
        )
        self._repo.add(row)
        return KeyIssued(
            id=row.id,
            tenant_id=tenant_id,
            role=role,
            name=name,
            key=issued.plaintext,
            created_at=row.created_at,
        )
