"""Platform admin: tenants and their keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from api.deps import AdminDep, TenantServiceDep
from api.middleware import secret_fields
from api.routing import WorkRoute
from engine.tenants.allowances import FeedAllowances
from engine.tenants.schemas import (
    KeyCreate,
    KeyIssued,
    TenantCreate,
    TenantPublic,
    TenantUpdate,
)

router = APIRouter(prefix="/v1/tenants", tags=["tenants"], route_class=WorkRoute)


def feed_allowances(request: Request) -> FeedAllowances:
    """The process's directory of feed allowances (kept by the feed admission)."""
    allowances: FeedAllowances = request.app.state.feed_allowances
    return allowances


FeedAllowancesDep = Annotated[FeedAllowances, Depends(feed_allowances)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_tenant(body: TenantCreate, _: AdminDep, tenants: TenantServiceDep) -> TenantPublic:
    """Create a tenant (a business)."""
    return TenantPublic.model_validate(tenants.create_tenant(body), from_attributes=True)


@router.get("/{tenant_id}")
def get_tenant(tenant_id: str, _: AdminDep, tenants: TenantServiceDep) -> TenantPublic:
    return TenantPublic.model_validate(tenants.get_tenant(tenant_id), from_attributes=True)


@router.patch("/{tenant_id}")
def update_tenant(
    tenant_id: str,
    body: TenantUpdate,
    _: AdminDep,
    tenants: TenantServiceDep,
    allowances: FeedAllowancesDep,
) -> TenantPublic:
    """Change a tenant's feed allowance: `feed_rows_per_second` rows a second for all its
    feed keys together (0: no limit; null: the platform default). It applies to the next
    batch in this process and within five seconds in the others."""
    tenant = tenants.update_tenant(tenant_id, body, on_committed=allowances.forget)
    return TenantPublic.model_validate(tenant, from_attributes=True)


@router.post("/{tenant_id}/keys", status_code=status.HTTP_201_CREATED)
def create_key(
    tenant_id: str, body: KeyCreate, _: AdminDep, tenants: TenantServiceDep, response: Response
) -> KeyIssued:
    """Issue an ``ops`` or ``feed`` key. The key is in this answer only; store it now (a
    replay with the same ``Idempotency-Key`` answers its id and says it was shown once)."""
    secret_fields(response, "key")
    return tenants.create_tenant_key(tenant_id, body)
