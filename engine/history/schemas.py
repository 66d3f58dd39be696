"""How history entries look from outside."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from engine.models import HistoryKind


class HistoryEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    occurred_at: datetime
    kind: HistoryKind
    channel: str | None
    notification_id: str | None
    summary: str
    data: dict[str, Any]
