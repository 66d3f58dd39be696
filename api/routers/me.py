"""The customer's own view: profile, consent, preferences, history, export, erasure."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import Field

from api.deps import (
    ConsentServiceDep,
    CurrentCustomer,
    CustomerServiceDep,
    HistoryServiceDep,
    PreferencesServiceDep,
    PrivacyServiceDep,
)
from api.params import Cursor
from api.routing import WorkRoute
from engine.consent.schemas import ConsentCellPublic, ConsentChange, ConsentPublic, cell_public
from engine.customers.schemas import CustomerPublic, CustomerUpdate
from engine.history.schemas import HistoryEntryPublic
from engine.models import ChannelKind, HistoryKind
from engine.platform.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from engine.platform.validation import LocaleTag, RequestModel, TimezoneName
from engine.preferences.schemas import PreferencesPublic, PreferencesUpdate

router = APIRouter(prefix="/v1/me", tags=["me"], route_class=WorkRoute)


class ProfileUpdate(RequestModel):
    name: str | None = Field(default=None, max_length=200)
    locale: LocaleTag | None = None
    timezone: TimezoneName | None = None


@router.get("")
def get_me(customer: CurrentCustomer, customers: CustomerServiceDep) -> CustomerPublic:
    return customers.public(customer)


@router.patch("")
def update_me(
    body: ProfileUpdate, customer: CurrentCustomer, customers: CustomerServiceDep
) -> CustomerPublic:
    change = CustomerUpdate.model_validate(body.model_dump(exclude_unset=True))
    return customers.public(customers.update(customer, change, by="customer"))


@router.get("/consents")
def list_consents(customer: CurrentCustomer, consent: ConsentServiceDep) -> list[ConsentPublic]:
    return [ConsentPublic.model_validate(c) for c in consent.list(customer.id)]


@router.get("/consents/grid")
def consent_grid(customer: CurrentCustomer, consent: ConsentServiceDep) -> list[ConsentCellPublic]:
    """Every channel × topic: whether it may carry messages now, and which consent decides."""
    return [cell_public(cell) for cell in consent.grid(customer.tenant_id, customer.id)]


@router.post("/consents")
def change_consent(
    body: ConsentChange, customer: CurrentCustomer, consent: ConsentServiceDep
) -> list[ConsentPublic]:
    """Grant or revoke one channel for all topics (``*``) or one topic; answers all consents.
    The latest word wins: revoking ``*`` covers every topic granted before it."""
    consent.set(
        customer.tenant_id, customer.id, body.channel, body.topic, body.granted, source="api"
    )
    return [ConsentPublic.model_validate(c) for c in consent.list(customer.id)]


@router.get("/preferences")
def get_preferences(
    customer: CurrentCustomer, preferences: PreferencesServiceDep
) -> PreferencesPublic:
    return preferences.get(customer.id)


@router.patch("/preferences")
def update_preferences(
    body: PreferencesUpdate, customer: CurrentCustomer, preferences: PreferencesServiceDep
) -> PreferencesPublic:
    return preferences.update(customer.tenant_id, customer.id, body)


@router.get("/history")
def my_history(
    customer: CurrentCustomer,
    history: HistoryServiceDep,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    channel: ChannelKind | None = None,
    kind: Annotated[list[HistoryKind] | None, Query()] = None,
) -> Page[HistoryEntryPublic]:
    """Everything that happened between this customer and the business, newest first."""
    return history.page(customer.id, cursor, limit, channel, kind or [])


@router.get("/export")
def export_me(customer: CurrentCustomer, privacy: PrivacyServiceDep) -> dict[str, Any]:
    """All data held about this customer, as JSON."""
    return privacy.export(customer)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
def erase_me(customer: CurrentCustomer, privacy: PrivacyServiceDep) -> Response:
    """Erase personal data; an anonymous tombstone keeps counts true. This token stops working."""
    privacy.erase(customer, by="customer")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
