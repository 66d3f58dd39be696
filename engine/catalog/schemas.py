"""Shapes of rules as ops staff see them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from engine.models import RuleStatus
from engine.platform.validation import EARLIEST, MAX_MAGNITUDE, RequestModel, TimezoneName


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


LATEST_SAMPLE = datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC)


class BacktestReading(RequestModel):
    start: AwareDatetime = Field(description="from 1970-01-01 to the end of 2199")
    duration: int = Field(gt=0, le=366 * 86400, description="seconds")
    value: float = Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)

    @field_validator("start")
    @classmethod
    def _in_range(cls, start: datetime) -> datetime:
        if not EARLIEST <= start <= LATEST_SAMPLE:
            raise ValueError(f"start must be from {EARLIEST.date()} to {LATEST_SAMPLE.date()}")
        return start


class BacktestRequest(RequestModel):
    params: dict[str, Any] = Field(default_factory=dict)
    customer_id: str | None = None
    readings: list[BacktestReading] | None = Field(default=None, max_length=200_000)
    timezone: TimezoneName | None = None
    version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="published version; default the draft"
    )
