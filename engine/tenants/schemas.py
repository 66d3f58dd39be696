"""Request and response shapes for tenants and keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from engine.models import Role
from engine.platform.validation import (
    EmailAddress,
    LocaleTag,
    PhoneNumber,
    RequestModel,
    TimezoneName,
)


class TenantCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    default_timezone: TimezoneName = "UTC"
    default_locale: LocaleTag = "en"
    email_from: EmailAddress | None = None
    sms_from: PhoneNumber | None = None
    help_text: str | None = Field(default=None, max_length=480)


class TenantPublic(BaseModel):
    id: str
    name: str
    default_timezone: str
    default_locale: str
    email_from: str | None
    sms_from: str | None
    help_text: str | None
    created_at: datetime


class KeyCreate(RequestModel):
    role: Literal[Role.ops, Role.feed]  # admin keys come from the settings, never from here
    name: str = Field(default="", max_length=200)


class KeyIssued(BaseModel):
    """A new key: ``key`` is shown this once and never again."""

    id: str
    tenant_id: str | None
    role: Role
    name: str
    key: str
    created_at: datetime
