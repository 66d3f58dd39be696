"""Message templating: sandboxed Jinja2 templates per rule, channel and locale (SPEC §4)."""

from __future__ import annotations

from engine.templating.context import CONTEXT_VARIABLES, RenderContext, sample_context
from engine.templating.errors import (
    TemplateInvalid,
    TemplateNotFound,
    TemplateRenderFailed,
    TemplateUnsafe,
)
from engine.templating.formatting import Formatter
from engine.templating.loader import (
    TemplateId,
    TemplateSet,
    load_default_templates,
    select_template,
    templates_dir,
)
from engine.templating.locales import (
    Language,
    choose_language,
    fallback_chain,
    formatting_locale,
    localized,
    resolve_locale,
    to_babel,
    to_bcp47,
)
from engine.templating.render import CHANNEL_PARTS, RenderedMessage, render
from engine.templating.sms import SmsSegments, count_segments
from engine.templating.validate import TemplateReport, validate

__all__ = [
    "CHANNEL_PARTS",
    "CONTEXT_VARIABLES",
    "Formatter",
    "Language",
    "RenderContext",
    "RenderedMessage",
    "SmsSegments",
    "TemplateId",
    "TemplateInvalid",
    "TemplateNotFound",
    "TemplateRenderFailed",
    "TemplateReport",
    "TemplateSet",
    "TemplateUnsafe",
    "choose_language",
    "count_segments",
    "fallback_chain",
    "formatting_locale",
    "load_default_templates",
    "localized",
    "render",
    "resolve_locale",
    "sample_context",
    "select_template",
    "templates_dir",
    "to_babel",
    "to_bcp47",
    "validate",
]
