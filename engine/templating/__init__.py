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
from engine.templating.locales import fallback_chain, resolve_locale, to_babel, to_bcp47
from engine.templating.render import CHANNEL_PARTS, RenderedMessage, render
from engine.templating.sms import SmsSegments, count_segments
from engine.templating.validate import TemplateReport, validate

__all__ = [
    "CHANNEL_PARTS",
    "CONTEXT_VARIABLES",
    "Formatter",
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
    "count_segments",
    "fallback_chain",
    "load_default_templates",
    "render",
    "resolve_locale",
    "sample_context",
    "select_template",
    "templates_dir",
    "to_babel",
    "to_bcp47",
    "validate",
]
