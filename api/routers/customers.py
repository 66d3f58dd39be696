"""The business's view of its customers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import (
    AuthenticatorDep,
    BusinessCustomer,
    BusinessTenant,
    ConsentServiceDep,
    CustomerServiceDep,
    HistoryServiceDep,
    PrivacyServiceDep,
)
from api.middleware import secret_fields
from api.params import Cursor
from api.routing import WorkRoute
from engine.consent.resolution import BUSINESS
from engine.consent.schemas import BusinessConsentChange, ConsentPublic
from engine.customers.schemas import (
    CustomerCreate,
    CustomerPublic,
    CustomerUpdate,
    TokenIssued,
    TokenRequest,
)
from engine.history.schemas import HistoryEntryPublic
from engine.models import HistoryKind
from engine.platform.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/v1/customers", tags=["customers"], route_class=WorkRoute)
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_customer(
    body: CustomerCreate, tenant: BusinessTenant, customers: CustomerServiceDep
) -> CustomerPublic:
    return customers.public(customers.create(tenant, body))


@router.get("")
def list_customers(
    tenant: BusinessTenant,
    customers: CustomerServiceDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    external_id: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[CustomerPublic]:
    """All customers, oldest first; ``external_id`` looks one up by the business's own id."""
    if external_id is not None:
        found = customers.find_by_external_id(tenant.id, external_id)
        return Page(items=[customers.public(found)] if found else [])
    return customers.page(tenant.id, cursor, limit)


@router.get("/{customer_id}")
def get_customer(
    customer_id: str, tenant: BusinessTenant, customers: CustomerServiceDep
) -> CustomerPublic:
    return customers.public(customers.get(tenant.id, customer_id))


@router.patch("/{customer_id}")
def update_customer(
    customer_id: str, body: CustomerUpdate, tenant: BusinessTenant, customers: CustomerServiceDep
) -> CustomerPublic:
    customer = customers.get(tenant.id, customer_id)
    return customers.public(customers.update(customer, body, by="business"))


@router.delete("/{customer_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_customer(customer: BusinessCustomer, privacy: PrivacyServiceDep) -> Response:
    """Erase the customer's personal data, keeping an anonymous tombstone."""
    privacy.erase(customer, by="business")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{customer_id}/consents")
def customer_consents(
    customer: BusinessCustomer, consent: ConsentServiceDep
) -> list[ConsentPublic]:
    return [ConsentPublic.model_validate(c) for c in consent.list(customer.id)]


@router.post("/{customer_id}/consents")
def record_consent(
    body: BusinessConsentChange, customer: BusinessCustomer, consent: ConsentServiceDep
) -> list[ConsentPublic]:
    """Record a consent the business holds. A grant after the customer's own revocation is
    refused (409, naming the revocation) unless ``source`` says where the customer gave it."""
    consent.set(
        customer.tenant_id,
        customer.id,
        body.channel,
        body.topic,
        body.granted,
        source="business",
        actor=BUSINESS,
        evidence=body.source,
    )
    return [ConsentPublic.model_validate(c) for c in consent.list(customer.id)]


@router.post("/{customer_id}/tokens", status_code=status.HTTP_201_CREATED)
def issue_token(
    customer: BusinessCustomer,
    auth: AuthenticatorDep,
    response: Response,
    body: TokenRequest | None = None,
) -> TokenIssued:
    """A signed, expiring token that lets this one customer act on ``/v1/me``. The token is
    in this answer only: a replay with the same ``Idempotency-Key`` says it was shown once."""
    secret_fields(response, "token")
    ttl = body.ttl_seconds if body else None
    token = auth.issue_customer_token(customer.tenant_id, customer.id, ttl)
    return TokenIssued(token=token.token, customer_id=customer.id, expires_at=token.expires_at)


@router.get("/{customer_id}/history")
def customer_history(
    customer: BusinessCustomer,
    history: HistoryServiceDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    channel: str | None = None,
    kind: Annotated[list[HistoryKind] | None, Query()] = None,
) -> Page[HistoryEntryPublic]:
    """The customer's conversation history, newest first."""
    return history.page(customer.id, cursor, limit, channel, kind or [])
