"""Templates as the console shows them: every rule's template per channel and locale with
the missing ones flagged, and a live preview of unsaved parts for a chosen customer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError

from engine.catalog.service import CatalogService
from engine.channels.twilio.twiml import build_twiml
from engine.errors import FieldError, InvalidInput
from engine.message_templates.schemas import TemplateCreate, TemplatePublic, TemplateUpdate
from engine.message_templates.service import TemplateService
from engine.models import Customer, Tenant
from engine.templating import SmsSegments, formatting_locale, sample_context, validate
from engine.templating.errors import TemplateNotFound

CHANNELS = ("email", "sms", "voice")


@dataclass(frozen=True)
class Matrix:
    keys: list[str]
    locales: list[str]
    cells: dict[tuple[str, str, str], str]  # (key, channel, locale) -> "tenant" | "default"

    def source(self, key: str, channel: str, locale: str) -> str | None:
        return self.cells.get((key, channel, locale))

    @property
    def missing(self) -> int:
        every = len(self.keys) * len(CHANNELS) * len(self.locales)
        return every - len(self.cells)


@dataclass
class LivePreview:
    subject: str | None = None
    text: str = ""
    html: str | None = None
    sms: SmsSegments | None = None
    twiml: str | None = None
    warnings: list[FieldError] = field(default_factory=list)


class ConsoleTemplates:
    def __init__(self, templates: TemplateService, catalog: CatalogService) -> None:
        self.templates = templates
        self.catalog = catalog

    def matrix(self, tenant: Tenant) -> Matrix:
        variants = self.templates.all(tenant)
        rule_keys = {str(r.draft.get("template_key")) for r in self.catalog.all(tenant.id)}
        keys = sorted(rule_keys | {v.key for v in variants})
        locales = sorted({tenant.default_locale, "en", "de"} | {v.locale for v in variants})
        cells: dict[tuple[str, str, str], str] = {
            (v.key, str(v.channel), v.locale): str(v.source) for v in variants
        }
        return Matrix(keys, locales, cells)

    def parts(self, tenant: Tenant, key: str, channel: str, locale: str) -> dict[str, str]:
        """The parts to start editing from: this variant's, or what it falls back to now."""
        try:
            variants = self.templates.get(tenant, key).variants
        except TemplateNotFound:
            variants = []
        exact = [v for v in variants if v.channel == channel and v.locale == locale]
        if exact:
            return dict(exact[0].parts)
        try:
            _, found = self.templates.resolve(
                tenant.id, key, channel, locale, tenant.default_locale
            )
        except TemplateNotFound:
            return {"text": ""} if channel != "email" else {"subject": "", "text": "", "html": ""}
        return dict(found)

    def preview(
        self,
        tenant: Tenant,
        key: str,
        channel: str,
        locale: str,
        parts: dict[str, str],
        customer: Customer | None,
    ) -> LivePreview:
        """Raises TemplateInvalid or TemplateUnsafe naming each part that fails, InvalidInput
        for parts the JSON API would refuse (over 20,000 characters)."""
        _checked(lambda: TemplateUpdate(channel=channel, locale=locale, parts=parts))
        timezone = customer.timezone if customer else tenant.default_timezone
        language = formatting_locale(customer.locale if customer else locale, locale)
        context: dict[str, Any] = sample_context(key, language, timezone)
        if customer is not None:
            context["customer"] = {
                "name": customer.name or context["customer"]["name"],
                "locale": customer.locale,
                "timezone": customer.timezone,
                "attributes": dict(customer.attributes or {}),
            }
        report = validate(parts, channel, sample=context, locale=language, timezone=timezone)
        shown = LivePreview(sms=report.sms, warnings=list(report.warnings))
        if report.sample is not None:
            shown.subject, shown.text = report.sample.subject, report.sample.text
            shown.html = report.sample.html
            if channel == "voice":
                shown.twiml = build_twiml(report.sample.text, language)
        return shown

    def save(
        self, tenant: Tenant, key: str, channel: Any, locale: str, parts: dict[str, str]
    ) -> TemplatePublic:
        """The tenant's own variant: created the first time, its parts replaced after; the
        parts checked as the JSON API checks them (InvalidInput naming the part otherwise)."""
        try:
            own = [
                v
                for v in self.templates.get(tenant, key).variants
                if v.channel == channel and v.locale == locale and v.source == "tenant"
            ]
        except TemplateNotFound:
            own = []
        if own:
            change = _checked(lambda: TemplateUpdate(channel=channel, locale=locale, parts=parts))
            return self.templates.update(tenant, key, change)
        body = _checked(
            lambda: TemplateCreate(key=key, channel=channel, locale=locale, parts=parts)
        )
        return self.templates.create(tenant, body)


Body = TypeVar("Body", TemplateCreate, TemplateUpdate)


def _checked(build: Callable[[], Body]) -> Body:
    """The JSON API's body for what the console's editor holds; InvalidInput naming each
    field (``body.parts.text``) where the API would answer 422."""
    try:
        return build()
    except ValidationError as exc:
        raise _invalid(exc) from None


def _invalid(exc: ValidationError) -> InvalidInput:
    errors = [FieldError(("body", *e["loc"]), e["msg"], e["type"]) for e in exc.errors()]
    return InvalidInput("; ".join(e.msg for e in errors[:5]), errors)
