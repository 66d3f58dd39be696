"""A business hands a customer the link to their own page (the one every message carries)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from api.deps import BusinessCustomer, PortalAccessDep
from api.middleware import secret_fields
from engine.platform.validation import RequestModel

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
    customer: BusinessCustomer,
    access: PortalAccessDep,
    response: Response,
    body: ManageLinkRequest | None = None,
) -> ManageLink:
    """A signed, expiring link to this customer's page (default lifetime: that of tokens)."""
    secret_fields(response, "url")
    url, expires = access.mint(customer, body.ttl_seconds if body else None)
    return ManageLink(url=url, customer_id=customer.id, expires_at=expires)
