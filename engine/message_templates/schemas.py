"""Shapes of message templates as operations staff write and read them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from engine.errors import FieldError
from engine.platform.validation import JSONObject, LocaleTag, RequestModel, TimezoneName
from engine.templating import CONTEXT_VARIABLES, SmsSegments, TemplateReport

Channel = Literal["email", "sms", "voice"]
Source = Literal["tenant", "default"]
TEMPLATE_KEY = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
MAX_SOURCE_CHARS = 20_000
PartSource = Annotated[str, Field(max_length=MAX_SOURCE_CHARS)]
Parts = Annotated[
    dict[str, PartSource],
    Field(
        min_length=1,
        max_length=3,
        description="Part name → Jinja source. email: subject, text, html; sms and voice: text.",
    ),
]


class TemplateCreate(RequestModel):
    key: str = Field(pattern=TEMPLATE_KEY, max_length=120, examples=["energy.daily_above"])
    channel: Channel
    locale: LocaleTag = Field(examples=["de-AT"])
    parts: Parts


class TemplateUpdate(RequestModel):
    """Which variant to change (channel, locale) and the parts to replace in it."""

    channel: Channel
    locale: LocaleTag
    parts: Parts


class PreviewRequest(RequestModel):
    channel: Channel
    locale: LocaleTag | None = Field(default=None, description="default: the tenant's locale")
    timezone: TimezoneName | None = Field(default=None, description="default: the tenant's")
    context: JSONObject = Field(
        default_factory=dict,
        description='Values merged over the sample context, e.g. {"params": {"limit_kwh": 9}}',
    )

    @field_validator("context")
    @classmethod
    def _known_variables(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - CONTEXT_VARIABLES)
        if unknown:
            known = ", ".join(sorted(CONTEXT_VARIABLES))
            raise ValueError(f"unknown context variables {unknown} (available: {known})")
        return value


class SmsReport(BaseModel):
    encoding: Literal["GSM-7", "UCS-2"]
    characters: int
    units: int = Field(description="GSM-7 septets or UCS-2 code units")
    segments: int

    @classmethod
    def of(cls, sms: SmsSegments) -> SmsReport:
        return cls(
            encoding=sms.encoding, characters=sms.characters, units=sms.units, segments=sms.segments
        )


class TemplateWarning(BaseModel):
    field: str
    msg: str
    type: str

    @classmethod
    def all(cls, errors: Iterable[FieldError]) -> list[TemplateWarning]:
        return [cls(field=".".join(map(str, e.loc)), msg=e.msg, type=e.type) for e in errors]


class TemplateReportPublic(BaseModel):
    """What a template uses and how its sample renders; warnings never block saving."""

    variables: list[str]
    sms: SmsReport | None = None
    warnings: list[TemplateWarning] = Field(default_factory=list)

    @classmethod
    def of(cls, report: TemplateReport) -> TemplateReportPublic:
        return cls(
            variables=sorted(report.variables),
            sms=SmsReport.of(report.sms) if report.sms is not None else None,
            warnings=TemplateWarning.all(report.warnings),
        )


class TemplatePublic(BaseModel):
    key: str
    channel: Channel
    locale: str
    source: Source
    parts: dict[str, str]
    report: TemplateReportPublic
    created_at: datetime | None = None
    updated_at: datetime | None = None


class TemplateKeyPublic(BaseModel):
    """Every channel and locale variant of one template key, the tenant's over the defaults."""

    key: str
    variants: list[TemplatePublic]


class PreviewPublic(BaseModel):
    key: str
    channel: Channel
    requested_locale: str
    locale: str = Field(description="the locale of the template used (after fallback)")
    source: Source
    subject: str | None
    text: str
    html: str | None
    report: TemplateReportPublic
