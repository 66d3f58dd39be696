"""Request and response shapes for customers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from engine.models import ChannelKind
from engine.platform.validation import (
    EmailAddress,
    Flag,
    JSONObject,
    LocaleTag,
    PhoneNumber,
    RequestModel,
    TimezoneName,
)


class InitialConsent(RequestModel):
    """Consent the business already holds (e.g. given at sign-up)."""

    channel: ChannelKind
    topic: str = Field(default="*", min_length=1, max_length=100)
    granted: Flag = True


class CustomerCreate(RequestModel):
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    locale: LocaleTag | None = None
    timezone: TimezoneName | None = None
    email: EmailAddress | None = None
    phone: PhoneNumber | None = None
    attributes: JSONObject = Field(default_factory=dict)
    consents: list[InitialConsent] = Field(default_factory=list, max_length=50)


class CustomerUpdate(RequestModel):
    """Fields to change; an explicit ``null`` for email or phone removes that contact point."""

    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    locale: LocaleTag | None = None
    timezone: TimezoneName | None = None
    email: EmailAddress | None = None
    phone: PhoneNumber | None = None
    attributes: JSONObject | None = None


class CustomerPublic(BaseModel):
    id: str
    external_id: str | None
    name: str | None
    locale: str
    timezone: str
    email: str | None
    phone: str | None
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class TokenRequest(RequestModel):
    ttl_seconds: int | None = Field(default=None, ge=60, le=30 * 24 * 3600)


class TokenIssued(BaseModel):
    token: str
    token_type: str = "Bearer"
    customer_id: str
    expires_at: datetime
