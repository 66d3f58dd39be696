"""Shapes of triggers and of the rules a customer may choose from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from engine.models import ChannelKind
from engine.platform.validation import Flag, RequestModel


def _distinct(channels: list[ChannelKind] | None) -> list[ChannelKind] | None:
    if channels is not None and len(set(channels)) != len(channels):
        raise ValueError("each channel may appear once")
    return channels


class TriggerCreate(RequestModel):
    rule: str = Field(min_length=1, max_length=120, description="the rule's key")
    params: dict[str, Any] = Field(default_factory=dict)
    channels: list[ChannelKind] | None = Field(
        default=None,
        min_length=1,
        max_length=3,
        description="channel order for this trigger; default: the customer's preferences",
    )
    enabled: Flag = True

    _channels = field_validator("channels")(_distinct)


class TriggerUpdate(RequestModel):
    params: dict[str, Any] | None = None
    channels: list[ChannelKind] | None = Field(default=None, min_length=1, max_length=3)
    enabled: Flag | None = None
    upgrade: Flag = Field(default=False, description="move to the rule's latest published version")

    _channels = field_validator("channels")(_distinct)


class TriggerStatePublic(BaseModel):
    status: str = Field(description="armed or fired in the current window")
    window_start: datetime | None = None
    window_end: datetime | None = None
    last_value: float | None = None


class TriggerPublic(BaseModel):
    id: str
    rule: str
    rule_version: int
    latest_version: int
    rule_retired: bool
    kind: str
    params: dict[str, Any]
    channels: list[str] | None
    enabled: bool
    state: TriggerStatePublic
    created_at: datetime
    updated_at: datetime


class ParameterPublic(BaseModel):
    name: str
    type: str
    unit: str | None
    min: float | None
    max: float | None
    default: Any
    label: str


class RuleOffer(BaseModel):
    """A published rule as a customer sees it, in their language."""

    key: str
    version: int
    title: str
    description: str
    topic: str
    kind: str
    parameters: list[ParameterPublic]
