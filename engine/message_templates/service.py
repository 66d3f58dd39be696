"""Authoring message templates, previewing them, and choosing the one a message is sent with."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from engine.errors import Busy, Conflict, FieldError
from engine.message_templates.defaults import DefaultTemplates, default_templates
from engine.message_templates.repository import TemplateRepository
from engine.message_templates.schemas import (
    Channel,
    PreviewPublic,
    PreviewRequest,
    Source,
    TemplateCreate,
    TemplateKeyPublic,
    TemplatePublic,
    TemplateReportPublic,
    TemplateUpdate,
    TemplateWarning,
)
from engine.models import Template, Tenant
from engine.platform.clock import Clock
from engine.templating import (
    CHANNEL_PARTS,
    TemplateId,
    TemplateInvalid,
    TemplateNotFound,
    TemplateSet,
    TemplateUnsafe,
    formatting_locale,
    render,
    sample_context,
    select_template,
    validate,
)

PARTS_LOC = ("body", "parts")
UPDATE_ATTEMPTS = 8


class TemplateService:
    def __init__(
        self, repo: TemplateRepository, clock: Clock, defaults: DefaultTemplates | None = None
    ) -> None:
        self._repo = repo
        self.clock = clock
        self.defaults = defaults or default_templates()

    def create(self, tenant: Tenant, data: TemplateCreate) -> TemplatePublic:
        """Store a new variant; 422 if it does not validate, 409 if it exists already."""
        check_parts(data.channel, data.parts)
        self._repo.end_reads()  # the sample renders under no write lock
        report = self._report(tenant, data.key, data.channel, data.locale, data.parts)
        now = self.clock.now()
        row = self._repo.insert(tenant.id, data.key, data.channel, data.locale, data.parts, now)
        if row is None:
            where = f"{data.channel} template {data.key!r} for {data.locale}"
            raise Conflict(f"the {where} exists; PATCH it instead")
        return tenant_public(row, report)

    def update(self, tenant: Tenant, key: str, data: TemplateUpdate) -> TemplatePublic:
        """Replace the given parts of the tenant's variant (channel, locale) of ``key``. The
        merged parts render under no write lock; they are stored if the variant has not
        changed meanwhile, and merged and rendered again if it has."""
        for _ in range(UPDATE_ATTEMPTS):
            before = dict(self._variant(tenant, key, data).parts)
            check_parts(data.channel, data.parts, partial=True)
            parts = {**before, **data.parts}
            self._repo.end_reads()
            report = self._report(tenant, key, data.channel, data.locale, parts)
            row = self._variant(tenant, key, data, for_update=True)
            if row.parts == before:
                row.parts, row.updated_at = parts, self.clock.now()
                self._repo.save(row)
                return tenant_public(row, report)
        raise Busy("the template kept changing while it was being saved", retry_after=1)

    def _variant(
        self, tenant: Tenant, key: str, data: TemplateUpdate, *, for_update: bool = False
    ) -> Template:
        row = self._repo.get(tenant.id, key, data.channel, data.locale, for_update=for_update)
        if row is None:
            where = f"{data.channel} template {key!r} for {data.locale}"
            raise TemplateNotFound(detail=f"no {where}; POST /v1/templates to create it")
        return row

    def all(self, tenant: Tenant) -> list[TemplatePublic]:
        """The tenant's templates and every default it does not override."""
        return self._merged(tenant, self._repo.all(tenant.id), lambda _: True)

    def get(self, tenant: Tenant, key: str) -> TemplateKeyPublic:
        """Every channel and locale variant of ``key``; 404 if neither tenant nor defaults do."""
        variants = self._merged(tenant, self._repo.for_key(tenant.id, key), key.__eq__)
        if not variants:
            raise TemplateNotFound(detail=f"no template {key!r}")
        return TemplateKeyPublic(key=key, variants=variants)

    def preview(self, tenant: Tenant, key: str, request: PreviewRequest) -> PreviewPublic:
        """``key`` rendered as a customer in ``locale`` would get it, with sample values merged
        with ``request.context``. Stores and sends nothing."""
        locale = request.locale or tenant.default_locale
        timezone = request.timezone or tenant.default_timezone
        used, parts, source = self._resolve(
            tenant.id, key, request.channel, locale, tenant.default_locale
        )
        language = formatting_locale(locale, used, tenant.default_locale)
        context = merge(sample_context(key, language, timezone), request.context)
        message = render(parts, context, language, timezone)
        report = validate(
            parts, request.channel, sample=context, locale=language, timezone=timezone
        )
        return PreviewPublic(
            key=key,
            channel=request.channel,
            requested_locale=locale,
            locale=used,
            source=source,
            subject=message.subject,
            text=message.text,
            html=message.html,
            report=TemplateReportPublic.of(report),
        )

    def resolve(
        self,
        tenant_id: str,
        key: str,
        channel: str,
        locale: str,
        tenant_default_locale: str | None = None,
    ) -> tuple[str, TemplateSet]:
        """The parts to send ``key`` on ``channel`` with, and the locale they are written in.

        Walks ``de-AT`` → ``de`` → the tenant default → ``en``; at each step the tenant's own
        template beats the default. One query at most; `TemplateNotFound` if nothing fits.
        """
        used, parts, _ = self._resolve(tenant_id, key, channel, locale, tenant_default_locale)
        return used, parts

    def _resolve(
        self, tenant_id: str, key: str, channel: str, locale: str, tenant_default: str | None
    ) -> tuple[str, TemplateSet, Source]:
        own = self._repo.variants(tenant_id, key, channel)
        candidates: dict[TemplateId, TemplateSet] = {
            (key, channel, loc): parts
            for loc, parts in self.defaults.variants(key, channel).items()
        }
        candidates.update({(key, channel, loc): parts for loc, parts in own.items()})
        used, parts = select_template(candidates, key, channel, locale, tenant_default)
        return used, dict(parts), "tenant" if used in own else "default"

    def _report(
        self, tenant: Tenant, key: str, channel: str, locale: str, parts: Mapping[str, str]
    ) -> TemplateReportPublic:
        """Save-time checks (raising 422) and the report of what passed."""
        report = validate(
            parts, channel, rule_key=key, locale=locale, timezone=tenant.default_timezone
        )
        return TemplateReportPublic.of(report)

    def _stored_report(
        self, tenant: Tenant, key: str, channel: str, locale: str, parts: Mapping[str, str]
    ) -> TemplateReportPublic:
        """The report of a saved template; if it no longer validates, its errors as warnings."""
        try:
            return self._report(tenant, key, channel, locale, parts)
        except (TemplateInvalid, TemplateUnsafe) as exc:
            return TemplateReportPublic(variables=[], warnings=TemplateWarning.all(exc.errors))

    def _merged(
        self, tenant: Tenant, own: list[Template], wanted: Callable[[str], bool]
    ) -> list[TemplatePublic]:
        """The tenant's rows and the wanted defaults they do not override, in key order."""
        items = {
            (t.key, t.channel, t.locale): tenant_public(
                t, self._stored_report(tenant, t.key, t.channel, t.locale, t.parts)
            )
            for t in own
        }
        for template_id in self.defaults:
            if wanted(template_id[0]) and template_id not in items:
                items[template_id] = self._default_public(tenant, template_id)
        return [items[template_id] for template_id in sorted(items)]

    def _default_public(self, tenant: Tenant, template_id: TemplateId) -> TemplatePublic:
        key, channel, locale = template_id
        parts = self.defaults[template_id]
        return TemplatePublic(
            key=key,
            channel=cast(Channel, channel),
            locale=locale,
            source="default",
            parts=parts,
            report=self.defaults.memo(
                (template_id, tenant.default_timezone, self.clock.now().date()),
                lambda: self._stored_report(tenant, key, channel, locale, parts),
            ),
        )


def tenant_public(row: Template, report: TemplateReportPublic) -> TemplatePublic:
    return TemplatePublic(
        key=row.key,
        channel=cast(Channel, row.channel),
        locale=row.locale,
        source="tenant",
        parts=row.parts,
        report=report,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def check_parts(channel: str, parts: Mapping[str, str], *, partial: bool = False) -> None:
    """Every part ``channel`` needs (unless ``partial``) and no other; 422 naming each."""
    needed = CHANNEL_PARTS[channel]
    errors = [
        FieldError((*PARTS_LOC, name), f"{channel} templates have no {name!r} part", "unknown")
        for name in parts
        if name not in needed
    ]
    if not partial:
        errors += [
            FieldError((*PARTS_LOC, name), f"{channel} templates need a {name!r} part", "missing")
            for name in needed
            if name not in parts
        ]
    if errors:
        raise TemplateInvalid(detail="; ".join(e.msg for e in errors), errors=errors)


def merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` over ``base``, merging nested objects key by key."""
    merged = dict(base)
    for name, value in overrides.items():
        current = merged.get(name)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[name] = merge(current, value)
        else:
            merged[name] = value
    return merged
