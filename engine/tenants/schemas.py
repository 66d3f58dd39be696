"""Request and response shapes for tenants and keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

from engine.models import Role
from engine.platform.validation import (
    EmailAddress,
    LocaleTag,
    PhoneNumber,
    RequestModel,
    TimezoneName,
)

MAX_FEED_ROWS_PER_SECOND = 10_000_000


def _a_number(value: object) -> object:
    """Rows are a JSON number (1000 or 1000.0): text and true/false are errors, not rows."""
    if isinstance(value, bool | str):
        raise ValueError("must be a whole number of rows a second")
    return value


FeedRowsPerSecond = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_FEED_ROWS_PER_SECOND,
        description="Feed rows a second all the tenant's keys may send together, on average "
        "(ten seconds' worth at once; past it a feed gets 429 with Retry-After); 0: no limit. "
        "null: the platform default (NUDGE_FEED_ROWS_PER_SECOND).",
    ),
    BeforeValidator(_a_number),
]


class TenantCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    default_timezone: TimezoneName = "UTC"
    default_locale: LocaleTag = "en"
    email_from: EmailAddress | None = None
    sms_from: PhoneNumber | None = None
    help_text: str | None = Field(default=None, max_length=480)
    feed_rows_per_second: FeedRowsPerSecond | None = None


class TenantUpdate(RequestModel):
    """What the platform admin may change of a tenant; a field left out stays as it is."""

    feed_rows_per_second: FeedRowsPerSecond | None = None


class TenantPublic(BaseModel):
    id: str
    name: str
    default_timezone: str
    default_locale: str
    email_from: str | None
    sms_from: str | None
    help_text: str | None
    feed_rows_per_second: int | None = Field(
        description="The tenant's own feed allowance (rows a second; 0: no limit); null: the "
        "platform default applies."
    )
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
