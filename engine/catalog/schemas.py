"""Shapes of rules as ops staff see them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from engine.models import RuleStatus
from engine.validation import RequestModel, TimezoneName


class RuleVersionPublic(BaseModel):
    version: int
    published_at: datetime
    definition: dict[str, Any]


class RulePublic(BaseModel):
    key: str
    status: RuleStatus
    draft: dict[str, Any]
    latest_version: int
    created_at: datetime
    updated_at: datetime
    versions: list[RuleVersionPublic] = Field(default_factory=list)


class BacktestReading(RequestModel):
    start: AwareDatetime
    duration: int = Field(gt=0, le=366 * 86400, description="seconds")
    value: float


class BacktestRequest(RequestModel):
    params: dict[str, Any] = Field(default_factory=dict)
    customer_id: str | None = None
    readings: list[BacktestReading] | None = Field(default=None, max_length=200_000)
    timezone: TimezoneName | None = None
    version: int | None = Field(default=None, description="published version; default the draft")
