"""Shapes of preferences: channel order, quiet hours, frequency caps, urgent override."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from engine.models import ChannelKind
from engine.platform.validation import Flag, LocalTime, RequestModel

ALL_DAYS = [0, 1, 2, 3, 4, 5, 6]


class QuietPeriod(RequestModel):
    """Local times; ``end`` before ``start`` wraps midnight. Days: 0 = Monday … 6 = Sunday,
    the day on which the period starts."""

    start: LocalTime
    end: LocalTime
    days: list[int] = Field(
        default_factory=lambda: list(ALL_DAYS),
        min_length=1,
        max_length=7,
        json_schema_extra={"items": {"type": "integer", "minimum": 0, "maximum": 6}},
    )

    @field_validator("days")
    @classmethod
    def _days(cls, days: list[int]) -> list[int]:
        if any(d < 0 or d > 6 for d in days) or len(set(days)) != len(days):
            raise ValueError("days are distinct numbers 0 (Monday) to 6 (Sunday)")
        return sorted(days)

    @model_validator(mode="after")
    def _not_empty(self) -> QuietPeriod:
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self


class FrequencyCap(RequestModel):
    max: int = Field(ge=1, le=1000)
    per: Literal["hour", "day", "week"] = "day"


class PreferencesUpdate(RequestModel):
    """A JSON Merge Patch (RFC 7396) of the preferences: what is not named stays as it is;
    ``null`` removes the customer's own setting and brings back the default. Quiet hours and
    caps merge per channel: ``{"quiet_hours": {"sms": null}}`` touches SMS only, and an
    empty list means no quiet hours at all on that channel."""

    channel_order: list[ChannelKind] | None = Field(default=None, min_length=1, max_length=3)
    quiet_hours: dict[ChannelKind, list[QuietPeriod] | None] | None = None
    frequency_caps: dict[ChannelKind, FrequencyCap | None] | None = None
    urgent_override: Flag | None = None
    paused_until: AwareDatetime | None = Field(
        default=None, description="nothing is sent before this instant; null resumes"
    )

    @field_validator("paused_until", mode="before")
    @classmethod
    def _an_instant_in_words(cls, value: object) -> object:
        # Not a number of seconds, which would be read as 1970 and pause nothing.
        if value is not None and not isinstance(value, str | datetime):
            raise ValueError("an ISO 8601 date and time with its offset, or null")
        return value

    @field_validator("channel_order")
    @classmethod
    def _distinct(cls, order: list[ChannelKind] | None) -> list[ChannelKind] | None:
        if order is not None and len(set(order)) != len(order):
            raise ValueError("each channel may appear once")
        return order


class PreferencesPublic(BaseModel):
    """The preferences in force: the customer's own settings over the defaults.
    ``quiet_hours_origin`` says per channel whether its quiet hours are the customer's own
    or the default."""

    channel_order: list[ChannelKind]
    quiet_hours: dict[ChannelKind, list[QuietPeriod]]
    quiet_hours_origin: dict[ChannelKind, Literal["customer", "default"]] = Field(
        default_factory=dict
    )
    frequency_caps: dict[ChannelKind, FrequencyCap]
    urgent_override: bool
    paused_until: datetime | None = None
    updated_at: datetime | None


DEFAULT_CHANNEL_ORDER = [ChannelKind.email, ChannelKind.sms, ChannelKind.voice]
DEFAULT_QUIET_HOURS = {ChannelKind.voice: [QuietPeriod(start="21:00", end="08:00")]}
