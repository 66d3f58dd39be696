"""What a feed batch answers."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RejectedRow(BaseModel):
    index: int
    reason: str
    field: str | None = None


class BatchResult(BaseModel):
    """Counts of one batch; accepted rows are durable when this is answered."""

    batch: str
    accepted: int = 0
    duplicate: int = 0
    corrected: int = 0
    rejected: int = 0
    rejections: list[RejectedRow] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    evaluated: int = 0
    notifications: int = 0
