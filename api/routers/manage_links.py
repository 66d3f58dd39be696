"""A business hands a customer the link to their own page (the one every message carries)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from api.deps import BusinessTenant, ServicesDep
from api.middleware import secret_fields
from engine.platform.validation import RequestModel
from engine.portal.wiring import portal_access

router = APIRouter(prefix="/v1/customers", tags=["customers"])


class ManageLinkRequest(RequestModel):
    ttl_seconds: int | None = Field(default=None, ge=60, le=30 * 24 * 3600)


class ManageLink(BaseModel):
    url: str = Field(
        description="opens the customer's page after one click; share it only with that customer"
    )
    customer_id: str
    expires_at: datetime


@router.post("/{customer_id}/manage-link", status_code=status.HTTP_201_CREATED)
def mint_manage_link(
    customer_id: str,
    tenant: BusinessTenant,
    services: ServicesDep,
    response: Response,
    body: ManageLinkRequest | None = None,
) -> ManageLink:
    """A signed, expiring link to this customer's page (default lifetime: that of tokens)."""
    secret_fields(response, "url")
    customer = services.customers.get(tenant.id, customer_id)
    url, expires = portal_access(services).mint(customer, body.ttl_seconds if body else None)
    return ManageLink(url=url, customer_id=customer.id, expires_at=expires)
