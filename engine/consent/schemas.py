"""Request and response shapes for consent."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from engine.models import ChannelKind
from engine.validation import RequestModel


class ConsentChange(RequestModel):
    channel: ChannelKind
    topic: str = Field(default="*", min_length=1, max_length=100, pattern=r"^(\*|[a-z0-9_.-]+)$")
    granted: bool


class ConsentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    channel: str
    topic: str
    granted: bool
    source: str
    changed_at: datetime
