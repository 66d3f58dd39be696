"""Platform admin: tenants and their keys."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import AdminDep, TenantServiceDep
from api.middleware import secret_fields
from engine.tenants.schemas import KeyCreate, KeyIssued, TenantCreate, TenantPublic

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_tenant(body: TenantCreate, _: AdminDep, tenants: TenantServiceDep) -> TenantPublic:
    """Create a tenant (a business)."""
    return TenantPublic.model_validate(tenants.create_tenant(body), from_attributes=True)


@router.get("/{tenant_id}")
def get_tenant(tenant_id: str, _: AdminDep, tenants: TenantServiceDep) -> TenantPublic:
    return TenantPublic.model_validate(tenants.get_tenant(tenant_id), from_attributes=True)


@router.post("/{tenant_id}/keys", status_code=status.HTTP_201_CREATED)
def create_key(
    tenant_id: str, body: KeyCreate, _: AdminDep, tenants: TenantServiceDep, response: Response
) -> KeyIssued:
    """Issue an ``ops`` or ``feed`` key. The key is in this answer only; store it now (a
    replay with the same ``Idempotency-Key`` answers its id and says it was shown once)."""
    secret_fields(response, "key")
    return tenants.create_tenant_key(tenant_id, body)
